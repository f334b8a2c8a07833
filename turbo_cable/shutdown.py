"""Opt-in (``EXIT_SIGNAL_HANDLERS``): close every cable socket with 1001 on SIGINT/SIGTERM.

By default the cable installs no process-wide signal handler: the server says
"going away" itself (uvicorn closes every WebSocket with 1012, service restart,
then sends ``lifespan.shutdown``, where the cable closes whatever is left with
1001; daphne sends no lifespan and cancels the cable, which closes with 4001).
The handler exists for servers that simply drop their sockets: it chains onto the
exit signals, closes every socket with 1001 first and gives the close frames a
moment to leave before the server's own handler runs.
"""

from __future__ import annotations

import os
import signal
import threading
from types import FrameType
from typing import Any

from turbo_cable.backends import running_backend
from turbo_cable.protocol import GOING_AWAY

EXIT_SIGNALS = (signal.SIGINT, signal.SIGTERM)
GRACE_SECONDS = 0.2  # time for close frames to be flushed before the server stops

_installed = False


def _pass_on(previous: Any, signum: int, frame: FrameType | None) -> None:
    if callable(previous):
        previous(signum, frame)
    elif previous != signal.SIG_IGN:
        signal.signal(signum, signal.SIG_DFL)
        os.kill(os.getpid(), signum)


def _chain(previous: Any) -> Any:
    state = {"signalled": False}

    def on_exit_signal(signum: int, frame: FrameType | None) -> None:
        backend = running_backend()
        loop = backend.loop if backend is not None else None
        if state["signalled"] or backend is None or loop is None or not loop.is_running():
            _pass_on(previous, signum, frame)  # a second signal means "now"
            return
        state["signalled"] = True

        def close_then_stop() -> None:
            backend.close_all(GOING_AWAY, "server shutting down")
            loop.call_later(GRACE_SECONDS, _pass_on, previous, signum, frame)

        loop.call_soon_threadsafe(close_then_stop)

    return on_exit_signal


def install_exit_signal_handlers() -> None:
    """Chain onto SIGINT/SIGTERM once; a no-op off the main thread (e.g. autoreload)."""
    global _installed
    if _installed or threading.current_thread() is not threading.main_thread():
        return
    _installed = True
    for signum in EXIT_SIGNALS:
        signal.signal(signum, _chain(signal.getsignal(signum)))
