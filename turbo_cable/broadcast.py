"""Delivering broadcasts to the cable, from any Django code, sync or async.

Where a broadcast goes:

1. ``BACKEND`` is not ``"memory"``: straight to the relaying backend (e.g. Redis),
   which reaches every process, so no HTTP hop is needed.
2. The cable runs in this very process on the memory backend, and the broadcast URL
   was not configured (neither ``TURBO_CABLE_BROADCAST_URL`` nor ``BROADCAST_URL``):
   straight to this process's backend, which is what the endpoint would do with it.
   An explicitly configured URL is always honoured, since it may name another process.
3. Otherwise: ``POST`` to the broadcast URL over a kept-alive connection (one per
   thread), with ``BROADCAST_TIMEOUT`` for connect and read, reconnecting once when
   a kept-alive connection turns out to be stale.

Failures never raise: they are logged as a WARNING naming the stream and the reason,
and the function returns ``False``. ``True`` means the cable accepted the broadcast.
"""

from __future__ import annotations

import asyncio
import contextlib
import http.client
import json
import logging
import sys
import threading
import types
from collections.abc import Coroutine, Iterator
from typing import Any, NamedTuple, cast
from urllib.parse import urlsplit

from asgiref.sync import sync_to_async

from turbo_cable.backends import Backend, relay_publisher, running_backend
from turbo_cable.conf import CableSettings, get_settings
from turbo_cable.streams import stream_name
from turbo_cable.suppression import broadcasts_suppressed

__all__ = [
    "Broadcast",
    "abroadcast",
    "abroadcast_json",
    "broadcast",
    "broadcast_json",
    "close_connections",
]

logger = logging.getLogger("turbo_cable")
# allow_nan=False: NaN and Infinity are not JSON; the cable and browsers refuse them.
_encode = json.JSONEncoder(ensure_ascii=False, allow_nan=False, separators=(",", ":")).encode


class Broadcast(NamedTuple):
    """One broadcast: the plain stream name and its data (HTML or any JSON value)."""

    stream: str
    data: Any


class DeliveryRefused(Exception):
    """The cable answered, but did not take the broadcast."""

    def __init__(self, reason: str, status: int | None = None) -> None:
        super().__init__(reason)
        self.status = status


# -- public API --------------------------------------------------------------------


def broadcast(stream: Any, html: str) -> bool:
    """Send Turbo Stream HTML to ``stream`` (a name, a model, or a tuple of parts)."""
    return _deliver(_stream(stream), _html(html))


def broadcast_json(stream: Any, data: Any) -> bool:
    """Send any JSON value to ``stream``, for custom clients."""
    return _deliver(_stream(stream), data)


async def abroadcast(stream: Any, html: str) -> bool:
    """:func:`broadcast` for async code."""
    return await _adeliver(_stream(stream), _html(html))


async def abroadcast_json(stream: Any, data: Any) -> bool:
    """:func:`broadcast_json` for async code."""
    return await _adeliver(_stream(stream), data)


def close_connections() -> None:
    """Close this thread's kept-alive connections (e.g. before forking)."""
    for connection in getattr(_local, "connections", {}).values():
        connection.close()
    _local.connections = {}


# -- capturing, for turbo_cable.testing -------------------------------------------------

_captures: list[list[Broadcast]] = []
_captures_lock = threading.Lock()


@contextlib.contextmanager
def intercepting(captured: list[Broadcast] | None = None) -> Iterator[list[Broadcast]]:
    """Record broadcasts made by any thread into ``captured`` instead of delivering them."""
    if captured is None:
        captured = []
    with _captures_lock:
        _captures.append(captured)
    try:
        yield captured
    finally:
        with _captures_lock:
            _captures[:] = [c for c in _captures if c is not captured]


def _intercepted(stream: str, data: Any) -> bool:
    with _captures_lock:
        for captured in _captures:
            captured.append(Broadcast(stream, data))
        return bool(_captures)


# -- routing --------------------------------------------------------------------------


def _stream(stream: Any) -> str:
    if isinstance(stream, list | tuple):
        return stream_name(*stream)
    return stream_name(stream)


def _html(html: Any) -> str:
    if not isinstance(html, str):
        raise TypeError(f"Turbo Stream HTML must be a string; got {type(html).__name__}.")
    return str(html)


