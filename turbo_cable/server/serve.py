"""Run an ASGI application under the cable's own server until SIGINT or SIGTERM.

The order of a stop is uvicorn's, which the cable was built against: stop
listening, close every WebSocket with 1012 (service restart) and tell its
application, let HTTP requests in progress finish, run ``lifespan.shutdown``,
then re-raise the signal, so a process manager sees the process end as it asked.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import threading
from collections.abc import Callable
from typing import Any, Final

from turbo_cable.server.connection import ServerConnection
from turbo_cable.server.lifespan import Lifespan
from turbo_cable.server.scopes import Address, ProxyTrust

logger = logging.getLogger("turbo_cable.server")

STARTUP_FAILURE: Final = 3  # the exit status when it cannot start, as uvicorn's
STOP_TIMEOUT: Final = 10.0  # seconds for applications to end after the close frames
BACKLOG: Final = 2048  # sockets the kernel may queue before they are accepted


class ServerState:
    """What every connection of one server shares."""

    def __init__(self, app: Any, max_frame_size: int, loop: asyncio.AbstractEventLoop) -> None:
        self.app = app
        self.max_frame_size = max_frame_size
        self.loop = loop
        self.connections: set[ServerConnection] = set()
        self.proxy_trust = ProxyTrust()
        self.state: dict[str, Any] = {}  # the lifespan state every scope gets a copy of
        self.address: Address | None = None
        self.stopping = False
        self.all_closed = asyncio.Event()  # set once stopping and no connection is left

    def forget(self, connection: ServerConnection) -> None:
        self.connections.discard(connection)
        if self.stopping and not self.connections:
            self.all_closed.set()


def run(app: Any, host: str, port: int, max_frame_size: int) -> int:
    """Serve until told to stop; the exit status (0, or :data:`STARTUP_FAILURE`).

    After a stop by signal, the signal is raised again once everything is closed.
    """
    stop_signal: list[int] = []
    with asyncio.Runner(loop_factory=_loop_factory()) as runner:
        status = runner.run(_serve(app, host, port, max_frame_size, stop_signal))
    if stop_signal and status == 0:
        signal.signal(stop_signal[0], signal.SIG_DFL)
        os.kill(os.getpid(), stop_signal[0])
    return status


def _loop_factory() -> Callable[[], asyncio.AbstractEventLoop] | None:
    try:
        import uvloop
    except ImportError:
        return None
    return uvloop.new_event_loop


async def _serve(
    app: Any, host: str, port: int, max_frame_size: int, stop_signal: list[int]
) -> int:
    loop = asyncio.get_running_loop()
    state = ServerState(app, max_frame_size, loop)
    lifespan = Lifespan(app, state.state)
    if not await lifespan.startup():
        return STARTUP_FAILURE
    try:
        server = await listen(state, host, port)
    except OSError as exc:
        logger.error("%s", exc)
        await lifespan.shutdown()
        return STARTUP_FAILURE
    assert state.address is not None
    stopped = asyncio.Event()

    def on_signal(signum: int) -> None:
        if stop_signal:  # a second signal: stop now
            os._exit(128 + signum)
        stop_signal.append(signum)
        stopped.set()

    if threading.current_thread() is threading.main_thread():  # not under --reload's thread
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(signum, on_signal, signum)
    logger.info("serving on %s:%d (process %d)", host, state.address[1], os.getpid())
    await stopped.wait()
    logger.info("stopping: closing %d connections", len(state.connections))
    await stop(server, state)
    await lifespan.shutdown()
    logger.info("stopped")
    return 0


async def listen(state: ServerState, host: str, port: int) -> asyncio.Server:
    """Accept connections on ``host:port`` (0: any free port, then in ``state.address``)."""
    server = await state.loop.create_server(
        lambda: ServerConnection(state), host, port, reuse_address=True, backlog=BACKLOG
    )
    bound = server.sockets[0].getsockname()
    state.address = (str(bound[0]), int(bound[1]))
    return server


async def stop(server: asyncio.Server, state: ServerState) -> None:
    """Stop listening, close every connection as a restart, wait for them to go."""
    state.stopping = True
    server.close()
    for connection in list(state.connections):
        connection.shutdown()
    if state.connections:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(state.all_closed.wait(), STOP_TIMEOUT)
    for connection in list(state.connections):
        with contextlib.suppress(Exception):
            connection.transport.abort()
