"""The per-client warning limit, on a hand-driven clock."""

from __future__ import annotations

import asyncio
import logging

import pytest

from turbo_cable.warning_limit import WarningLimiter


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def lines(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [record.getMessage() for record in caplog.records]


def test_past_the_limit_warnings_are_counted_and_summed_up_when_the_second_ends(
    caplog: pytest.LogCaptureFixture,
) -> None:
    clock = Clock()
    limiter = WarningLimiter(logging.getLogger("limited"), lines=3, clock=clock)
    with caplog.at_level(logging.WARNING, "limited"):
        for n in range(1000):
            limiter.warning("a", "bad frame %d from %s", n, "a")
        limiter.warning("b", "bad frame from %s", "b")  # another client has its own budget
        clock.now = 1.0
        limiter.warning("a", "bad frame %d from %s", 1000, "a")
    assert lines(caplog) == [
        "bad frame 0 from a",
        "bad frame 1 from a",
        "bad frame 2 from a",
        "bad frame from b",
        "suppressed 997 more warnings from a (at most 3 are logged per second)",
        "bad frame 1000 from a",
    ]


async def test_the_summary_comes_without_a_further_warning(
    caplog: pytest.LogCaptureFixture,
) -> None:
    limiter = WarningLimiter(logging.getLogger("limited"), lines=1)
    with caplog.at_level(logging.WARNING, "limited"):
        limiter.warning("a", "one")
        limiter.warning("a", "two")
        await asyncio.sleep(1.2)  # the window's own timer, not a synchronisation
    assert lines(caplog) == [
        "one",
        "suppressed 1 more warnings from a (at most 1 are logged per second)",
    ]
    assert not limiter._windows, "an ended window is forgotten"


async def test_a_quiet_window_ends_without_a_summary(caplog: pytest.LogCaptureFixture) -> None:
    limiter = WarningLimiter(logging.getLogger("limited"), lines=5)
    with caplog.at_level(logging.WARNING, "limited"):
        limiter.warning("a", "one")
        await asyncio.sleep(1.2)
    assert lines(caplog) == ["one"]
    assert not limiter._windows
