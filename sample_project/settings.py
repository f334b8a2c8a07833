"""Settings for the sample project that ``make run`` serves."""

from __future__ import annotations

import os
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent

# A fixed development key, so every process of the sample (workers, commands)
# signs and verifies stream names alike. Set SECRET_KEY in any real deployment.
SECRET_KEY = os.environ.get("SECRET_KEY", "django-turbo-cable-sample-insecure-key")
DEBUG = True
ALLOWED_HOSTS = ["127.0.0.1", "localhost", "[::1]"]

INSTALLED_APPS = [
    "daphne",
    "django.contrib.contenttypes",
    "django.contrib.staticfiles",
    "turbo_cable",
    "sample_project.showcase",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # Serves static files (the cable's client among them) under uvicorn and daphne too:
    # from the apps' folders with DEBUG on, from STATIC_ROOT after collectstatic with it off.
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "turbo_cable.middleware.TurboCableMiddleware",
]

ROOT_URLCONF = "sample_project.urls"
ASGI_APPLICATION = "sample_project.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.csrf",
                "sample_project.showcase.context_processors.turbo",
            ]
        },
    }
]

DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": os.environ.get("SAMPLE_DB", str(BASE_DIR.parent / "sample.sqlite3")),
    }
}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
USE_TZ = True
STATIC_URL = "static/"
STATIC_ROOT = Path(os.environ.get("SAMPLE_STATIC_ROOT", BASE_DIR.parent / "staticfiles"))
# `make run` fetches Turbo from the npm registry when it can; the sample works without it.
TURBO_DIST = BASE_DIR.parent / ".js" / "node_modules" / "@hotwired" / "turbo" / "dist"
STATICFILES_DIRS = [("vendor/turbo", TURBO_DIST)] if TURBO_DIST.is_dir() else []

TURBO_CABLE: dict[str, object] = {
    "BACKEND": os.environ.get("TURBO_CABLE_BACKEND", "memory"),
    "PRESENCE_TEMPLATE": "showcase/_presence.html",  # "N people are looking at these notes"
}
if os.environ.get("TURBO_CABLE_BROADCAST_URL"):
    TURBO_CABLE["BROADCAST_URL"] = os.environ["TURBO_CABLE_BROADCAST_URL"]

# Pages from a WSGI server (gunicorn sample_project.wsgi) with `manage.py runcable` beside
# it on another port: the pages connect to TURBO_CABLE_CABLE_URL (e.g.
# ws://127.0.0.1:8001/cable), which is another origin, so the cable must be told the
# pages' origins (comma-separated, e.g. http://127.0.0.1:8000,http://localhost:8000).
# Broadcasts from the pages' process go to TURBO_CABLE_BROADCAST_URL (the cable's
# http://127.0.0.1:8001/_broadcast). `make run-wsgi` sets all three.
WSGI_APPLICATION = "sample_project.wsgi.application"
if os.environ.get("TURBO_CABLE_CABLE_URL"):
    TURBO_CABLE["CABLE_URL"] = os.environ["TURBO_CABLE_CABLE_URL"]
if os.environ.get("TURBO_CABLE_ALLOWED_ORIGINS"):
    TURBO_CABLE["ALLOWED_ORIGINS"] = os.environ["TURBO_CABLE_ALLOWED_ORIGINS"].split(",")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "loggers": {"turbo_cable": {"handlers": ["console"], "level": "INFO"}},
}
