"""Settings for the test suite, and for the real servers the tests start.

A server started by a test reads extra ``TURBO_CABLE`` keys as JSON from the
``TURBO_CABLE_TEST_SETTINGS`` environment variable.
"""

from __future__ import annotations

import json
import os

SECRET_KEY = "turbo-cable-tests"
DEBUG = False
ALLOWED_HOSTS = ["127.0.0.1", "localhost", "testserver"]
CSRF_TRUSTED_ORIGINS = ["https://trusted.example"]
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")  # as behind a TLS proxy
INSTALLED_APPS = [
    "django.contrib.contenttypes",
    "django.contrib.auth",
    "django.contrib.sessions",
    "django.contrib.staticfiles",
    "turbo_cable",
    "tests.testapp",
    "tests.browserapp",
    "tests.ported.channels_chat",
    "tests.ported.turbo_chat",
]
if os.environ.get("TURBO_CABLE_TEST_WITH_DAPHNE"):  # for `runserver`, daphne's ASGI one
    INSTALLED_APPS.insert(0, "daphne")
MIDDLEWARE = ["django.contrib.sessions.middleware.SessionMiddleware"]
SESSION_ENGINE = "django.contrib.sessions.backends.cache"  # each test server keeps its own
ROOT_URLCONF = "tests.urls"
ASGI_APPLICATION = "tests.asgi.application"
DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": os.environ.get("TURBO_CABLE_TEST_DB", ":memory:"),
    }
}
TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "APP_DIRS": True,
        "OPTIONS": {"context_processors": ["django.template.context_processors.request"]},
    }
]
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
USE_TZ = True
STATIC_URL = "static/"
TURBO_CABLE = json.loads(os.environ.get("TURBO_CABLE_TEST_SETTINGS", "{}"))
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "loggers": {"turbo_cable": {"handlers": ["console"], "level": "DEBUG"}},
}
