"""State the event loop owns is touched on the loop, even when a worker thread asks.

Sync views and templates run on worker threads while the cable's loop changes the
same hub and history; the backend hands such calls to its loop.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable

from turbo_cable.backends import get_backend


async def test_a_worker_threads_question_is_answered_on_the_loop(
    configure: Callable[..., None],
) -> None:
    configure()
    backend = get_backend()
    await backend.start()
    try:
        loop_thread = threading.get_ident()
        answered_on = await asyncio.to_thread(
            backend.call_on_loop, threading.get_ident, default=None
        )
        assert answered_on == loop_thread
        # A page rendered on a worker thread gets the same position the loop has.
        here = backend.position("threads")
        there = await asyncio.to_thread(backend.position, "threads")
        assert there == here
        assert there is not None
    finally:
        await backend.stop()


async def test_a_loop_that_does_not_answer_in_time_gives_the_default(
    configure: Callable[..., None],
) -> None:
    configure()
    backend = get_backend()
    await backend.start()
    blocked = threading.Event()

    def ask_while_the_loop_is_busy() -> object:
        blocked.wait(5)
        return backend.call_on_loop(threading.get_ident, default="no answer")

    try:
        asking = asyncio.get_running_loop().run_in_executor(None, ask_while_the_loop_is_busy)
        blocked.set()
        threading.Event().wait(1.5)  # the loop is busy: it cannot answer within a second
        assert await asking == "no answer"
    finally:
        await backend.stop()
