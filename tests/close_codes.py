"""What close code a client sees for an RFC 6455 code the cable asks for.

daphne refuses application close codes other than 1000 and 3000-4999, so the
cable falls back to the private-use twin (4000 + code % 1000) there.
"""

from __future__ import annotations

from tests.servers import LiveServer


def expected_close_code(server: LiveServer, code: int) -> int:
    if server.kind == "daphne" and code != 1000 and not 3000 <= code <= 4999:
        return 4000 + code % 1000
    return code