def _body(stream: str, data: Any) -> bytes:
    return _encode({"stream": stream, "data": data}).encode()


def _in_process_backend(settings: CableSettings) -> Backend | None:
    if settings.broadcast_url_is_explicit:
        return None
    return running_backend()


_URL_SETTING = "TURBO_CABLE_BROADCAST_URL (or TURBO_CABLE['BROADCAST_URL'])"


def _reason(exc: BaseException, url: str | None, settings: CableSettings) -> str:
    """Why a delivery failed, in words, with the URL tried and the setting that changes it."""
    if url is None:  # delivered in process or through Redis: no URL to blame
        if isinstance(exc, DeliveryRefused | TimeoutError):
            return str(exc) or "timed out"
        return f"{type(exc).__name__}: {exc}"
    path = settings.BROADCAST_PATH
    if isinstance(exc, ConnectionRefusedError):
        return (
            f"nothing listens at {url} (connection refused). Start the server that serves "
            f"the cable there, or set {_URL_SETTING} to its {path}, "
            f"e.g. http://127.0.0.1:8001{path} for runserver on port 8001."
        )
    if isinstance(exc, TimeoutError):
        return (
            f"{url} did not answer within {settings.BROADCAST_TIMEOUT:g} s "
            "(TURBO_CABLE['BROADCAST_TIMEOUT']): is that server overloaded or stopped?"
        )
    if isinstance(exc, DeliveryRefused) and exc.status == 404:
        return (
            f"{url} answered 404: that server does not route {path}: is daphne in "
            "INSTALLED_APPS and ASGI_APPLICATION set to an application made by "
            "turbo_cable.asgi.get_asgi_application()? If another server listens there, "
            f"set {_URL_SETTING} to the cable's {path}."
        )
    if isinstance(exc, DeliveryRefused) and exc.status == 403:
        return (
            f"{url} answered 403: the cable takes broadcasts from loopback only, unless "
            "TURBO_CABLE['BROADCAST_TOKEN'] is set to the same value here and on the server."
        )
    if isinstance(exc, DeliveryRefused):
        return f"{exc} (from {url})"
    return f"{type(exc).__name__}: {exc} (sending to {url}; {_URL_SETTING} changes it)"


def _current_loop() -> asyncio.AbstractEventLoop | None:
    try:
        return asyncio.get_running_loop()
    except RuntimeError:
        return None


def _is_current(loop: asyncio.AbstractEventLoop) -> bool:
    """Whether we run on ``loop``, where sync code cannot wait for it."""
    return loop is _current_loop()


_spawned: set[asyncio.Task[Any]] = set()


def _spawn(loop: asyncio.AbstractEventLoop, coroutine: Coroutine[Any, Any, Any]) -> None:
    """Sync code running on the cable's own loop cannot wait for it: queue the send."""
    task = loop.create_task(coroutine)
    _spawned.add(task)
    task.add_done_callback(_spawned.discard)


def _check_size(body: bytes, settings: CableSettings) -> None:
    if len(body) > settings.MAX_BROADCAST_SIZE:
        raise DeliveryRefused(f"body is larger than {settings.MAX_BROADCAST_SIZE} bytes")


def _as_received(data: Any, body: bytes) -> Any:
    """``data`` as the endpoint would see it after a JSON round trip."""
    return data if isinstance(data, str) else json.loads(body)["data"]


def _settled_without_sending(stream: str, data: Any) -> bool | None:
    """False when broadcasts are suppressed, True when a test captures them, else None."""
    if broadcasts_suppressed():
        return False
    if _intercepted(stream, data):
        return True
    return None


def _deliver(stream: str, data: Any) -> bool:
    if (settled := _settled_without_sending(stream, data)) is not None:
        return settled
    body = _body(stream, data)
    settings = get_settings()
    url: str | None = None  # set once the broadcast goes over HTTP
    try:
        if settings.BACKEND != "memory":
            publisher = cast(Any, relay_publisher())
            loop: Any = getattr(publisher, "loop", None)
            if loop is not None and _is_current(loop):
                _spawn(loop, publisher.publish(stream, data))
            else:
                publisher.publish_sync(stream, data)
            return True
        backend = _in_process_backend(settings)
        if backend is None:
            url = settings.broadcast_url
            _post(body, settings)
            return True
        _check_size(body, settings)
        loop = backend.loop
        assert loop is not None  # running_backend() only returns a started backend
        publish = backend.publish(stream, _as_received(data, body))
        if _is_current(loop):
            _spawn(loop, publish)
        else:
            future = asyncio.run_coroutine_threadsafe(publish, loop)
            future.result(timeout=settings.BROADCAST_TIMEOUT)
    except Exception as exc:
        logger.warning("broadcast to stream %r failed: %s", stream, _reason(exc, url, settings))
        return False
    return True


