"""turbo-django's chat models; ``Broadcastable`` declarations replace its ``ModelStream``s.

``RoomStream.on_save`` appended each new room to the room list; ``MessageStream``
appended, replaced and removed messages on the room's stream. turbo-rails'
``broadcasts`` and ``broadcasts_to`` say the same, after commit, with the DOM
ids ``room_<pk>``/``rooms`` and ``message_<pk>``/``messages``.
"""

from __future__ import annotations

from django.db import models

from turbo_cable import Broadcastable


class Room(Broadcastable, models.Model):
    name = models.CharField(max_length=255)

    broadcasts = True  # a new room is appended to #rooms on the stream "rooms"

    def __str__(self) -> str:
        return self.name


class Message(Broadcastable, models.Model):
    room = models.ForeignKey(Room, related_name="messages", on_delete=models.CASCADE)
    text = models.CharField(max_length=255)
    created_at = models.DateTimeField(auto_now_add=True)

    broadcasts_to = "room"  # append to #messages, replace and remove #message_<pk>
