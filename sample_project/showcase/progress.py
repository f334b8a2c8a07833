"""A background job that reports its progress as JSON on the ``progress`` stream."""

from __future__ import annotations

import threading
import time

from turbo_cable.broadcast import broadcast_json

STREAM = "progress"


def run_job(steps: int = 20, pause: float = 0.1) -> None:
    for step in range(steps + 1):
        broadcast_json(STREAM, {"percent": round(100 * step / steps), "done": step == steps})
        if step < steps:
            time.sleep(pause)


def start_job() -> threading.Thread:
    """Run the job in a thread, as a task queue worker would, so the request returns at once."""
    job = threading.Thread(target=run_job, name="progress-job", daemon=True)
    job.start()
    return job
