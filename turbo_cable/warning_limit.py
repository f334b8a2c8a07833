"""At most a few warnings a second about one client, so no client can flood the log.

Past ``LINES_PER_SECOND`` lines in a second, warnings about that client are only
counted, and one line when the second ends says how many were suppressed: the
log stays readable and every refusal is still accounted for.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import time
from collections.abc import Callable
from typing import Any

LINES_PER_SECOND = 5
WINDOW = 1.0  # seconds


@dataclasses.dataclass(slots=True)
class _Window:
    ends: float
    logged: int = 0
    suppressed: int = 0
    timer: asyncio.TimerHandle | None = None


class WarningLimiter:
    """Rate-limited ``logger.warning`` per key (a client's address)."""

    def __init__(
        self,
        logger: logging.Logger,
        lines: int = LINES_PER_SECOND,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._logger = logger
        self._lines = lines
        self._clock = clock
        self._windows: dict[str, _Window] = {}

    def warning(self, key: str, message: str, *args: Any) -> None:
        now = self._clock()
        window = self._windows.get(key)
        if window is not None and now >= window.ends:
            self._end(key, window)
            window = None
        if window is None:
            window = self._windows[key] = _Window(now + WINDOW)
            window.timer = self._end_later(key, window)
        if window.logged < self._lines:
            window.logged += 1
            self._logger.warning(message, *args)
        else:
            window.suppressed += 1

    def _end_later(self, key: str, window: _Window) -> asyncio.TimerHandle | None:
        """Log the summary when the window ends, even if the client says nothing more."""
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:  # no loop: the next warning about ``key`` ends the window
            return None
        return loop.call_later(WINDOW, self._end, key, window)

    def _end(self, key: str, window: _Window) -> None:
        if self._windows.get(key) is not window:
            return
        del self._windows[key]
        if window.timer is not None:
            window.timer.cancel()
        if window.suppressed:
            self._logger.warning(
                "suppressed %d more warnings from %s (at most %d are logged per second)",
                window.suppressed,
                key,
                self._lines,
            )


client_warnings = WarningLimiter(logging.getLogger("turbo_cable"))
