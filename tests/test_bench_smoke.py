"""The benchmark suite, run small, so that ``make bench`` cannot rot between releases."""

from __future__ import annotations

import argparse
import os
from typing import Any

import pytest

from benchmarks.harness import Scale
from benchmarks.run import run, table, workers_table
from benchmarks.targets import DEFAULT_TARGETS, WORKER_TARGETS

SMOKE = Scale(
    idle=(20, 40, 60),
    hold_seconds=1.5,
    ping_interval=0.5,
    rate_subscribers=20,
    rate_streams=4,
    rate_per_s=50,
    rate_seconds=1.0,
    fanout_subscribers=40,
    fanout_broadcasts=10,
    payload_bytes=500,
    budget_seconds=10.0,
    drain_seconds=10.0,
)


@pytest.fixture(scope="module")
def results() -> list[dict[str, Any]]:
    return run(list(DEFAULT_TARGETS), SMOKE, log=lambda line: None)


def test_every_target_of_the_published_table_runs(results: list[dict[str, Any]]) -> None:
    assert [r["target"] for r in results] == list(DEFAULT_TARGETS)
    rendered = table(results, SMOKE)
    assert all(name in rendered for name in DEFAULT_TARGETS)
    assert rendered.count("\n") == len(DEFAULT_TARGETS) + 1


def test_every_target_holds_every_idle_connection(results: list[dict[str, Any]]) -> None:
    for r in results:
        assert [r[f"open_{n}"] for n in SMOKE.idle] == list(SMOKE.idle), r["target"]
        assert r["held"]["open"] == SMOKE.idle[-1], r["target"]
        assert r["held"]["dropped"] == 0, r["target"]


def test_the_cable_and_the_floor_ping_every_held_connection(
    results: list[dict[str, Any]],
) -> None:
    for r in results:
        if not r["target"].startswith("channels"):  # the Channels peer has no keep-alive
            assert r["held"]["pings"] >= SMOKE.idle[-1], r["target"]


def test_no_target_loses_a_broadcast(results: list[dict[str, Any]]) -> None:
    for r in results:
        for scenario in ("rate", "fanout"):
            run_ = r[scenario]
            assert run_["failed_posts"] == 0, (r["target"], scenario)
            assert run_["sent"] == run_["broadcasts"], (r["target"], scenario)
            assert run_["expected"] > 0, (r["target"], scenario)
            assert run_["received"] == run_["expected"], (r["target"], scenario)
            assert run_["lost"] == 0, (r["target"], scenario)


def test_figures_are_measured_and_plausible(results: list[dict[str, Any]]) -> None:
    for r in results:
        assert 5 * 2**20 < r["idle_rss"] < 500 * 2**20, r["target"]
        assert r[f"rss_{SMOKE.idle[-1]}"] > 0, r["target"]
        for scenario in ("rate", "fanout"):
            run_ = r[scenario]
            assert 0 <= run_["p50_ms"] <= run_["p99_ms"] <= run_["max_ms"] < 10_000
            assert run_["deliveries_per_s"] > 0
            # Counted per thread in nanoseconds: even a smoke fan-out costs the server
            # something, and no more than the wall time on this machine's cores.
            assert run_["server_cpu_s"] > 0, r["target"]
            assert 0 < run_["server_cpu_share"] <= (os.cpu_count() or 1), r["target"]
            assert run_["client_cpu_share"] > 0  # Node reports its own CPU in microseconds


@pytest.fixture(scope="module")
def worker_results() -> list[dict[str, Any]]:
    return run(list(WORKER_TARGETS), SMOKE, log=lambda line: None)


def test_two_workers_sharing_redis_both_hold_sockets_and_lose_no_broadcast(
    worker_results: list[dict[str, Any]],
) -> None:
    assert [r["target"] for r in worker_results] == list(WORKER_TARGETS)
    subscribers = {"rate": SMOKE.rate_subscribers, "fanout": SMOKE.fanout_subscribers}
    for r in worker_results:
        for scenario, count in subscribers.items():
            run_ = r[scenario]
            assert len(run_["split"]) == 2, (r["target"], scenario, run_["split"])
            assert all(run_["split"]), (r["target"], scenario, run_["split"])
            assert sum(run_["split"]) == count, (r["target"], scenario, run_["split"])
            assert run_["failed_posts"] == 0, (r["target"], scenario)
            assert run_["sent"] == run_["broadcasts"], (r["target"], scenario)
            assert run_["expected"] > 0, (r["target"], scenario)
            assert run_["received"] == run_["expected"], (r["target"], scenario)
            assert 0 <= run_["p50_ms"] <= run_["p99_ms"] <= run_["max_ms"] < 10_000
            assert run_["server_cpu_s"] > 0, (r["target"], scenario)
            # psutil counts Redis's CPU in 10 ms ticks, which a smoke run may not reach.
            assert run_["redis_cpu_ms_per_1k"] >= 0, (r["target"], scenario)
    rendered = workers_table(worker_results, SMOKE)
    assert rendered.count("\n") == len(WORKER_TARGETS) + 1
    assert all(name in rendered for name in WORKER_TARGETS)


def test_one_runcable_holds_sockets_from_every_source_address_and_reaches_them_all() -> None:
    """``benchmarks.bench_scale`` run small: the spread, the keep-alive and the broadcast."""
    from benchmarks.bench_scale import SOURCES, measure

    report: dict[str, Any] = {}
    options = argparse.Namespace(connections=80, ping_interval=0.5, min_free_mib=0)
    measure(options, report)
    assert report["connections"] == 80
    assert "stopped" not in report
    assert "failed_connects" not in report
    assert report["sockets_per_source"] == dict.fromkeys(SOURCES, 10)
    assert report["held"]["open"] == 80
    assert report["held"]["dropped"] == 0
    assert report["held"]["pings"] >= 80
    broadcast = report["broadcast"]
    assert broadcast["received"] == broadcast["expected"] == 80
    assert broadcast["lost"] == 0
    assert report["broadcast_cpu_s"] >= 0
    assert report["rss_mib"] > report["idle_rss_mib"] > 5
