"""The sample's models: each shows one way of broadcasting."""

from __future__ import annotations

from django.db import models
from django.db.models import F

from turbo_cable.models import Broadcastable


class Counter(Broadcastable, models.Model):
    """A shared counter; incrementing it replaces the number on every open page."""

    value = models.IntegerField(default=0)

    @classmethod
    def increment(cls) -> Counter:
        cls.objects.get_or_create(pk=1)
        cls.objects.filter(pk=1).update(value=F("value") + 1)
        counter = cls.objects.get(pk=1)
        counter.broadcast_replace_to(
            "counter_updates",
            target="counter-value",
            template="showcase/_counter_value.html",
        )
        return counter


class Score(Broadcastable, models.Model):
    """A live score board: appended on create, replaced on update, removed on delete."""

    name = models.CharField(max_length=100)
    points = models.IntegerField(default=0)

    # Create, update and delete all go to the one stream the board page listens to.
    broadcasts_to = {"stream": lambda score: "scores"}

    class Meta:
        ordering = ["pk"]

    def __str__(self) -> str:
        return f"{self.name}: {self.points}"


class Note(Broadcastable, models.Model):
    """Turbo 8 page refreshes: every change asks open pages to morph themselves."""

    text = models.CharField(max_length=200)

    broadcasts_refreshes = "notes"

    class Meta:
        ordering = ["-pk"]
