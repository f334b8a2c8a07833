from __future__ import annotations

from django.apps import AppConfig


class TurboCableConfig(AppConfig):
    name = "turbo_cable"
    verbose_name = "Turbo Cable"

    def ready(self) -> None:
        from turbo_cable import checks, project_checks  # noqa: F401  (registers the checks)
