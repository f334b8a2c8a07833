"""The benchmarked sample with metrics off: the baseline that measures what counting costs."""

from __future__ import annotations

from benchmarks.turbo_settings import *  # noqa: F403

TURBO_CABLE = {**TURBO_CABLE, "METRICS_PATH": None}  # noqa: F405
