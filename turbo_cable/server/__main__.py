"""``python -m turbo_cable.server module:application [--host H] [--port P]``.

Any ASGI application under the cable's own server, as ``runcable`` runs the cable's:
for checking the server itself against others with the same application.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import sys

from turbo_cable.conf import CableSettings
from turbo_cable.server.serve import run


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m turbo_cable.server")
    parser.add_argument("application", help="module:attribute of an ASGI application")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8001)
    parser.add_argument("--max-frame-size", type=int, default=CableSettings.MAX_FRAME_SIZE)
    options = parser.parse_args(argv)
    module, _, attribute = options.application.partition(":")
    application = getattr(importlib.import_module(module), attribute or "application")
    logging.basicConfig(level=logging.INFO, format="%(levelname)s: %(message)s")
    return run(application, options.host, options.port, options.max_frame_size)


if __name__ == "__main__":
    sys.exit(main())
