"""The benchmarked sample project on the Redis backend, for several worker processes.

``BENCH_REDIS_URL`` names the redis-server the harness started for the run.
"""

from __future__ import annotations

import os

from benchmarks.turbo_settings import *  # noqa: F403

TURBO_CABLE = {**TURBO_CABLE, "BACKEND": os.environ["BENCH_REDIS_URL"]}  # noqa: F405
