"""``manage.py runcable``: the cable in a process of its own, beside a WSGI site.

It serves ``CABLE_PATH``, ``BROADCAST_PATH`` and ``HEALTH_PATH`` with the same code
as the ASGI route (:mod:`turbo_cable.standalone`), under uvicorn with the cable's
protocol class, and answers 404 to everything else. It loads the settings and the
installed apps, never the site's URLconf or views, so it starts fast and stays small.
Several of them on one Redis (``--backend redis://...``) share streams and history.
"""

from __future__ import annotations

import argparse
from typing import Any

from django.core.exceptions import ImproperlyConfigured
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import autoreload

from turbo_cable.checks import CABLE_TAG
from turbo_cable.conf import get_settings, replace_settings

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8001  # beside runserver's 8000, so both run on one machine as they are
LOG_LEVELS = ("critical", "error", "warning", "info", "debug", "trace")
INSTALL_HINT = "pip install 'django-turbo-cable[uvicorn]'"


def _port(value: str) -> int:
    if not value.isdigit() or not 0 < int(value) < 65536:
        raise argparse.ArgumentTypeError(f"must be a port number from 1 to 65535, not {value!r}")
    return int(value)


class Command(BaseCommand):
    help = (
        "Serve the turbo_cable WebSocket, the broadcast endpoint and the health check "
        "in a process of their own (every other path is 404), for sites served by WSGI "
        "and for scaling the cable apart from the pages."
    )
    # Django's full checks import the URLconf, which this process never loads: it runs
    # the cable's own (settings, backend) in handle().
    requires_system_checks: list[str] = []

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--host", default=DEFAULT_HOST, help=f"Address to listen on (default {DEFAULT_HOST})."
        )
        parser.add_argument(
            "--port",
            type=_port,
            default=DEFAULT_PORT,
            help=f"Port to listen on (default {DEFAULT_PORT}).",
        )
        parser.add_argument(
            "--backend",
            help="Overrides TURBO_CABLE['BACKEND'], e.g. redis://127.0.0.1:6379/0.",
        )
        parser.add_argument(
            "--log-level",
            choices=LOG_LEVELS,
            default="info",
            help="uvicorn's log level (default info, which logs every WebSocket accepted; "
            "warning on a busy server).",
        )
        parser.add_argument(
            "--reload",
            action="store_true",
            help="Restart when Python files change (development only; off by default).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            import uvicorn  # noqa: F401  (the server this command runs)

            import turbo_cable.uvicorn_protocol  # noqa: F401
        except ImportError as exc:
            raise CommandError(
                f"runcable runs the cable under uvicorn, which cannot be imported ({exc}). "
                f"Install it with: {INSTALL_HINT}"
            ) from exc
        if options["backend"]:
            try:
                replace_settings(BACKEND=options["backend"])
            except ImproperlyConfigured as exc:
                raise CommandError(f"--backend {options['backend']!r}: {exc}") from exc
        self.check(tags=[CABLE_TAG])
        if options["reload"]:
            autoreload.run_with_reloader(self.serve, **options)
        else:
            self.serve(**options)

    def serve(self, **options: Any) -> None:
        import uvicorn

        from turbo_cable.standalone import get_cable_application
        from turbo_cable.uvicorn_protocol import WebSocketProtocol

        host, port = options["host"], options["port"]
        settings = get_settings()
        config = uvicorn.Config(
            get_cable_application(),
            host=host,
            port=port,
            ws=WebSocketProtocol,
            ws_per_message_deflate=False,  # Turbo Stream fragments are too small to gain
            ws_ping_interval=0,  # the cable pings and drops silent sockets itself
            access_log=False,
            log_level=options["log_level"],
            lifespan="on",
        )
        origin = f"{host}:{port}" if ":" not in host else f"[{host}]:{port}"
        self.stdout.write(
            f"Serving the cable on ws://{origin}{settings.CABLE_PATH} "
            f"(broadcasts: POST http://{origin}{settings.BROADCAST_PATH}, health: "
            f"GET {settings.HEALTH_PATH}; every other path is 404)."
        )
        server = uvicorn.Server(config)
        server.run()
        if not server.started:
            raise CommandError(f"runcable could not start on {origin}; see the log above.")
