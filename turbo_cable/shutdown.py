"""Close every cable connection with 1001 (going away) when the server is told to stop.

ASGI servers close WebSockets themselves on shutdown (uvicorn with 1012), before
the application hears about it. Chaining onto the exit signals lets the cable
say "going away" first, so every client knows to reconnect elsewhere.
"""

from __future__ import annotations

import os
import signal
import threading
from types import FrameType
from typing import Any

from turbo_cable.backends import running_backend
from turbo_cable.protocol import GOING_AWAY

_EXIT_SIGNALS = (signal.SIGINT, signal.SIGTERM)
_installed = False


def close_all_connections() -> None:
    backend = running_backend()
    if backend is not None and backend.loop is not None:
        backend.loop.call_soon_threadsafe(backend.close_all, GOING_AWAY, "server shutting down")


def _chain(previous: Any) -> Any:
    def on_exit_signal(signum: int, frame: FrameType | None) -> None:
        close_all_connections()
        if callable(previous):
            previous(signum, frame)
        elif previous != signal.SIG_IGN:
            signal.signal(signum, signal.SIG_DFL)
            os.kill(os.getpid(), signum)

    return on_exit_signal


def install_exit_signal_handlers() -> None:
    """Chain onto SIGINT/SIGTERM once; a no-op off the main thread (e.g. autoreload)."""
    global _installed
    if _installed or threading.current_thread() is not threading.main_thread():
        return
    _installed = True
    for signum in _EXIT_SIGNALS:
        signal.signal(signum, _chain(signal.getsignal(signum)))
