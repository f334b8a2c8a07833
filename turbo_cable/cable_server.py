"""``python -m turbo_cable.cable_server``: the lean process ``manage.py runcable`` becomes.

``runcable`` parses its options and runs the cable's checks in a full Django process
(``django.setup()``: every installed app, and with them the ORM, forms and
templates), then replaces itself with this one: same process id, so signals and
process managers see no difference. This one reads the settings, configures
``LOGGING`` and serves, importing only what the cable runs on: about 15 MiB less.

The installed apps are loaded at start only when a setting needs them
(:func:`settings_needing_apps`); otherwise presence loads them the first time a
connection asks for it (:mod:`turbo_cable.app_registry`).
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from collections.abc import Callable
from typing import Any, NoReturn

from django.core.exceptions import ImproperlyConfigured

from turbo_cable.app_registry import load_apps
from turbo_cable.conf import CableSettings, get_settings, replace_settings

__all__ = [
    "DEFAULT_HOST",
    "DEFAULT_PORT",
    "DEFAULT_SERVER",
    "LOG_LEVELS",
    "SERVERS",
    "become_cable_server",
    "main",
    "serve",
    "settings_needing_apps",
]

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8001  # beside runserver's 8000, so both run on one machine as they are
# --log-level: uvicorn's names, and the level each stands for under the cable's server.
LOG_LEVELS = {
    "critical": logging.CRITICAL,
    "error": logging.ERROR,
    "warning": logging.WARNING,
    "info": logging.INFO,
    "debug": logging.DEBUG,
    "trace": logging.DEBUG,
}
SERVERS = ("builtin", "uvicorn")
DEFAULT_SERVER = "builtin"
# The import path of the process replaced (``--pythonpath``, manage.py's directory...),
# for this one to find the same settings and apps wherever it was started from.
SYS_PATH_VARIABLE = "TURBO_CABLE_SERVER_SYS_PATH"

logger = logging.getLogger("turbo_cable")


def port_number(value: str) -> int:
    if not value.isdigit() or not 0 < int(value) < 65536:
        raise argparse.ArgumentTypeError(f"must be a port number from 1 to 65535, not {value!r}")
    return int(value)


def settings_needing_apps(settings: CableSettings) -> tuple[str, ...]:
    """The ``TURBO_CABLE`` keys set that make the cable process load the installed apps
    at start: ``IDENTIFY`` names a hook of the project's, which may use the ORM."""
    return ("IDENTIFY",) if settings.IDENTIFY else ()


def configure_logging() -> None:
    """``LOGGING`` through ``LOGGING_CONFIG``, as ``django.setup()`` applies it, without
    Django's default configuration first: its mail-the-admins handler loads the
    exception reporter and with it the template engine. The cable logs to
    ``turbo_cable``, which that default never handled."""
    from django.conf import settings
    from django.utils.module_loading import import_string

    logging.captureWarnings(True)
    if settings.LOGGING_CONFIG and settings.LOGGING:
        import_string(settings.LOGGING_CONFIG)(settings.LOGGING)


def serve(
    host: str,
    port: int,
    log_level: str,
    write: Callable[[str], Any] = print,
    server: str = DEFAULT_SERVER,
) -> int:
    """Serve until stopped, on the builtin server or uvicorn; the exit status: 0, or
    non-zero when the server could not start (it has logged why)."""
    from turbo_cable.standalone import get_cable_application

    settings = get_settings()
    application = get_cable_application()
    banner = (
        f"Serving the cable on ws://{origin(host, port)}{settings.CABLE_PATH} "
        f"(broadcasts: POST http://{origin(host, port)}{settings.BROADCAST_PATH}, health: "
        f"GET {settings.HEALTH_PATH}; every other path is 404)."
    )
    if server == "uvicorn":
        return _serve_under_uvicorn(application, host, port, log_level, lambda: write(banner))
    from turbo_cable.server.serve import run

    _log_server_to_stderr(log_level)
    write(banner)
    return run(application, host, port, settings.MAX_FRAME_SIZE)


