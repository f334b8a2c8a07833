"""On shutdown clients hear that the server is going away, without a signal handler of ours.

By default the cable leaves SIGINT/SIGTERM to the server: uvicorn closes every
socket with 1012 (service restart); daphne drops them (the client sees an
abnormal close). ``EXIT_SIGNAL_HANDLERS`` makes the cable close them with 1001
(4001 under daphne) before the server's own shutdown runs.
"""

from __future__ import annotations

import asyncio
import signal

import pytest

from tests.cable_client import CableClient
from tests.close_codes import expected_close_code
from tests.servers import SERVERS, LiveServer
from turbo_cable.streams import signed_stream_name

SERVICE_RESTART = 1012


async def _close_codes_on(server: LiveServer, sig: int) -> list[int | None]:
    clients = [await CableClient.connect(server.cable_url) for _ in range(3)]
    for client in clients:
        await client.subscribe(signed_stream_name("shutdown"))
    server.process.send_signal(sig)
    codes = []
    for client in clients:
        close, _ = await client.read_until_closed()
        codes.append(close.code if close is not None else None)
    return codes


@pytest.mark.parametrize("kind", SERVERS)
@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
async def test_by_default_the_server_closes_the_sockets_itself(kind: str, sig: int) -> None:
    server = await asyncio.to_thread(LiveServer, kind)
    try:
        codes = await _close_codes_on(server, sig)
        returncode = await asyncio.to_thread(server.process.wait, 15)
    finally:
        server.stop()
    # uvicorn says "service restart"; daphne drops the connections without a close frame.
    assert codes == [SERVICE_RESTART if kind == "uvicorn" else None] * 3, server.output()
    assert returncode in (0, -sig), server.output()


@pytest.mark.parametrize("kind", SERVERS)
@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
async def test_with_exit_signal_handlers_clients_are_closed_with_1001(kind: str, sig: int) -> None:
    server = await asyncio.to_thread(LiveServer, kind, settings={"EXIT_SIGNAL_HANDLERS": True})
    try:
        codes = await _close_codes_on(server, sig)
        returncode = await asyncio.to_thread(server.process.wait, 15)
    finally:
        server.stop()
    assert codes == [expected_close_code(server, 1001)] * 3, server.output()
    # uvicorn re-raises the signal once it has shut down cleanly.
    assert returncode in (0, -sig), server.output()
