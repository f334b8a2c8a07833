"""The sample project as benchmarked: unsigned stream names (as the peers use) and no DEBUG.

Without ``daphne`` in INSTALLED_APPS: it is there for ``runserver`` only, and importing
it loads Twisted and Autobahn (about 26 MiB) into a uvicorn process that never uses them.

``TURBO_CABLE_PING_INTERVAL`` sets the ping interval so a short run sees pings.
"""

from __future__ import annotations

import os

from sample_project.settings import *  # noqa: F403

DEBUG = False
INSTALLED_APPS = [app for app in INSTALLED_APPS if app != "daphne"]  # noqa: F405
TURBO_CABLE = {
    "SIGNED_STREAMS": False,
    "PING_INTERVAL": float(os.environ.get("TURBO_CABLE_PING_INTERVAL", "30")),
    "IDLE_TIMEOUT": 3 * float(os.environ.get("TURBO_CABLE_PING_INTERVAL", "30")),
}
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "loggers": {"turbo_cable": {"handlers": ["console"], "level": "WARNING"}},
}
