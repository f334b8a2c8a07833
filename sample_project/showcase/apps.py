from __future__ import annotations

from django.apps import AppConfig


class ShowcaseConfig(AppConfig):
    name = "sample_project.showcase"
    label = "showcase"
    default_auto_field = "django.db.models.BigAutoField"