async def _adeliver(stream: str, data: Any) -> bool:
    if (settled := _settled_without_sending(stream, data)) is not None:
        return settled
    body = _body(stream, data)
    settings = get_settings()
    url: str | None = None  # set once the broadcast goes over HTTP
    try:
        if settings.BACKEND != "memory":
            publisher = cast(Any, relay_publisher())
            loop = getattr(publisher, "loop", None)
            await _on_loop(loop, publisher.publish(stream, data), settings)
            return True
        backend = _in_process_backend(settings)
        if backend is None:
            url = settings.broadcast_url
            await sync_to_async(_post, thread_sensitive=False)(body, settings)
            return True
        _check_size(body, settings)
        await _on_loop(backend.loop, backend.publish(stream, _as_received(data, body)), settings)
    except Exception as exc:
        logger.warning("broadcast to stream %r failed: %s", stream, _reason(exc, url, settings))
        return False
    return True


async def _on_loop(
    loop: asyncio.AbstractEventLoop | None,
    coroutine: Coroutine[Any, Any, Any],
    settings: CableSettings,
) -> None:
    """Await ``coroutine`` on ``loop``, which may belong to another thread."""
    if loop is None or loop is asyncio.get_running_loop() or loop.is_closed():
        await coroutine
        return
    future = asyncio.run_coroutine_threadsafe(coroutine, loop)
    await asyncio.wait_for(asyncio.wrap_future(future), settings.BROADCAST_TIMEOUT)


# -- HTTP -------------------------------------------------------------------------------

_local = threading.local()
_ConnectionKey = tuple[str, str, int, float]


def _connection(key: _ConnectionKey) -> http.client.HTTPConnection:
    connections: dict[_ConnectionKey, http.client.HTTPConnection] = (
        getattr(_local, "connections", None) or {}
    )
    _local.connections = connections
    connection = connections.get(key)
    if connection is None:
        scheme, host, port, timeout = key
        factory = http.client.HTTPSConnection if scheme == "https" else http.client.HTTPConnection
        connection = connections[key] = factory(host, port, timeout=timeout)
    return connection


def _post(body: bytes, settings: CableSettings) -> None:
    """POST one broadcast; raises on any failure."""
    url = urlsplit(settings.broadcast_url)
    default_port = 443 if url.scheme == "https" else 80
    host, port = url.hostname or "127.0.0.1", url.port or default_port
    key = (url.scheme, host, port, float(settings.BROADCAST_TIMEOUT))
    path = (url.path or "/") + (f"?{url.query}" if url.query else "")
    headers = {"Content-Type": "application/json"}
    if settings.BROADCAST_TOKEN:
        headers["Authorization"] = f"Bearer {settings.BROADCAST_TOKEN}"
    for attempt in range(2):
        connection = _connection(key)
        reused = connection.sock is not None
        try:
            connection.request("POST", path, body=body, headers=headers)
            response = connection.getresponse()
            payload = response.read()
        except ConnectionError:
            connection.close()
            if reused and attempt == 0:  # the server closed an idle kept-alive connection
                logger.debug("kept-alive connection to %s:%s was closed; reconnecting", host, port)
                continue
            raise
        except BaseException:
            connection.close()
            raise
        if response.status != 200:
            raise DeliveryRefused(
                f"HTTP {response.status}: {_error_reason(payload)}", response.status
            )
        return


def _error_reason(payload: bytes) -> str:
    try:
        return str(json.loads(payload)["error"])
    except (ValueError, KeyError, TypeError):
        return payload[:200].decode("utf-8", "replace") or "no reason given"


class _CallableModule(types.ModuleType):
    """``from turbo_cable import broadcast`` finds this module (a package attribute the
    import system sets), so the module itself answers ``broadcast(stream, html)``."""

    def __call__(self, stream: Any, html: str) -> bool:
        return broadcast(stream, html)


sys.modules[__name__].__class__ = _CallableModule
