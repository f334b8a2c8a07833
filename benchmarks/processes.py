"""What the harness reads from a server's processes: CPU, memory, and who holds which socket.

A multi-worker target is a master with worker children, a scaled-out target several
processes side by side; the figures are the sums over all of them, and a master's
sockets are counted per worker to show the split.
"""

from __future__ import annotations

import time
from pathlib import Path

import psutil

QUIET_CPU_SECONDS = 0.01  # a worker using less than this in QUIET_PERIOD has finished starting
QUIET_PERIOD = 0.5


class Sampler:
    """CPU time and memory of a server: one process, a master and its workers, or
    several processes side by side (``others``), each with its children."""

    def __init__(self, pid: int, *others: int) -> None:
        self.master = psutil.Process(pid)
        self.processes = [self.master, *self.master.children()]
        for other in map(psutil.Process, others):
            self.processes += [other, *other.children()]
        self.workers = workers_of(self.master)
        self.side_by_side = bool(others)

    def rss(self) -> int:
        return sum(int(p.memory_info().rss) for p in self.processes)

    def uss(self) -> int:
        """Memory no other process shares (RSS also counts shared library pages)."""
        return sum(int(p.memory_full_info().uss) for p in self.processes)

    def cpu_seconds(self) -> float:
        return sum(_cpu(p) for p in self.processes)

    def sockets_per_worker(self, port: int) -> list[int]:
        """Established sockets on ``port`` that each worker holds, in worker order."""
        return [
            sum(
                1
                for c in worker.net_connections(kind="tcp")
                if c.status == psutil.CONN_ESTABLISHED and c.laddr.port == port
            )
            for worker in self.workers
        ]


def workers_of(master: psutil.Process) -> list[psutil.Process]:
    """The worker children; the master also runs multiprocessing's resource tracker."""
    return [
        child for child in master.children() if any("spawn_main" in arg for arg in child.cmdline())
    ]


def _cpu(process: psutil.Process) -> float:
    """CPU seconds of every thread, to the nanosecond where Linux tells it.

    psutil's user + system times come in 10 ms ticks, more than a small run's
    deliveries cost the floor; ``/proc/PID/task/*/schedstat`` counts the time each
    thread ran in nanoseconds (the servers measured keep their threads, so none of
    that time leaves the sum between two samples).
    """
    try:
        tasks = Path(f"/proc/{process.pid}/task")
        ran = sum(int((task / "schedstat").read_text().split()[0]) for task in tasks.iterdir())
    except (OSError, ValueError, IndexError):  # not Linux, or a thread ended while read
        times = process.cpu_times()
        return float(times.user + times.system)
    return ran / 1e9


def wait_for_workers(pid: int, count: int, timeout: float = 60.0) -> None:
    """Until ``count`` workers run and have gone quiet, so none is still importing.

    The master's port accepts before any worker serves, and a worker that is not
    serving yet leaves every new socket to the others.
    """
    master = psutil.Process(pid)
    deadline = time.monotonic() + timeout
    before: list[float] | None = None
    while time.monotonic() < deadline:
        workers = workers_of(master)
        now = [_cpu(worker) for worker in workers]
        if (
            len(workers) == count
            and before is not None
            and len(before) == count
            and all(b - a < QUIET_CPU_SECONDS for a, b in zip(before, now, strict=True))
        ):
            return
        before = now
        time.sleep(QUIET_PERIOD)
    raise RuntimeError(f"{count} workers were not serving after {timeout}s")
