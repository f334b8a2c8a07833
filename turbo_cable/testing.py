"""Test helpers for projects that broadcast, as turbo-rails ships them.

Inside these blocks broadcasts are recorded instead of delivered, from every
thread of the process, so tests need no running cable::

    with capture_broadcasts() as broadcasts:
        message.broadcast_replace_to("room")
    assert broadcasts.for_stream("room") == [message_html]

    with assert_broadcasts("room", count=1):
        message.save()

    with assert_no_broadcasts():
        Message.objects.none().delete()
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

from turbo_cable.broadcast import Broadcast, intercepting
from turbo_cable.streams import stream_name

__all__ = [
    "Broadcast",
    "CapturedBroadcasts",
    "assert_broadcasts",
    "assert_no_broadcasts",
    "capture_broadcasts",
]


class CapturedBroadcasts(list[Broadcast]):
    """The broadcasts made inside a :func:`capture_broadcasts` block, in order."""

    def for_stream(self, *streamables: Any) -> list[Any]:
        """The data sent to the stream these parts name."""
        name = stream_name(*streamables)
        return [b.data for b in self if b.stream == name]


@contextlib.contextmanager
def capture_broadcasts() -> Iterator[CapturedBroadcasts]:
    """Record every broadcast made inside the block instead of delivering it."""
    captured = CapturedBroadcasts()
    with intercepting(captured):
        yield captured


def _describe(captured: list[Broadcast]) -> str:
    if not captured:
        return "none were made"
    return "made: " + ", ".join(f"{b.stream!r}" for b in captured)


@contextlib.contextmanager
def assert_broadcasts(*streamables: Any, count: int | None = None) -> Iterator[CapturedBroadcasts]:
    """Fail unless the block broadcasts to the stream (exactly ``count`` times, if given)."""
    name = stream_name(*streamables)
    with capture_broadcasts() as captured:
        yield captured
    made = len(captured.for_stream(name))
    expected = "at least 1" if count is None else str(count)
    if (count is None and made == 0) or (count is not None and made != count):
        raise AssertionError(
            f"Expected {expected} broadcast(s) to {name!r}, got {made}; {_describe(captured)}."
        )


@contextlib.contextmanager
def assert_no_broadcasts(*streamables: Any) -> Iterator[CapturedBroadcasts]:
    """Fail if the block broadcasts to the stream, or at all when no stream is named."""
    with capture_broadcasts() as captured:
        yield captured
    if streamables:
        name = stream_name(*streamables)
        made = captured.for_stream(name)
        if made:
            raise AssertionError(f"Expected no broadcast to {name!r}, got {len(made)}.")
    elif captured:
        raise AssertionError(f"Expected no broadcasts; {_describe(captured)}.")
