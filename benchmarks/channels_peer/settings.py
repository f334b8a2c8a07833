"""The Channels peer: the same cable and broadcast endpoint, written the Channels way."""

from __future__ import annotations

SECRET_KEY = "turbo-cable-benchmarks"
DEBUG = False
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]
INSTALLED_APPS = ["django.contrib.contenttypes", "channels"]
MIDDLEWARE: list[str] = []
ROOT_URLCONF = "benchmarks.channels_peer.urls"
ASGI_APPLICATION = "benchmarks.channels_peer.asgi.application"
DATABASES: dict[str, dict[str, str]] = {}
USE_TZ = True
CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
