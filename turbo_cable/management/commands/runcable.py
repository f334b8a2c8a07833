"""``manage.py runcable``: the cable in a process of its own, beside a WSGI site.

It serves ``CABLE_PATH``, ``BROADCAST_PATH`` and ``HEALTH_PATH`` with the same code
as the ASGI route (:mod:`turbo_cable.standalone`), on the cable's own server
(:mod:`turbo_cable.server`; ``--server uvicorn`` for uvicorn with the cable's
protocol class), and answers 404 to everything else. It checks the options and the
cable's settings here, then replaces this process (which ``manage.py`` has filled with
every installed app) with :mod:`turbo_cable.cable_server`, which reads the settings
only and never the site's URLconf or views, so it starts fast and stays small.
Several of them on one Redis (``--backend redis://...``) share streams and history.
"""

from __future__ import annotations

import os
from typing import Any

from django.core.exceptions import ImproperlyConfigured
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import autoreload

from turbo_cable.cable_server import (
    DEFAULT_HOST,
    DEFAULT_PORT,
    DEFAULT_SERVER,
    LOG_LEVELS,
    SERVERS,
    become_cable_server,
    not_started,
    port_number,
    serve,
)
from turbo_cable.checks import CABLE_TAG
from turbo_cable.conf import replace_settings

INSTALL_HINT = "pip install 'django-turbo-cable[uvicorn]'"


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
            type=port_number,
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
            help="The server's log level (default info: start and stop; under uvicorn "
            "also every WebSocket accepted, so warning on a busy server).",
        )
        parser.add_argument(
            "--server",
            choices=SERVERS,
            default=DEFAULT_SERVER,
            help="builtin (default): the cable's own server, the leanest and fastest; "
            "uvicorn: uvicorn with the cable's protocol class.",
        )
        parser.add_argument(
            "--reload",
            action="store_true",
            help="Restart when Python files change (development only; off by default; "
            "the process keeps every installed app loaded).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options["server"] == "uvicorn":
            try:
                import uvicorn  # noqa: F401  (the server this command runs)

                import turbo_cable.uvicorn_protocol  # noqa: F401
            except ImportError as exc:
                raise CommandError(
                    f"runcable --server uvicorn runs the cable under uvicorn, which cannot "
                    f"be imported ({exc}). Install it with: {INSTALL_HINT}"
                ) from exc
        if options["backend"]:
            try:
                replace_settings(BACKEND=options["backend"])
            except ImproperlyConfigured as exc:
                raise CommandError(f"--backend {options['backend']!r}: {exc}") from exc
        self.check(tags=[CABLE_TAG])
        if options["reload"]:
            autoreload.run_with_reloader(self.serve, **options)
        elif os.name == "posix":
            self.stdout.flush()
            become_cable_server(
                options["host"],
                options["port"],
                options["log_level"],
                options["backend"],
                options["server"],
            )
        else:  # where exec starts another process instead, serve from this one
            self.serve(**options)

    def serve(self, **options: Any) -> None:
        host, port = options["host"], options["port"]
        status = serve(
            host, port, options["log_level"], write=self.stdout.write, server=options["server"]
        )
        if status:
            raise CommandError(not_started(host, port), returncode=status)
