"""Models the tests broadcast from."""

from __future__ import annotations

from django.db import models

from turbo_cable.models import Broadcastable


class Room(Broadcastable, models.Model):
    name = models.CharField(max_length=100)


class Message(Broadcastable, models.Model):
    """Broadcasts only when told to."""

    room = models.ForeignKey(Room, on_delete=models.CASCADE, null=True, related_name="messages")
    body = models.TextField()


class BlogPost(Broadcastable, models.Model):
    title = models.CharField(max_length=100)


class Category(Broadcastable, models.Model):
    name = models.CharField(max_length=100)

    class Meta:
        verbose_name_plural = "categories"


class Comment(Broadcastable, models.Model):
    """turbo-rails' ``broadcasts``: the collection stream, then its own stream."""

    body = models.TextField()

    broadcasts = True


class Reply(Broadcastable, models.Model):
    """turbo-rails' ``broadcasts_to``, inserting at the top of the room's list."""

    room = models.ForeignKey(Room, on_delete=models.CASCADE, related_name="replies")
    body = models.TextField()

    broadcasts_to = {"stream": lambda reply: (reply.room, "replies"), "inserts_by": "prepend"}

    class Meta:
        verbose_name_plural = "replies"


class Note(Broadcastable, models.Model):
    """turbo-rails' ``broadcasts_refreshes``."""

    body = models.TextField()

    broadcasts_refreshes = True


class Todo(Broadcastable, models.Model):
    """turbo-rails' ``broadcasts_refreshes_to``, by attribute name."""

    room = models.ForeignKey(Room, on_delete=models.CASCADE, related_name="todos")
    title = models.CharField(max_length=100)

    broadcasts_refreshes_to = "room"
