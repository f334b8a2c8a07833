"""``python -m benchmarks.run``: every target, one after another, and a markdown table.

All targets run in the same invocation with identical parameters, so compare the
ratios between rows rather than absolute figures from different days.
"""

from __future__ import annotations

import argparse
import datetime
import json
import platform
import signal
import sys
from pathlib import Path
from typing import Any

from benchmarks.harness import MIB, Scale, ensure_load_generator, run_target
from benchmarks.targets import (
    COMPARED,
    DEFAULT_TARGETS,
    PROCESS_TARGETS,
    ROOT,
    SERVER_TARGETS,
    TARGETS,
    WORKER_TARGETS,
)

RESULTS = ROOT / "benchmarks" / "results"
FLOOR = "floor-websockets"


def run(names: list[str], scale: Scale, log: Any = print) -> list[dict[str, Any]]:
    ensure_load_generator()
    results = []
    for name in names:
        log(f"{name}:")
        results.append(run_target(TARGETS[name], scale, log))
    return results


def _kib_per_connection(result: dict[str, Any], count: int) -> float:
    return (result[f"rss_{count}"] - result["idle_rss"]) / 1024 / max(1, result[f"open_{count}"])


def _ms(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f}"


def _lost(run: dict[str, Any]) -> str:
    """Lost deliveries, and broadcasts the time budget left unsent (a saturated server)."""
    unsent = run["broadcasts"] - run["sent"]
    return f"{run['lost']}" + (f", {unsent} of {run['broadcasts']} unsent" if unsent else "")


def _ratio(value: float, reference: float | None) -> str:
    return "-" if not reference else f"{value / reference:.2f}x"


def table(results: list[dict[str, Any]], scale: Scale) -> str:
    """The published table of one-process targets; CPU ratios are relative to the floor
    when it ran."""
    results = [r for r in results if "idle_rss" in r]
    small, middle, large = scale.idle
    floor = next((r for r in results if r["target"] == FLOOR), None)

    def cpu_floor(run: str) -> float | None:
        return None if floor is None else floor[run]["server_cpu_ms_per_1k"]

    lines = [
        f"| target | idle RSS (USS) MiB | KiB/conn @{small} | KiB/conn @{middle} "
        f"| {large} held (RSS MiB, open, pings) "
        f"| {scale.rate_subscribers} subs: p50 / p99 ms, lost | CPU ms/1k deliveries (vs floor) "
        f"| {scale.fanout_subscribers} fan-out: deliveries/s, p50 / p99 ms, lost "
        "| CPU ms/1k deliveries (vs floor) | client CPU (rate, fan-out) |",
        "|---" * 10 + "|",
    ]
    for r in results:
        rate, fanout, held = r["rate"], r["fanout"], r["held"]
        flags = "".join(" (client-bound)" for run in (rate, fanout) if run["client_bound"])
        lines.append(
            f"| {r['target']} | {r['idle_rss'] / MIB:.1f} ({r['idle_uss'] / MIB:.1f}) "
            f"| {_kib_per_connection(r, small):.1f} | {_kib_per_connection(r, middle):.1f} "
            f"| {r['held_rss'] / MIB:.0f}, {held['open']}, {held['pings']} "
            f"| {_ms(rate['p50_ms'])} / {_ms(rate['p99_ms'])}, {_lost(rate)} "
            f"| {rate['server_cpu_ms_per_1k']:.1f} "
            f"({_ratio(rate['server_cpu_ms_per_1k'], cpu_floor('rate'))}) "
            f"| {fanout['deliveries_per_s']:,.0f}, {_ms(fanout['p50_ms'])} / "
            f"{_ms(fanout['p99_ms'])}, {_lost(fanout)} "
            f"| {fanout['server_cpu_ms_per_1k']:.1f} "
            f"({_ratio(fanout['server_cpu_ms_per_1k'], cpu_floor('fanout'))}) "
            f"| {rate['client_cpu_share']:.0%}, {fanout['client_cpu_share']:.0%}{flags} |"
        )
    return "\n".join(lines)


def _split(run: dict[str, Any]) -> str:
    return " / ".join(str(n) for n in run["split"])


def workers_table(results: list[dict[str, Any]], scale: Scale) -> str:
    """The multi-worker targets: traffic only, CPU summed over the master and its workers."""
    lines = [
        f"| target | {scale.rate_subscribers} subs: sockets per worker "
        "| deliveries/s, p50 / p99 ms, lost | CPU ms/1k deliveries (Redis) "
        f"| {scale.fanout_subscribers} fan-out: sockets per worker "
        "| deliveries/s, p50 / p99 ms, lost | CPU ms/1k deliveries (Redis) "
        "| client CPU (rate, fan-out) |",
        "|---" * 8 + "|",
    ]
    for r in results:
        if "idle_rss" in r:
            continue
        cells = [r["target"]]
        for run in (r["rate"], r["fanout"]):
            cells += [
                _split(run),
                f"{run['deliveries_per_s']:,.0f}, {_ms(run['p50_ms'])} / {_ms(run['p99_ms'])}, "
                f"{_lost(run)}",
                f"{run['server_cpu_ms_per_1k']:.1f} ({run.get('redis_cpu_ms_per_1k', 0):.1f})",
            ]
        flags = "".join(
            " (client-bound)" for run in (r["rate"], r["fanout"]) if run["client_bound"]
        )
        cells.append(f"{r['rate']['client_cpu_share']:.0%}, {r['fanout']['client_cpu_share']:.0%}")
        lines.append(f"| {' | '.join(cells)}{flags} |")
    return "\n".join(lines)


