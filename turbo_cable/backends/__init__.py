"""The process-wide backend, chosen by ``TURBO_CABLE["BACKEND"]``."""

from __future__ import annotations

from typing import cast

from turbo_cable.backends.base import Backend, BackendUnavailable, RelayPublisher
from turbo_cable.conf import CableSettings, get_settings
from turbo_cable.history import Position
from turbo_cable.http_delivery import position_over_http
from turbo_cable.presence_board import Presence

__all__ = [
    "Backend",
    "BackendUnavailable",
    "RelayPublisher",
    "create_backend",
    "get_backend",
    "presence_of",
    "relay_publisher",
    "reset_backend",
    "stream_position",
]

_backend: Backend | None = None


def create_backend(settings: CableSettings) -> Backend:
    if settings.BACKEND == "memory":
        from turbo_cable.backends.memory import MemoryBackend

        return MemoryBackend(settings)
    from turbo_cable.backends.redis import RedisBackend

    return RedisBackend(settings)


def get_backend() -> Backend:
    """This process's backend, made on first use (and again if its loop has gone)."""
    global _backend
    if _backend is None or (_backend.loop is not None and _backend.loop.is_closed()):
        _backend = create_backend(get_settings())
    return _backend


def running_backend() -> Backend | None:
    """The backend if a cable runs in this process on a live loop, else None."""
    backend = _backend
    if backend is None or backend.loop is None or backend.loop.is_closed():
        return None
    return backend


def reset_backend() -> None:
    """Forget the backend (tests, or after settings change)."""
    global _backend, _relay
    _backend = None
    _relay = None


def relay_publisher() -> RelayPublisher | None:
    """A backend that publishes across processes from any code, or None for ``memory``.

    :mod:`turbo_cable.broadcast` uses it to skip the HTTP hop: with Redis, a
    management command or a task worker publishes straight to Redis. It offers
    ``publish_sync(stream, data)`` for sync callers and ``publish(stream, data)``.
    """
    global _relay
    settings = get_settings()
    if settings.BACKEND == "memory":
        return None
    relay = running_backend()
    if relay is None:
        if _relay is None or _relay.settings is not settings:
            _relay = create_backend(settings)
        relay = _relay
    return cast("RelayPublisher", relay)  # every backend but memory offers publish_sync


_relay: Backend | None = None


def stream_position(stream: str, since: float | None = None) -> Position | None:
    """Where ``stream`` stood at ``since`` (the ``time.monotonic()`` the page's request
    began; None: now), for the page to render so its first subscribe replays what
    was broadcast since; from any thread, never raising.

    With ``memory`` the cable knows: the one in this process, else the one at an
    explicit ``BROADCAST_URL``, which broadcasts go to and so is asked (None if
    neither, or when it cannot say). Any other backend asks its shared store, with
    or without a cable here (None if it cannot).
    """
    settings = get_settings()
    if settings.BACKEND == "memory":
        backend = running_backend()
        if backend is not None:
            return backend.position(stream, since)
        if settings.broadcast_url_is_explicit:
            return position_over_http(stream, settings, since)
        return None
    relay = relay_publisher()
    return cast("Backend", relay).position(stream, since)


def presence_of(stream: str) -> Presence:
    """Who is on ``stream`` (plain name), from any thread: with Redis, every process;
    with ``memory``, a cable in this process (nobody otherwise)."""
    if get_settings().BACKEND == "memory":
        backend = running_backend()
        return backend.presence.store.read_sync(stream) if backend is not None else Presence()
    relay = relay_publisher()
    return cast("Backend", relay).presence.store.read_sync(stream)
