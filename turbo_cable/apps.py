from __future__ import annotations

from django.apps import AppConfig


class TurboCableConfig(AppConfig):
    name = "turbo_cable"
    verbose_name = "Turbo Cable"

    def ready(self) -> None:
        from django.core.signals import request_started

        from turbo_cable import checks, project_checks  # noqa: F401  (registers the checks)
        from turbo_cable.page_clock import stamp_request_start

        request_started.connect(stamp_request_start, dispatch_uid="turbo_cable.page_clock")
