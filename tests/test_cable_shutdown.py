"""On shutdown every client hears "going away", so it knows to reconnect."""

from __future__ import annotations

import asyncio
import signal

import pytest

from tests.cable_client import CableClient
from tests.close_codes import expected_close_code
from tests.servers import SERVERS, LiveServer
from turbo_cable.streams import signed_stream_name


@pytest.mark.parametrize("kind", SERVERS)
@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
async def test_clients_are_closed_with_1001_when_the_server_stops(kind: str, sig: int) -> None:
    server = await asyncio.to_thread(LiveServer, kind)
    try:
        clients = [await CableClient.connect(server.cable_url) for _ in range(3)]
        for client in clients:
            await client.subscribe(signed_stream_name("shutdown"))
        server.process.send_signal(sig)
        for client in clients:
            close, _ = await client.read_until_closed()
            assert close is not None
            assert close.code == expected_close_code(server, 1001)
        returncode = await asyncio.to_thread(server.process.wait, 15)
    finally:
        server.stop()
    # uvicorn re-raises the signal once it has shut down cleanly.
    assert returncode in (0, -sig), server.output()
