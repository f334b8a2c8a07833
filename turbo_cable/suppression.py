"""Turning broadcasts off for a block of code, e.g. a bulk import.

The state lives in a context variable, so it covers exactly the code run inside
the block: other threads and other asyncio tasks keep broadcasting, and tasks or
``sync_to_async`` calls started inside the block inherit it.
"""

from __future__ import annotations

import contextlib
import contextvars
from collections.abc import Iterator

# None: nothing suppressed; ALL: everything; a tuple: broadcasts of these model classes.
ALL = "all"
_suppressed: contextvars.ContextVar[str | tuple[type, ...] | None] = contextvars.ContextVar(
    "turbo_cable_suppressed", default=None
)


@contextlib.contextmanager
def suppressing_broadcasts(*models: type) -> Iterator[None]:
    """Suppress every broadcast made inside the block, or only those of ``models``.

    Usable in sync and async code (``with`` works inside ``async def`` too).
    """
    current = _suppressed.get()
    if not models or current == ALL:
        new: str | tuple[type, ...] = ALL
    else:
        new = (*(current or ()), *models)
    token = _suppressed.set(new)
    try:
        yield
    finally:
        _suppressed.reset(token)


def broadcasts_suppressed(model: type | None = None) -> bool:
    """Whether a broadcast (of ``model``, if given) must be dropped here and now."""
    current = _suppressed.get()
    if current is None:
        return False
    if isinstance(current, str):  # ALL
        return True
    return model is not None and issubclass(model, current)