def compared_table(results: list[dict[str, Any]], scale: Scale) -> str:
    """The cable over Channels in the same shape: deliveries/s (higher is better) and
    p99 (lower is better) as ratios, and what each lost."""
    by_name = {r["target"]: r for r in results}
    lines = [
        f"| cable / Channels | {scale.rate_subscribers} subs: deliveries/s, p99 "
        f"| lost (cable, Channels) | {scale.fanout_subscribers} fan-out: deliveries/s, p99 "
        "| lost (cable, Channels) |",
        "|---" * 5 + "|",
    ]
    for cable, channels in COMPARED:
        if cable not in by_name or channels not in by_name:
            continue
        cells = [f"{cable} / {channels}"]
        for scenario in ("rate", "fanout"):
            ours, theirs = by_name[cable][scenario], by_name[channels][scenario]
            p99 = "-"
            if ours["p99_ms"] is not None and theirs["p99_ms"]:
                p99 = f"{ours['p99_ms'] / theirs['p99_ms']:.3f}x"
            cells += [
                f"{_ratio(ours['deliveries_per_s'], theirs['deliveries_per_s'])}, {p99}",
                f"{_lost(ours)}; {_lost(theirs)}",
            ]
        lines.append(f"| {' | '.join(cells)} |")
    return "\n".join(lines) if len(lines) > 2 else ""


def _chart(
    results: list[dict[str, Any]], scale: Scale, when: str, stamp: str, copy: Path | None
) -> None:
    """The table as a chart in the results, and a copy to publish when asked."""
    try:
        from benchmarks.chart import draw
    except ImportError as exc:  # matplotlib comes with the bench extra only
        print(f"no chart: {exc} (pip install -e '.[bench]')", file=sys.stderr)
        return
    title = f"django-turbo-cable benchmarks, {when} ({platform.machine()}, 2 shared cores)"
    path = RESULTS / f"{stamp}.png"
    draw(results, scale, title, path)
    print(f"chart: {path}", file=sys.stderr)
    if copy is not None:
        draw(results, scale, title, copy)
        print(f"chart: {copy}", file=sys.stderr)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--scale", type=float, default=1.0, help="multiply every scenario size")
    parser.add_argument(
        "--targets",
        default=",".join((*DEFAULT_TARGETS, *WORKER_TARGETS)),
        help=f"any of {', '.join(TARGETS)}; 'servers' stands for runcable's server "
        f"candidates and floors ({', '.join(SERVER_TARGETS)}), 'redis-4p' for four "
        f"processes of each on one Redis ({', '.join(PROCESS_TARGETS)})",
    )
    parser.add_argument(
        "--chart-copy",
        type=Path,
        help="also write the chart here (docs/benchmark.png is the one README.rst shows)",
    )
    options = parser.parse_args(argv)
    # Stopped from outside: still stop the servers and generators started so far.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    names = [name.strip() for name in options.targets.split(",") if name.strip()]
    groups = {"servers": SERVER_TARGETS, "redis-4p": PROCESS_TARGETS}
    names = [n for name in names for n in groups.get(name, (name,))]
    unknown = [name for name in names if name not in TARGETS]
    if unknown:
        parser.error(f"unknown targets: {', '.join(unknown)}")
    scale = Scale() if options.scale == 1.0 else Scale.scaled(options.scale)
    started = datetime.datetime.now(datetime.UTC)
    results = run(names, scale, log=lambda line: print(line, file=sys.stderr, flush=True))
    RESULTS.mkdir(exist_ok=True)
    stamp = started.strftime("%Y%m%dT%H%M%SZ")
    document = {
        "date": started.isoformat(),
        "command": " ".join(sys.argv),
        "machine": f"{platform.machine()}, {platform.python_version()}",
        "scale": scale.__dict__,
        "results": results,
    }
    Path(RESULTS / f"{stamp}.json").write_text(json.dumps(document, indent=2))
    _chart(results, scale, f"{started:%Y-%m-%d}, scale {options.scale}", stamp, options.chart_copy)
    print(f"{started:%Y-%m-%d}, scale {options.scale}, Python {platform.python_version()}\n")
    if any("idle_rss" in r for r in results):
        print(table(results, scale))
    if not all("idle_rss" in r for r in results):
        print(
            "\nSeveral workers behind one port, or processes side by side, sharing Redis:"
            f"\n\n{workers_table(results, scale)}"
        )
    compared = compared_table(results, scale)
    if compared:
        print(f"\nThe cable over Channels, same shape:\n\n{compared}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
