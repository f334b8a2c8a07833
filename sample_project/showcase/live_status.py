"""The status page's figures, broadcast every second on ``status`` while someone watches.

The loop runs in the server's own event loop beside the cable (started by the first
visit, ended a few seconds after the last viewer left) and reads this process's
cable: its connections and streams, the counters behind ``/_metrics``, and who is
present on which stream. With several processes each page shows the process that
serves its socket; ``manage.py turbo_cable_status`` and Prometheus see each one.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

from django.template.loader import render_to_string

from turbo_cable.backends import Backend, get_backend
from turbo_cable.broadcast import abroadcast
from turbo_cable.metrics import busiest_streams
from turbo_cable.stream_actions import update

STREAM = "status"
TARGET = "status-figures"
EVERY = 1.0  # seconds between two updates
LINGER = 5  # updates skipped with nobody watching before the loop ends

_running: asyncio.Task[None] | None = None


def figures(backend: Backend, previous: tuple[float, int] | None) -> dict[str, Any]:
    """What the page shows; ``previous`` is (when, deliveries) of the last reading."""
    stats = backend.stats
    deliveries = stats.deliveries if stats is not None else 0
    now = time.monotonic()
    rate = None
    if previous is not None and stats is not None and now > previous[0]:
        rate = (deliveries - previous[1]) / (now - previous[0])
    board = backend.presence
    return {
        "metrics_on": stats is not None,
        "connections": len(backend.connections),
        "streams": len(backend.hub.streams()),
        "deliveries": deliveries,
        "deliveries_per_second": rate,
        "broadcasts": stats.broadcasts if stats is not None else 0,
        "dropped": stats.dropped_slow if stats is not None else 0,
        "busiest": busiest_streams(backend, 5),
        "present": sorted((stream, board.local(stream)) for stream in list(board.here)),
        "taken_at": now,
    }


def render(context: dict[str, Any]) -> str:
    return render_to_string("showcase/_status_figures.html", context)


async def _report() -> None:
    backend = get_backend()
    previous: tuple[float, int] | None = None
    idle = 0
    while idle < LINGER:
        await asyncio.sleep(EVERY)
        if not backend.hub.subscriber_count(STREAM):
            idle += 1
            continue
        idle = 0
        context = figures(backend, previous)
        previous = (context["taken_at"], context["deliveries"])
        await abroadcast(STREAM, update(TARGET, render(context)))


def ensure_reporting() -> None:
    """Start the loop on the running event loop unless it runs already."""
    global _running
    if _running is None or _running.done():
        _running = asyncio.get_running_loop().create_task(_report())
