"""Declarative broadcasts: sent after commit, never before, never after a rollback."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.db import models, transaction

from tests.testapp.models import Comment, Message, Note, Reply, Room, Todo
from turbo_cable.models import Broadcastable
from turbo_cable.suppression import suppressing_broadcasts
from turbo_cable.testing import CapturedBroadcasts, capture_broadcasts

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def sent() -> Iterator[CapturedBroadcasts]:
    with capture_broadcasts() as captured:
        yield captured


def test_broadcasts_appends_to_the_collection_then_replaces_and_removes_itself(
    sent: CapturedBroadcasts,
) -> None:
    comment = Comment.objects.create(body="first")
    pk = comment.pk
    comment.body = "edited"
    comment.save()
    comment.delete()
    assert sent == [
        (
            "comments",
            '<turbo-stream action="append" target="comments">'
            "<template><li>first</li></template></turbo-stream>",
        ),
        (
            f"testapp.comment:{pk}",
            f'<turbo-stream action="replace" target="comment_{pk}">'
            "<template><li>edited</li></template></turbo-stream>",
        ),
        (
            f"testapp.comment:{pk}",
            f'<turbo-stream action="remove" target="comment_{pk}"></turbo-stream>',
        ),
    ]


def test_broadcasts_to_uses_the_stream_of_each_instance(sent: CapturedBroadcasts) -> None:
    room = Room.objects.create(name="lobby")
    reply = Reply.objects.create(room=room, body="hi")
    pk = reply.pk
    reply.save()
    reply.delete()
    stream = f"testapp.room:{room.pk}:replies"
    assert sent.for_stream(room, "replies") == [
        '<turbo-stream action="prepend" target="replies">'
        "<template><li>hi</li></template></turbo-stream>",
        f'<turbo-stream action="replace" target="reply_{pk}">'
        "<template><li>hi</li></template></turbo-stream>",
        f'<turbo-stream action="remove" target="reply_{pk}"></turbo-stream>',
    ]
    assert {b.stream for b in sent} == {stream}


def test_broadcasts_refreshes_refreshes_the_collection_then_itself(
    sent: CapturedBroadcasts,
) -> None:
    note = Note.objects.create(body="n")
    pk = note.pk
    note.save()
    note.delete()
    refresh = '<turbo-stream action="refresh"></turbo-stream>'
    assert sent == [
        ("notes", refresh),
        (f"testapp.note:{pk}", refresh),
        (f"testapp.note:{pk}", refresh),
    ]


def test_broadcasts_refreshes_to_refreshes_the_named_stream(sent: CapturedBroadcasts) -> None:
    room = Room.objects.create(name="lobby")
    todo = Todo.objects.create(room=room, title="t")
    todo.save()
    todo.delete()
    assert sent.for_stream(room) == ['<turbo-stream action="refresh"></turbo-stream>'] * 3


def test_nothing_is_sent_before_the_transaction_commits(sent: CapturedBroadcasts) -> None:
    with transaction.atomic():
        Comment.objects.create(body="pending")
        assert sent == []
    assert [b.stream for b in sent] == ["comments"]


def test_nothing_is_sent_when_the_transaction_rolls_back(sent: CapturedBroadcasts) -> None:
    comment = Comment.objects.create(body="kept")
    sent.clear()

    def change_then_fail() -> None:
        with transaction.atomic():
            Comment.objects.create(body="lost")
            comment.delete()
            raise RuntimeError("rollback")

    with pytest.raises(RuntimeError):
        change_then_fail()
    assert sent == []
    assert Comment.objects.count() == 1


def test_a_model_without_declarations_sends_nothing_on_save(sent: CapturedBroadcasts) -> None:
    Message.objects.create(body="quiet")
    assert sent == []


def test_suppressing_a_model_silences_its_declarations_only(sent: CapturedBroadcasts) -> None:
    with Comment.suppressing_broadcasts():
        Comment.objects.create(body="silent")
        Note.objects.create(body="loud")
    assert [b.stream for b in sent] == ["notes"]


def test_suppressing_everything_silences_explicit_calls_too(sent: CapturedBroadcasts) -> None:
    message = Message.objects.create(body="m")
    with suppressing_broadcasts():
        Comment.objects.create(body="silent")
        assert message.broadcast_remove() is False
    assert sent == []


def test_unknown_declaration_options_are_refused_at_class_creation() -> None:
    unknown = r"broadcasts_to has unknown options: \['colour'\]"
    with pytest.raises(ImproperlyConfigured, match=unknown):

        class Broken(Broadcastable, models.Model):
            broadcasts_to = {"stream": "room", "colour": "red"}

            class Meta:
                app_label = "testapp"


def test_a_to_declaration_naming_no_attribute_is_refused_with_the_literal_spelling() -> None:
    """``broadcasts_to = "scores"`` reads as a stream name but means an attribute."""
    hint = r"write broadcasts = 'scores' or broadcasts_to = lambda instance: 'scores'"
    with pytest.raises(ImproperlyConfigured, match=hint):

        class Score(Broadcastable, models.Model):
            broadcasts_to = "scores"

            class Meta:
                app_label = "testapp"


def test_a_declaration_of_the_wrong_type_is_refused() -> None:
    with pytest.raises(ImproperlyConfigured, match="inserts_by must be"):

        class BrokenToo(Broadcastable, models.Model):
            broadcasts = {"inserts_by": "middle"}

            class Meta:
                app_label = "testapp"
