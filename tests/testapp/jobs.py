"""Plain functions the tests run as ``django.tasks`` tasks (Django 6.0+)."""

from __future__ import annotations

from tests.testapp.models import Note


def create_notes(count: int) -> int:
    for n in range(count):
        Note.objects.create(body=f"note {n}")
    return count
