"""The installed apps, loaded on first need by a process that started without them.

``runcable`` serves from the settings alone (:mod:`turbo_cable.cable_server`): the
cable, the broadcast endpoint and signed names need no models. Presence does, for
the default identity (Django's session and auth) and for rendering
``PRESENCE_TEMPLATE``, so the first connection that needs either loads the apps,
once. Everywhere else the apps are loaded already and this is an attribute look-up.
"""

from __future__ import annotations

import asyncio

from django.apps import apps
from django.conf import settings

__all__ = ["aload_apps", "load_apps"]


def load_apps() -> None:
    """What ``django.setup()`` does for the apps, without configuring logging again."""
    if not apps.ready:
        apps.populate(settings.INSTALLED_APPS)


async def aload_apps() -> None:
    """From the event loop: in a thread, so importing the apps' models does not stall
    every socket, and an app's ``ready()`` may touch the database as it would at start."""
    if not apps.ready:
        await asyncio.to_thread(load_apps)
