"""The benchmark suite, run small, so that ``make bench`` cannot rot between releases."""

from __future__ import annotations

import argparse
import os
from typing import Any

import pytest

from benchmarks.harness import Scale
from benchmarks.run import compared_table, run, table, workers_table
from benchmarks.targets import DEFAULT_TARGETS, PROCESS_TARGETS, TARGETS, WORKER_TARGETS

SMOKE = Scale(
    idle=(10, 20, 30),
    hold_seconds=1.0,
    ping_interval=0.4,
    rate_subscribers=20,
    rate_streams=4,
    rate_per_s=50,
    rate_seconds=0.5,
    fanout_subscribers=30,
    fanout_broadcasts=10,
    payload_bytes=500,
    budget_seconds=10.0,
    drain_seconds=10.0,
    settle_seconds=0.2,
)
# Every way the published table starts a target, once: the cable under uvicorn, under
# runcable and under daphne, the Channels peer, and the floor with its own HTTP port.
# channels-daphne is the Channels peer's application under daphne, both run here.
SMOKE_TARGETS = [name for name in DEFAULT_TARGETS if name != "channels-daphne"]
MIB = 2**20


@pytest.fixture(scope="module")
def results() -> list[dict[str, Any]]:
    return run(SMOKE_TARGETS, SMOKE, log=lambda line: None)


def test_the_target_left_out_starts_a_server_and_an_application_run_here() -> None:
    """channels-daphne is daphne, as turbo-daphne starts it, serving the Channels peer."""
    left_out = TARGETS["channels-daphne"]
    servers = {TARGETS[name].args[:2] for name in SMOKE_TARGETS}
    settings = {TARGETS[name].settings_module for name in SMOKE_TARGETS}
    assert set(DEFAULT_TARGETS) - set(SMOKE_TARGETS) == {left_out.name}
    assert left_out.args[:2] in servers
    assert left_out.settings_module in settings


def test_every_target_of_the_published_table_runs(results: list[dict[str, Any]]) -> None:
    assert [r["target"] for r in results] == SMOKE_TARGETS
    rendered = table(results, SMOKE)
    assert all(name in rendered for name in SMOKE_TARGETS)
    assert rendered.count("\n") == len(SMOKE_TARGETS) + 1


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
        assert 5 * MIB < r["idle_rss"] < 500 * MIB, r["target"]
        assert 0 < r["idle_uss"] <= r["idle_rss"], r["target"]
        for rss in [*(r[f"rss_{count}"] for count in SMOKE.idle), r["held_rss"]]:
            assert 5 * MIB < rss < 500 * MIB, r["target"]
        for scenario in ("rate", "fanout"):
            run_ = r[scenario]
            # Every delivery crosses HTTP, the server and a socket: never zero milliseconds.
            assert 0 < run_["p50_ms"] <= run_["p99_ms"] <= run_["max_ms"] < 10_000
            assert run_["deliveries_per_s"] * run_["seconds"] == pytest.approx(run_["received"])
            # Counted per thread in nanoseconds: even a smoke fan-out costs the server
            # something, and no more than the wall time on this machine's cores.
            assert run_["server_cpu_s"] > 0, r["target"]
            assert 0 < run_["server_cpu_share"] <= (os.cpu_count() or 1), r["target"]
            assert run_["client_cpu_share"] > 0, r["target"]  # per thread, like the server


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
            assert 0 < run_["p50_ms"] <= run_["p99_ms"] <= run_["max_ms"] < 10_000
            assert run_["server_cpu_s"] > 0, (r["target"], scenario)
            # Counted per thread in nanoseconds: every broadcast went through Redis.
            assert run_["redis_cpu_ms_per_1k"] > 0, (r["target"], scenario)
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
    assert report["broadcast_cpu_s"] > 0  # counted per thread in nanoseconds
    assert report["rss_mib"] > report["idle_rss_mib"] > 5


def test_four_processes_on_one_redis_each_hold_every_streams_share_and_lose_nothing() -> None:
    """Four runcable processes against four Channels processes: the generator spreads
    every stream's subscribers over the four ports and broadcasts to each in turn."""
    results = run(list(PROCESS_TARGETS), SMOKE, log=lambda line: None)
    assert [r["target"] for r in results] == list(PROCESS_TARGETS)
    for r in results:
        for scenario, count, streams in (
            ("rate", SMOKE.rate_subscribers, SMOKE.rate_streams),
            ("fanout", SMOKE.fanout_subscribers, 1),
        ):
            run_ = r[scenario]
            assert sum(run_["split"]) == count, (r["target"], scenario, run_["split"])
            assert min(run_["split"]) >= count // 4 - streams, (r["target"], run_["split"])
            assert run_["failed_posts"] == 0, (r["target"], scenario)
            assert run_["received"] == run_["expected"] > 0, (r["target"], scenario)
            assert run_["server_cpu_s"] > 0, (r["target"], scenario)
    compared = compared_table(results, SMOKE)
    assert compared.count("\n") == 2
    assert "turbo-runcable-redis-4p / channels-uvicorn-redis-4p" in compared
    assert "| 0; 0 |" in compared
