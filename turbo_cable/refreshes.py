"""Page refreshes: tagging them with Turbo's request id, and sending each one once.

Turbo sends ``X-Turbo-Request-Id`` with every request it makes; a refresh that
carries the same ``request-id`` is ignored by the browser that caused it, which
already shows the result. A request that saves fifty records would otherwise
send fifty identical refreshes, so refreshes scheduled inside a batch (a request
under :class:`~turbo_cable.middleware.TurboCableMiddleware`, a ``django.tasks``
task, or a :func:`collecting_refreshes` block) are de-duplicated per stream and
request id, and sent when the batch ends. Nothing waits on a timer, so nothing
is lost when a short script exits; outside any batch a refresh is sent at once.
"""

from __future__ import annotations

import contextlib
import contextvars
import logging
from collections.abc import AsyncIterator, Callable, Iterator

from asgiref.sync import sync_to_async

logger = logging.getLogger("turbo_cable")

Send = Callable[[], object]
Batch = dict[tuple[str, str], Send]

_request_id: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "turbo_cable_request_id", default=None
)
_batch: contextvars.ContextVar[Batch | None] = contextvars.ContextVar(
    "turbo_cable_refresh_batch", default=None
)


def current_request_id() -> str | None:
    """The ``X-Turbo-Request-Id`` of the request being served here, if any."""
    return _request_id.get()


@contextlib.contextmanager
def request_id_scope(request_id: str | None) -> Iterator[None]:
    token = _request_id.set(request_id)
    try:
        yield
    finally:
        _request_id.reset(token)


def schedule_refresh(stream: str, key: str, send: Send) -> None:
    """Run ``send`` once per ``(stream, key)`` at the end of the batch, or now."""
    batch = _batch.get()
    if batch is None:
        send()
    else:
        batch.setdefault((stream, key), send)


def open_batch() -> tuple[contextvars.Token[Batch | None], Batch] | None:
    """Start collecting refreshes; None when a batch is already open (it will flush)."""
    if _batch.get() is not None:
        return None
    batch: Batch = {}
    return _batch.set(batch), batch


def close_batch(opened: tuple[contextvars.Token[Batch | None], Batch] | None) -> None:
    """Stop collecting and send what was collected (also when the block raised)."""
    if opened is None:
        return
    token, batch = opened
    try:
        _batch.reset(token)
    except ValueError:  # closed from another context than the one that opened it
        _batch.set(None)
    flush(batch)


def flush(batch: Batch) -> None:
    for (stream, _key), send in batch.items():
        try:
            send()
        except Exception:
            logger.exception("refresh of stream %r failed", stream)
    batch.clear()


@contextlib.contextmanager
def collecting_refreshes() -> Iterator[None]:
    """Send each distinct refresh scheduled inside the block once, when it ends."""
    opened = open_batch()
    try:
        yield
    finally:
        close_batch(opened)


@contextlib.asynccontextmanager
async def acollecting_refreshes() -> AsyncIterator[None]:
    """:func:`collecting_refreshes` for async code; sends from a worker thread."""
    opened = open_batch()
    try:
        yield
    finally:
        if opened is not None:
            token, batch = opened
            _batch.reset(token)
            await sync_to_async(flush)(batch)
