"""The table of one ``make bench`` run as a chart: memory, CPU, latency and throughput per target.

Four panels of horizontal bars, one bar per target (two where a panel shows both
traffic scenarios), so the gap between the cable, its peers and the floors shows
at a glance. Drawn with matplotlib's Agg backend: no display needed.
"""

from __future__ import annotations

import json
import sys
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
    bars = axis.barh([r - 0.2 for r in rows], rate, 0.4, color=RATE_COLOUR,
              label=f"{scale.rate_subscribers} subs, {scale.rate_per_s} msg/s")  # fmt: skip
    axis.bar_label(bars, fmt="%.3g", fontsize=7, padding=2)
    bars = axis.barh([r + 0.2 for r in rows], fanout, 0.4, color=FANOUT_COLOUR,
              label=f"{scale.fanout_subscribers} fan-out")  # fmt: skip
    axis.bar_label(bars, fmt="%.3g", fontsize=7, padding=2)
    axis.set_yticks(list(rows), names)


def draw(results: list[dict[str, Any]], scale: Scale, title: str, path: Path) -> None:
    names = [r["target"] for r in results]
    figure, axes = plt.subplots(2, 2, figsize=(11, 0.9 + 0.42 * len(names) * 2), dpi=80)
    (memory, cpu), (latency, throughput) = axes

    one_process = [r for r in results if "idle_rss" in r]
    middle = scale.idle[1]
    bars = memory.barh(
        [names.index(r["target"]) for r in one_process],
        [_kib_per_connection(r, middle) for r in one_process],
        color=MEMORY_COLOUR,
    )
    memory.bar_label(
        bars,
        [f"{_kib_per_connection(r, middle):.1f} (idle {r['idle_rss'] / MIB:.0f} MiB)"
         for r in one_process],
        fontsize=7, padding=2,
    )  # fmt: skip
    memory.set_yticks(range(len(names)), names)
    memory.set_title(f"KiB per idle subscribed connection at {middle:,}")

    _pair(cpu, names, [r["rate"]["server_cpu_ms_per_1k"] for r in results],
          [r["fanout"]["server_cpu_ms_per_1k"] for r in results], scale)  # fmt: skip
    cpu.set_xscale("log")
    cpu.set_title("server CPU ms per 1,000 deliveries (log)")
    cpu.legend(fontsize=7, loc="upper center", bbox_to_anchor=(0.5, -0.08), ncols=2)

    _pair(latency, names, [r["rate"]["p99_ms"] or 0 for r in results],
          [r["fanout"]["p99_ms"] or 0 for r in results], scale)  # fmt: skip
    latency.set_xscale("log")
    latency.set_title("p99 latency ms (log)")

    bars = throughput.barh(
        range(len(names)), [r["fanout"]["deliveries_per_s"] for r in results], color=FANOUT_COLOUR
    )
    throughput.bar_label(bars, fmt="{:,.0f}", fontsize=7, padding=2)
    throughput.set_yticks(range(len(names)), names)
    throughput.set_title(f"deliveries per second, {scale.fanout_subscribers:,} fan-out")
    throughput.xaxis.set_major_formatter(FuncFormatter(lambda value, _: f"{value:,.0f}"))

    for axis in (cpu, latency):
        axis.xaxis.set_major_formatter(FuncFormatter(lambda value, _: f"{value:g}"))
        axis.xaxis.set_minor_formatter(NullFormatter())
    for axis in axes.flat:
        axis.margins(x=0.25)
        axis.invert_yaxis()
        axis.tick_params(labelsize=8)
        axis.grid(axis="x", alpha=0.3)
    figure.suptitle(title, fontsize=10)
    figure.tight_layout()
    figure.savefig(path, dpi=80)
    plt.close(figure)


def main(argv: list[str]) -> int:
    """``python -m benchmarks.chart RESULTS.json OUT.png``: redraw a run's chart."""
    document = json.loads(Path(argv[0]).read_text())
    sizes = {k: tuple(v) if isinstance(v, list) else v for k, v in document["scale"].items()}
    factor = sizes["fanout_subscribers"] / Scale().fanout_subscribers
    title = (
        f"django-turbo-cable benchmarks, {document['date'][:10]}, scale {factor:g} "
        f"({document['machine'].split(',')[0]}, 2 shared cores)"
    )
    draw(document["results"], Scale(**sizes), title, Path(argv[1]))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
