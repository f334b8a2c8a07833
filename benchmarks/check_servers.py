"""``python -m benchmarks.check_servers``: the RFC 6455 behaviour the cable relies on, per server.

Each ASGI server candidate serves :mod:`benchmarks.probe_app`; a ``websockets``
client and a bare socket then check that the close codes the cable sends (1000,
1001, 1008, 1009) reach the client, that a ping gets its pong, that a fragmented
message arrives whole, what the server does with a 2 MiB and a 20 MiB frame (the
cable refuses frames over ``MAX_FRAME_SIZE``, 1 MiB, itself, but only once the
server has buffered them), and whether ``websocket.send`` waits when the peer stops
reading, or queues in memory. Prints a markdown table; takes about a minute.
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
import urllib.request
from typing import Any

import websockets
from websockets.asyncio.client import connect

from benchmarks.harness import MIB
from benchmarks.processes import Sampler
from benchmarks.targets import (
    RECOMMENDED_UVICORN,
    TURBO_SETTINGS,
    Server,
    Target,
    _granian,
    _hypercorn,
    _uvicorn,
)
from tests.raw_websocket import RawWebSocket

PROBE_APP = "benchmarks.probe_app:application"
CANDIDATES = (
    Target(
        "turbo_cable's builtin server",
        ("-m", "turbo_cable.server", PROBE_APP, "--host", "127.0.0.1", "--port", "{port}"),
        TURBO_SETTINGS,
    ),
    Target(
        "uvicorn + turbo_cable protocol (sansio)",
        _uvicorn(PROBE_APP, *RECOMMENDED_UVICORN),
        TURBO_SETTINGS,
    ),
    Target(
        "uvicorn wsproto",
        _uvicorn(PROBE_APP, "--ws", "wsproto", "--ws-ping-interval", "0"),
        TURBO_SETTINGS,
    ),
    Target("granian", _granian(PROBE_APP), TURBO_SETTINGS),
    Target("hypercorn", _hypercorn(PROBE_APP), TURBO_SETTINGS),
)
CLOSE_CODES = (1000, 1001, 1008, 1009)
STALL_SECONDS = 3.0


async def close_code(url: str) -> str:
    try:
        async with connect(url, compression=None) as ws:
            await asyncio.wait_for(ws.recv(), 5)
    except websockets.ConnectionClosed as closed:
        return "no close frame" if closed.rcvd is None else str(closed.rcvd.code)
    except (OSError, TimeoutError) as exc:
        return f"error: {exc!r}"
    return "no close"


async def ping_and_fragments(url: str) -> tuple[str, str]:
    async with connect(url, compression=None, ping_interval=None) as ws:
        started = time.perf_counter()
        await asyncio.wait_for(await ws.ping(), 5)
        pong = f"pong in {(time.perf_counter() - started) * 1000:.1f} ms"
        await ws.send(iter(["frag", "mented", " message"]))
        whole = await asyncio.wait_for(ws.recv(), 5)
        return pong, "whole" if whole == "fragmented message" else f"got {whole!r}"


async def oversize(url: str, size: int) -> str:
    try:
        async with connect(url, compression=None, max_size=None, ping_interval=None) as ws:
            await ws.send("x" * size)
            answer = await asyncio.wait_for(ws.recv(), 10)
            return f"accepted ({len(answer) // MIB} MiB echoed)"
    except websockets.ConnectionClosed as closed:
        return "closed, no code" if closed.rcvd is None else f"refused {closed.rcvd.code}"
    except (OSError, TimeoutError) as exc:
        return f"error: {type(exc).__name__}"


def flood_report(port: int) -> dict[str, float]:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/flood-report", timeout=5) as r:
        report: dict[str, float] = json.loads(r.read())
        return report


def backpressure(server: Server) -> str:
    """A peer that reads nothing: does ``send`` wait, and what does the server hold?"""
    sampler = Sampler(server.pid)
    before = sampler.rss()
    stalled = RawWebSocket(server.port, "/flood", receive_buffer=4096)
    time.sleep(STALL_SECONDS)
    first = flood_report(server.port)["sent"]
    time.sleep(1.0)
    report = flood_report(server.port)
    grown = (sampler.rss() - before) / MIB
    stalled.sock.close()
    sent_mib = report["sent"] * 64 / 1024
    if report["sent"] > first or report["sent"] >= 4096:
        return f"no: {sent_mib:.0f} MiB accepted by send, RSS +{grown:.0f} MiB"
    return f"yes: send waits after {sent_mib:.1f} MiB, RSS +{grown:.0f} MiB"


def check(target: Target) -> dict[str, Any]:
    server = target.start(30.0)
    try:
        base = f"ws://127.0.0.1:{server.port}"
        row: dict[str, Any] = {"server": target.name}
        for code in CLOSE_CODES:
            row[str(code)] = asyncio.run(close_code(f"{base}/close/{code}"))
        row["ping"], row["fragments"] = asyncio.run(ping_and_fragments(f"{base}/echo"))
        row["2 MiB frame"] = asyncio.run(oversize(f"{base}/echo", 2 * MIB))
        row["20 MiB frame"] = asyncio.run(oversize(f"{base}/echo", 20 * MIB))
        row["send waits"] = backpressure(server)
        row["still serving"] = asyncio.run(close_code(f"{base}/close/1000")) == "1000"
        return row
    finally:
        server.stop()


def main() -> int:
    rows = [check(target) for target in CANDIDATES]
    columns = list(rows[0])
    print("| " + " | ".join(columns) + " |")
    print("|---" * len(columns) + "|")
    for row in rows:
        print("| " + " | ".join(str(row[c]) for c in columns) + " |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
