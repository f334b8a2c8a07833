"""``manage.py seed``: a counter and a few scores, so the sample opens with something to show."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from sample_project.showcase.models import Counter, Score
from turbo_cable.suppression import suppressing_broadcasts


class Command(BaseCommand):
    help = "Create the sample's counter and a few scores, once."

    def handle(self, *args: Any, **options: Any) -> None:
        with suppressing_broadcasts():
            Counter.objects.get_or_create(pk=1)
            if not Score.objects.exists():
                for name, points in (("Ada", 12), ("Grace", 9), ("Linus", 7)):
                    Score.objects.create(name=name, points=points)
        self.stdout.write("Seeded the counter and the score board.")
