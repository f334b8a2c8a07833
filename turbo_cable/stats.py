"""What this process's cable has done so far, counted as plain integers.

The counters are bumped once per broadcast, never once per socket: a fan-out to
five thousand subscribers adds its count and its bytes in one step, so the
delivery loop gains no call. They are read only when metrics are scraped
(:mod:`turbo_cable.metrics`), and exist only when metrics are on.
"""

from __future__ import annotations

import bisect
import collections

# Seconds from a broadcast reaching the hub to its last frame handed to the server.
FAN_OUT_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5)
MAX_REJECT_REASONS = 20  # distinct reasons kept apart; the rest count as "other"


def encoded_size(text: str) -> int:
    """Bytes of ``text`` as UTF-8, without encoding it when it is ASCII (nearly always)."""
    return len(text) if text.isascii() else len(text.encode("utf-8", "surrogatepass"))


class CableStats:
    """Counters since the process started; gauges are read from the live state instead."""

    __slots__ = (
        "broadcasts",
        "bytes_sent",
        "deliveries",
        "dropped_slow",
        "fan_out_buckets",
        "fan_out_count",
        "fan_out_sum",
        "redis_reconnects",
        "rejected",
        "replayed",
        "resyncs",
    )

    def __init__(self) -> None:
        self.broadcasts = 0
        self.deliveries = 0
        self.bytes_sent = 0
        self.dropped_slow = 0
        self.rejected: collections.Counter[str] = collections.Counter()
        self.replayed = 0
        self.resyncs = 0
        self.redis_reconnects = 0
        self.fan_out_buckets = [0] * (len(FAN_OUT_BUCKETS) + 1)  # the last one is +Inf
        self.fan_out_count = 0
        self.fan_out_sum = 0.0

    def fanned_out(self, seconds: float) -> None:
        """One broadcast handed to every local subscriber in ``seconds``."""
        self.fan_out_buckets[bisect.bisect_left(FAN_OUT_BUCKETS, seconds)] += 1
        self.fan_out_count += 1
        self.fan_out_sum += seconds

    def reject(self, reason: str) -> None:
        if reason not in self.rejected and len(self.rejected) >= MAX_REJECT_REASONS:
            reason = "other"
        self.rejected[reason] += 1
