"""Who is on the other end of a connection, read once and only when something needs it.

By default the Django session cookie of the handshake is looked up with Django's
async session and auth APIs (``aget_user``): a logged-in user is that user, anyone
else is anonymous. ``IDENTIFY`` names an async callable of the project's own
(``"myproject.cable.identify"``) that gets the handshake's ASGI scope and returns an
:class:`Identity`, a user, a string or None (anonymous): a token in the query
string for a native client, for instance. Nothing here runs for a site that uses
no feature asking for identity (presence), so anonymous-only sites pay nothing.
"""

from __future__ import annotations

import dataclasses
import functools
import importlib
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from django.utils.module_loading import import_string

from turbo_cable.app_registry import aload_apps
from turbo_cable.asgi_types import Scope
from turbo_cable.conf import get_settings
from turbo_cable.streams import session_key_from_cookies

logger = logging.getLogger("turbo_cable")


@dataclasses.dataclass(frozen=True, slots=True)
class Identity:
    """A known visitor: ``id`` is the same for every tab of one user, ``name`` is shown."""

    id: str
    name: str


def identity_of(value: Any) -> Identity | None:
    """What a hook returned, as an :class:`Identity` (None: anonymous)."""
    if value is None or isinstance(value, Identity):
        return value
    if isinstance(value, str):
        return Identity(value, value) if value else None
    if not getattr(value, "is_authenticated", False):
        return None  # AnonymousUser, or any object that says it is not logged in
    name = value.get_username() if hasattr(value, "get_username") else str(value)
    return Identity(f"user:{value.pk}", str(name))


@dataclasses.dataclass(slots=True)
class _HandshakeRequest:
    """What ``aget_user`` reads of a request: its session."""

    session: Any


def _cookie_header(scope: Scope) -> str | None:
    for key, value in scope.get("headers", ()):
        if key == b"cookie":
            return bytes(value).decode("latin-1")
    return None


async def session_user(scope: Scope) -> Identity | None:
    """The logged-in user of the handshake's Django session, or None."""
    from django.conf import settings

    if not {"django.contrib.auth", "django.contrib.sessions"} <= set(settings.INSTALLED_APPS):
        return None
    session_key = session_key_from_cookies(_cookie_header(scope))
    if not session_key:
        return None
    await aload_apps()  # the user model; ``runcable`` starts without it
    from django.contrib.auth import aget_user

    engine = importlib.import_module(settings.SESSION_ENGINE)
    session = engine.SessionStore(session_key)
    request: Any = _HandshakeRequest(session)  # what aget_user reads of a request
    return identity_of(await aget_user(request))


@functools.cache
def _hook(path: str | None) -> Callable[[Scope], Awaitable[Any]]:
    return session_user if path is None else import_string(path)


async def identify(scope: Scope) -> Identity | None:
    """The identity of a handshake; a failing hook is logged and counts as anonymous."""
    try:
        return identity_of(await _hook(get_settings().IDENTIFY)(scope))
    except Exception:
        logger.exception("identifying a cable connection failed; treating it as anonymous")
        return None
