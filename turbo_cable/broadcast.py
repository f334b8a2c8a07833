"""Delivering broadcasts to the cable, from any Django code, sync or async.

Where a broadcast goes (a relaying backend, this process's cable, or an HTTP
``POST``) is chosen by :mod:`turbo_cable.transports`; this module is what every
route shares: naming the stream, encoding once, the size limit, test capture,
and what a failure logs and returns.

Every route refuses a body over ``MAX_BROADCAST_SIZE``, as the endpoint does.
Failures never raise: they are logged as a WARNING naming the stream and the reason,
and the function returns ``False``. ``True`` means the cable accepted the broadcast,
except for sync code running on the cable's own event loop, which cannot wait for
it: there ``True`` means it was queued, and a later failure is logged the same way.
"""

from __future__ import annotations

import contextlib
import json
import logging
import sys
import threading
import types
from collections.abc import Iterator
from typing import Any, NamedTuple

from turbo_cable.conf import get_settings
from turbo_cable.http_delivery import DeliveryRefused, close_connections
from turbo_cable.streams import stream_name
from turbo_cable.suppression import broadcasts_suppressed
from turbo_cable.transports import choose_transport

__all__ = [
    "Broadcast",
    "DeliveryRefused",
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


# -- what every route shares ------------------------------------------------------------


def _stream(stream: Any) -> str:
    if isinstance(stream, list | tuple):
        return stream_name(*stream)
    return stream_name(stream)


def _html(html: Any) -> str:
    if not isinstance(html, str):
        raise TypeError(f"Turbo Stream HTML must be a string; got {type(html).__name__}.")
    return str(html)


def _prepared(stream: str, data: Any) -> bytes | bool:
    """The encoded body; or the answer when nothing is to be sent: False when
    broadcasts are suppressed or the body is over the endpoint's limit (logged, as on
    every route), True when a test captures them."""
    if broadcasts_suppressed():
        return False
    if _intercepted(stream, data):
        return True
    body = _encode({"stream": stream, "data": data}).encode()
    limit = get_settings().MAX_BROADCAST_SIZE
    if len(body) > limit:
        logger.warning("broadcast to stream %r failed: body is larger than %d bytes", stream, limit)
        return False
    return body


def _deliver(stream: str, data: Any) -> bool:
    body = _prepared(stream, data)
    if isinstance(body, bool):
        return body
    transport = choose_transport(get_settings())
    try:
        transport.send(stream, data, body)
    except Exception as exc:
        logger.warning("broadcast to stream %r failed: %s", stream, transport.explain(exc))
        return False
    return True


async def _adeliver(stream: str, data: Any) -> bool:
    body = _prepared(stream, data)
    if isinstance(body, bool):
        return body
    transport = choose_transport(get_settings())
    try:
        await transport.asend(stream, data, body)
    except Exception as exc:
        logger.warning("broadcast to stream %r failed: %s", stream, transport.explain(exc))
        return False
    return True


class _CallableModule(types.ModuleType):
    """``from turbo_cable import broadcast`` finds this module (a package attribute the
    import system sets), so the module itself answers ``broadcast(stream, html)``."""

    def __call__(self, stream: Any, html: str) -> bool:
        return broadcast(stream, html)


sys.modules[__name__].__class__ = _CallableModule
