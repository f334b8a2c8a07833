"""``manage.py turbo_cable_status``: how a running cable is doing, from the shell.

It reads the cable's ``METRICS_PATH`` (by default on the host and port that
broadcasts go to, with ``BROADCAST_TOKEN`` if set) twice, a second apart, and
prints its connections, streams, deliveries per second, drops, rejects, Redis
link and busiest streams.
"""

from __future__ import annotations

import time
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from turbo_cable.conf import get_settings
from turbo_cable.management.status_report import StatusUnavailable, metrics_url, summary


class Command(BaseCommand):
    help = "Print the figures and the busiest streams of a running cable."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--url", help="the cable's metrics URL (default: METRICS_PATH where broadcasts go)"
        )
        parser.add_argument(
            "--interval",
            type=float,
            default=1.0,
            help="seconds between the two readings rates are taken from (0: no rates)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        settings = get_settings()
        if options["url"] is None and settings.METRICS_PATH is None:
            raise CommandError("METRICS_PATH is None: metrics are off. Pass --url to read another.")
        url = options["url"] or metrics_url(settings)
        try:
            lines = summary(
                url, settings.BROADCAST_TOKEN, max(0.0, options["interval"]), time.sleep
            )
        except StatusUnavailable as problem:
            raise CommandError(str(problem)) from None
        self.stdout.write("\n".join(lines))
