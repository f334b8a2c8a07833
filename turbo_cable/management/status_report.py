"""Reading a running cable's ``METRICS_PATH`` and saying, in a few lines, how it is doing.

Used by ``manage.py turbo_cable_status``; the parsing needs ``prometheus-client``.
"""

from __future__ import annotations

import dataclasses
import json
import urllib.error
import urllib.request
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from turbo_cable.conf import CableSettings

INSTALL_HINT = "pip install 'django-turbo-cable[metrics]'"


class StatusUnavailable(Exception):
    """The cable could not be read; the message says why and what to do."""


def metrics_url(settings: CableSettings) -> str:
    """``METRICS_PATH`` on the host and port broadcasts go to (the same process)."""
    parts = urlsplit(settings.broadcast_url)
    return urlunsplit((parts.scheme, parts.netloc, settings.METRICS_PATH or "/_metrics", "", ""))


def fetch(url: str, token: str | None, timeout: float = 5.0) -> str:
    """The metrics text at ``url``, or :class:`StatusUnavailable` with the reason."""
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    request = urllib.request.Request(url, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return str(response.read().decode("utf-8"))
    except urllib.error.HTTPError as refused:
        raise StatusUnavailable(f"{url} answered {refused.code}: {_reason(refused)}") from None
    except (urllib.error.URLError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        raise StatusUnavailable(f"no cable answers at {url} ({reason}); is it running?") from None


def _reason(refused: urllib.error.HTTPError) -> str:
    try:
        return str(json.loads(refused.read())["error"])
    except Exception:
        return refused.reason or "no reason given"


@dataclasses.dataclass
class Figures:
    """One scrape: plain samples by name and labels."""

    samples: dict[tuple[str, tuple[tuple[str, str], ...]], float]

    @classmethod
    def parse(cls, text: str) -> Figures:
        try:
            from prometheus_client.parser import text_string_to_metric_families
        except ImportError:
            raise StatusUnavailable(
                f"reading metrics needs prometheus-client: {INSTALL_HINT}"
            ) from None
        return cls(
            {
                (sample.name, tuple(sorted(sample.labels.items()))): sample.value
                for family in text_string_to_metric_families(text)
                for sample in family.samples
            }
        )

    def get(self, name: str, **labels: str) -> float:
        return self.samples.get((f"turbo_cable_{name}", tuple(sorted(labels.items()))), 0.0)

    def labelled(self, name: str, label: str) -> list[tuple[str, float]]:
        wanted = f"turbo_cable_{name}"
        return [
            (dict(labels)[label], value)
            for (sample, labels), value in self.samples.items()
            if sample == wanted and label in dict(labels)
        ]

    def has(self, name: str) -> bool:
        return any(sample == f"turbo_cable_{name}" for sample, _ in self.samples)


def report(url: str, now: Figures, before: Figures | None, seconds: float) -> list[str]:
    """Lines that say how the cable at ``url`` is doing; rates when ``before`` is given."""

    def count(value: float) -> str:
        return f"{int(value):,}"

    def rate(name: str) -> str:
        if before is None or seconds <= 0:
            return ""
        return f"  ({(now.get(name) - before.get(name)) / seconds:,.1f}/s)"

    lines = [f"Cable at {url}"]
    rows = [
        ("connections", count(now.get("connections")), ""),
        ("subscriptions", count(now.get("subscriptions")), ""),
        ("streams", count(now.get("streams")), ""),
        ("broadcasts", count(now.get("broadcasts_total")), rate("broadcasts_total")),
        ("deliveries", count(now.get("deliveries_total")), rate("deliveries_total")),
        ("bytes sent", count(now.get("sent_bytes_total")), rate("sent_bytes_total")),
        ("dropped slow sockets", count(now.get("dropped_slow_connections_total")), ""),
        ("replayed messages", count(now.get("replayed_messages_total")), ""),
        ("resyncs", count(now.get("resyncs_total")), ""),
    ]
    fanned = now.get("fan_out_seconds_count")
    if fanned:
        mean = now.get("fan_out_seconds_sum") / fanned * 1000
        rows.append(("fan-out time, mean", f"{mean:.2f} ms", ""))
    if now.has("redis_connected"):
        state = "connected" if now.get("redis_connected") else "DISCONNECTED"
        reconnects = int(now.get("redis_reconnects_total"))
        rows.append(("redis", state, f"  ({reconnects} reconnection(s))"))
    lines += [f"  {name:<22}{value:>14}{extra}" for name, value, extra in rows]
    rejected = sorted(now.labelled("rejected_subscriptions_total", "reason"), key=lambda p: -p[1])
    if rejected:
        lines.append("Rejected subscriptions")
        lines += [f"  {reason:<36}{count(value):>14}" for reason, value in rejected]
    busiest = sorted(now.labelled("stream_subscribers", "stream"), key=lambda p: (-p[1], p[0]))
    lines.append("Busiest streams (subscribers)" if busiest else "No stream has subscribers.")
    lines += [f"  {_short(stream):<36}{count(value):>14}" for stream, value in busiest]
    return lines


def _short(stream: str, width: int = 36) -> str:
    return stream if len(stream) <= width else stream[: width - 1] + "…"


def summary(url: str, token: str | None, interval: float, sleep: Any) -> list[str]:
    """Scrape ``url`` (twice, ``interval`` apart, for rates) and report."""
    before = Figures.parse(fetch(url, token)) if interval > 0 else None
    if before is not None:
        sleep(interval)
    return report(url, Figures.parse(fetch(url, token)), before, interval)