def _log_server_to_stderr(log_level: str) -> None:
    """The server's own lines (start, stop, errors) at ``--log-level``, unless ``LOGGING``
    already sends them somewhere."""
    server_logger = logging.getLogger("turbo_cable.server")
    server_logger.setLevel(LOG_LEVELS[log_level])
    if not server_logger.handlers:
        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter("%(levelname)s: %(message)s"))
        server_logger.addHandler(handler)
        server_logger.propagate = False


def _serve_under_uvicorn(
    application: Any, host: str, port: int, log_level: str, announce: Callable[[], Any]
) -> int:
    import uvicorn

    from turbo_cable.uvicorn_protocol import WebSocketProtocol

    config = uvicorn.Config(
        application,
        host=host,
        port=port,
        ws=WebSocketProtocol,
        ws_per_message_deflate=False,  # Turbo Stream fragments are too small to gain
        ws_ping_interval=0,  # the cable pings and drops silent sockets itself
        access_log=False,
        log_level=log_level,
        lifespan="on",
    )
    announce()
    uvicorn_server = uvicorn.Server(config)
    uvicorn_server.run()
    return 0 if uvicorn_server.started else 1


def origin(host: str, port: int) -> str:
    return f"{host}:{port}" if ":" not in host else f"[{host}]:{port}"


def not_started(host: str, port: int) -> str:
    return f"runcable could not start on {origin(host, port)}; see the log above."


def become_cable_server(
    host: str,
    port: int,
    log_level: str,
    backend: str | None = None,
    server: str = DEFAULT_SERVER,
) -> NoReturn:
    """Replace this process with :func:`main`'s, keeping its interpreter options
    (``-W``, ``-X``), environment (``DJANGO_SETTINGS_MODULE``) and import path."""
    options = [f"-W{option}" for option in sys.warnoptions]
    options += [
        f"-X{key}" if value is True else f"-X{key}={value}" for key, value in sys._xoptions.items()
    ]
    argv = [sys.executable, *options, "-m", "turbo_cable.cable_server", "--host", host]
    argv += ["--port", str(port), "--log-level", log_level, "--server", server]
    argv += ["--backend", backend] if backend else []
    environment = {**os.environ, SYS_PATH_VARIABLE: json.dumps(sys.path)}
    sys.stdout.flush()
    sys.stderr.flush()
    os.execve(sys.executable, argv, environment)


def main(argv: list[str] | None = None) -> int:
    carried_path = os.environ.pop(SYS_PATH_VARIABLE, None)
    if carried_path:
        sys.path[:] = json.loads(carried_path)
    parser = argparse.ArgumentParser(
        prog="python -m turbo_cable.cable_server",
        description="The cable alone, from the settings only; what `manage.py runcable` runs.",
    )
    parser.add_argument("--host", default=DEFAULT_HOST)
    parser.add_argument("--port", type=port_number, default=DEFAULT_PORT)
    parser.add_argument("--backend")
    parser.add_argument("--log-level", choices=LOG_LEVELS, default="info")
    parser.add_argument("--server", choices=SERVERS, default=DEFAULT_SERVER)
    options = parser.parse_args(argv)
    if options.backend:
        try:
            replace_settings(BACKEND=options.backend)
        except ImproperlyConfigured as exc:
            parser.exit(1, f"--backend {options.backend!r}: {exc}\n")
    configure_logging()
    needing_apps = settings_needing_apps(get_settings())
    if needing_apps:
        logger.info("loading the installed apps, which %s needs", " and ".join(needing_apps))
        load_apps()
    status = serve(
        options.host, options.port, options.log_level, write=_print_now, server=options.server
    )
    if status:
        print(f"CommandError: {not_started(options.host, options.port)}", file=sys.stderr)
    return status


def _print_now(line: str) -> None:
    print(line, flush=True)


if __name__ == "__main__":
    sys.exit(main())
