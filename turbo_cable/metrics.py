"""``GET METRICS_PATH``: this process's cable in the Prometheus text format.

Counters come from :class:`~turbo_cable.stats.CableStats`, gauges from the live
state (connections, streams, subscribers), read only when scraped: the cable
itself never calls into ``prometheus-client``. The figures are this process's;
every process serving the cable answers for itself (see docs/operations.rst).
Protected like the broadcast endpoint: loopback or ``BROADCAST_TOKEN``, never a page.
"""

from __future__ import annotations

import heapq
import logging
from collections.abc import Iterator
from typing import Any

from turbo_cable.asgi_types import Scope
from turbo_cable.backends import Backend
from turbo_cable.conf import CableSettings, prometheus_installed
from turbo_cable.endpoint import BadBroadcast, authorize, respond_json
from turbo_cable.stats import FAN_OUT_BUCKETS, CableStats

logger = logging.getLogger("turbo_cable")

BUSIEST_STREAMS = 10  # streams given a subscriber gauge of their own: bounded cardinality
INSTALL_HINT = "metrics need prometheus-client: pip install 'django-turbo-cable[metrics]'"


def busiest_streams(backend: Backend, count: int = BUSIEST_STREAMS) -> list[tuple[str, int]]:
    """The ``count`` streams with the most local subscribers, most first."""
    hub = backend.hub
    return heapq.nlargest(
        count, ((s, hub.subscriber_count(s)) for s in hub.streams()), key=lambda p: p[1]
    )


class CableCollector:
    """A ``prometheus-client`` collector reading one backend when scraped."""

    def __init__(self, backend: Backend, stats: CableStats) -> None:
        self.backend = backend
        self.stats = stats

    def collect(self) -> Iterator[Any]:
        from prometheus_client.core import (
            CounterMetricFamily,
            GaugeMetricFamily,
            HistogramMetricFamily,
        )

        backend, stats, hub = self.backend, self.stats, self.backend.hub
        streams = hub.streams()

        def gauge(name: str, doc: str, value: float) -> Any:
            return GaugeMetricFamily(f"turbo_cable_{name}", doc, value=value)

        def counter(name: str, doc: str, value: float) -> Any:
            return CounterMetricFamily(f"turbo_cable_{name}", doc, value=value)

        yield gauge("connections", "Open cable connections.", len(backend.connections))
        yield gauge(
            "subscriptions",
            "Subscriptions of open connections.",
            sum(hub.subscriber_count(s) for s in streams),
        )
        yield gauge("streams", "Streams with at least one local subscriber.", len(streams))
        busiest = GaugeMetricFamily(
            "turbo_cable_stream_subscribers",
            f"Local subscribers of the {BUSIEST_STREAMS} busiest streams.",
            labels=["stream"],
        )
        for stream, count in busiest_streams(backend):
            busiest.add_metric([stream], count)
        yield busiest
        yield counter("broadcasts", "Broadcasts that reached this process.", stats.broadcasts)
        yield counter("deliveries", "Broadcast frames handed to sockets.", stats.deliveries)
        yield counter("sent_bytes", "UTF-8 bytes of broadcast frames sent.", stats.bytes_sent)
        yield counter(
            "dropped_slow_connections",
            "Connections closed because they stopped reading.",
            stats.dropped_slow,
        )
        rejected = CounterMetricFamily(
            "turbo_cable_rejected_subscriptions",
            "Subscriptions refused, by reason.",
            labels=["reason"],
        )
        for reason, count in sorted(stats.rejected.items()):
            rejected.add_metric([reason], count)
        yield rejected
        yield counter("replayed_messages", "Messages replayed from history.", stats.replayed)
        yield counter(
            "resyncs", "Resync frames sent (history could not cover a gap).", stats.resyncs
        )
        relay = backend.relay_connected()
        if relay is not None:
            yield gauge("redis_connected", "1 when the Redis subscriber is connected.", relay)
            yield counter(
                "redis_reconnects",
                "Reconnections to Redis after it was lost.",
                stats.redis_reconnects,
            )
        yield _histogram(HistogramMetricFamily, stats)


def _histogram(family: Any, stats: CableStats) -> Any:
    cumulative, buckets = 0, []
    for bound, count in zip((*FAN_OUT_BUCKETS, float("inf")), stats.fan_out_buckets, strict=True):
        cumulative += count
        buckets.append(("+Inf" if bound == float("inf") else repr(bound), cumulative))
    return family(
        "turbo_cable_fan_out_seconds",
        "Time from a broadcast reaching this process to its frames handed to the server.",
        buckets=buckets,
        sum_value=stats.fan_out_sum,
    )


def exposition(backend: Backend, stats: CableStats) -> bytes:
    """The Prometheus text for ``backend``, with the process's CPU and memory."""
    from prometheus_client import CollectorRegistry, ProcessCollector, generate_latest

    registry = CollectorRegistry(auto_describe=False)
    registry.register(CableCollector(backend, stats))
    ProcessCollector(registry=registry)
    return generate_latest(registry)


async def serve_metrics(scope: Scope, send: Any, backend: Backend, settings: CableSettings) -> None:
    """The ASGI HTTP application behind ``METRICS_PATH``."""
    if scope["method"] not in ("GET", "HEAD"):
        await respond_json(send, 405, {"error": "only GET is allowed"}, allow="GET, HEAD")
        return
    try:
        authorize(scope, settings, reading="metrics")
    except BadBroadcast as refused:
        logger.warning("refused metrics request from %s: %s", scope.get("client"), refused.reason)
        await respond_json(send, refused.status, {"error": refused.reason})
        return
    try:
        if backend.stats is None or not prometheus_installed():
            raise ImportError("prometheus_client")
        body = exposition(backend, backend.stats)
    except ImportError:
        await respond_json(send, 501, {"error": INSTALL_HINT})
        return
    headers = [
        (b"content-type", b"text/plain; version=0.0.4; charset=utf-8"),
        (b"content-length", str(len(body)).encode()),
        (b"cache-control", b"no-store"),
    ]
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    await send({"type": "http.response.body", "body": body if scope["method"] == "GET" else b""})
