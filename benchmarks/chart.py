"""The table of one ``make bench`` run as a chart: memory, CPU, latency and throughput per target.

Four panels of horizontal bars, one bar per target (two where a panel shows both
traffic scenarios), so the gap between the cable, its peers and the floors shows
at a glance. Drawn with matplotlib's Agg backend: no display needed.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
from matplotlib.ticker import FuncFormatter, NullFormatter

from benchmarks.harness import MIB, Scale

RATE_COLOUR, FANOUT_COLOUR, MEMORY_COLOUR = "#4c72b0", "#dd8452", "#55a868"


def _kib_per_connection(result: dict[str, Any], count: int) -> float:
    opened = max(1, result[f"open_{count}"])
    return float((result[f"rss_{count}"] - result["idle_rss"]) / 1024 / opened)


def _pair(
    axis: Any, names: list[str], rate: list[float], fanout: list[float], scale: Scale
) -> None:
    rows = range(len(names))
    axis.barh([r - 0.2 for r in rows], rate, 0.4, color=RATE_COLOUR,
              label=f"{scale.rate_subscribers} subs, {scale.rate_per_s} msg/s")  # fmt: skip
    axis.barh([r + 0.2 for r in rows], fanout, 0.4, color=FANOUT_COLOUR,
              label=f"{scale.fanout_subscribers} fan-out")  # fmt: skip
    axis.set_yticks(list(rows), names)


def draw(results: list[dict[str, Any]], scale: Scale, title: str, path: Path) -> None:
    names = [r["target"] for r in results]
    figure, axes = plt.subplots(2, 2, figsize=(11, 0.9 + 0.42 * len(names) * 2), dpi=80)
    (memory, cpu), (latency, throughput) = axes

    one_process = [r for r in results if "idle_rss" in r]
    middle = scale.idle[1]
    memory.barh(
        [names.index(r["target"]) for r in one_process],
        [_kib_per_connection(r, middle) for r in one_process],
        color=MEMORY_COLOUR,
    )
    for r in one_process:
        memory.annotate(
            f" idle {r['idle_rss'] / MIB:.0f} MiB",
            (_kib_per_connection(r, middle), names.index(r["target"])),
            va="center", fontsize=8,
        )  # fmt: skip
    memory.set_yticks(range(len(names)), names)
    memory.set_title(f"KiB per idle subscribed connection at {middle:,}")

    _pair(cpu, names, [r["rate"]["server_cpu_ms_per_1k"] for r in results],
          [r["fanout"]["server_cpu_ms_per_1k"] for r in results], scale)  # fmt: skip
    cpu.set_xscale("log")
    cpu.set_title("server CPU ms per 1,000 deliveries (log)")
    cpu.legend(fontsize=8, loc="lower right")

    _pair(latency, names, [r["rate"]["p99_ms"] or 0 for r in results],
          [r["fanout"]["p99_ms"] or 0 for r in results], scale)  # fmt: skip
    latency.set_xscale("log")
    latency.set_title("p99 latency ms (log)")

    throughput.barh(
        range(len(names)), [r["fanout"]["deliveries_per_s"] for r in results], color=FANOUT_COLOUR
    )
    throughput.set_yticks(range(len(names)), names)
    throughput.set_title(f"deliveries per second, {scale.fanout_subscribers:,} fan-out")
    throughput.xaxis.set_major_formatter(FuncFormatter(lambda value, _: f"{value:,.0f}"))

    for axis in (cpu, latency):
        axis.xaxis.set_major_formatter(FuncFormatter(lambda value, _: f"{value:g}"))
        axis.xaxis.set_minor_formatter(NullFormatter())
    for axis in axes.flat:
        axis.invert_yaxis()
        axis.tick_params(labelsize=8)
        axis.grid(axis="x", alpha=0.3)
    figure.suptitle(title, fontsize=10)
    figure.tight_layout()
    figure.savefig(path, dpi=80)
    plt.close(figure)
