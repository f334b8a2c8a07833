"""What close code a client sees for an RFC 6455 code the cable asks for.

daphne refuses application close codes other than 1000 and 3000-4999, so the
cable falls back to the private-use twin there (see ``asgi_close_codes``).
"""

from __future__ import annotations

from tests.servers import LiveServer
from turbo_cable.cable import asgi_close_codes


def expected_close_code(server: LiveServer, code: int) -> int:
    tried = asgi_close_codes(code)
    return tried[-1] if server.kind == "daphne" else tried[0]
