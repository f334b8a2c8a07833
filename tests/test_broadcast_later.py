"""``_later`` broadcasts: queued with django.tasks on Django 6, delivered at once before."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import django
import pytest
from django.test import override_settings
from django.utils.safestring import mark_safe

from tests.testapp.models import Comment, Message, Room
from turbo_cable.testing import capture_broadcasts

pytestmark = pytest.mark.django_db(transaction=True)

QUEUED = {"default": {"BACKEND": "django.tasks.backends.dummy.DummyBackend"}}
IMMEDIATE = {"default": {"BACKEND": "django.tasks.backends.immediate.ImmediateBackend"}}
HAS_TASKS = django.VERSION >= (6, 0)


def queued_results() -> list[Any]:
    from django.tasks import default_task_backend

    return list(default_task_backend.results)


def run_queued() -> None:
    """What a worker does: run each stored task from its JSON arguments."""
    from django.tasks import default_task_backend

    for result in queued_results():
        args = json.loads(json.dumps(result.args))  # as a real queue stores them
        result.task.call(*args, **result.kwargs)
    default_task_backend.clear()


@pytest.fixture
def queue() -> Iterator[None]:
    with override_settings(TASKS=QUEUED):
        yield


@pytest.fixture
def message() -> Message:
    return Message.objects.create(body="<hi>")


def replace_html(message: Message, body: str = "&lt;hi&gt;") -> str:
    return (
        f'<turbo-stream action="replace" target="message_{message.pk}">'
        f'<template><p id="message_{message.pk}">{body}</p></template></turbo-stream>'
    )


def test_with_an_immediate_backend_later_delivers_at_once(message: Message) -> None:
    with override_settings(TASKS=IMMEDIATE), capture_broadcasts() as sent:
        assert message.broadcast_replace_later_to("inbox") is None
    assert sent == [("inbox", replace_html(message))]


def test_with_a_queue_later_enqueues_then_the_worker_renders(queue: None, message: Message) -> None:
    with capture_broadcasts() as sent:
        message.broadcast_replace_later_to("inbox")
        if HAS_TASKS:
            assert sent == []
            assert len(queued_results()) == 1
            message.body = "<changed>"
            message.save()
            run_queued()
            # The worker re-loads the instance: it renders what is saved when it runs.
            assert sent == [("inbox", replace_html(message, "&lt;changed&gt;"))]
        else:  # Django 5.2 has no django.tasks: TASKS means nothing, delivery is immediate
            assert sent == [("inbox", replace_html(message))]


def test_a_queued_broadcast_of_a_deleted_instance_is_dropped_quietly(
    queue: None, message: Message, caplog: pytest.LogCaptureFixture
) -> None:
    with capture_broadcasts() as sent:
        message.broadcast_append_later_to("inbox")
        delivered_before_delete = list(sent)
        message.delete()
        if HAS_TASKS:
            run_queued()
    if HAS_TASKS:
        assert delivered_before_delete == []
        assert sent == []
        assert "Traceback" not in caplog.text
    else:
        assert len(delivered_before_delete) == 1
        assert delivered_before_delete[0].data.startswith(
            '<turbo-stream action="append" target="messages">'
        )


def test_queued_options_survive_the_trip_through_json(queue: None, message: Message) -> None:
    room = Room.objects.create(name="lobby")
    with capture_broadcasts() as sent:
        message.broadcast_append_later_to(
            room,
            targets=".feed",
            template="testapp/message_with_author.html",
            context={"author": "Ann"},
            attributes={"data-n": 2},
        )
        message.broadcast_update_later(html=mark_safe("<em>safe</em>"))
        message.broadcast_update_later(html="<em>escaped</em>")
        message.broadcast_remove_later()
        if HAS_TASKS:
            assert sent == []
            run_queued()
    own = f"testapp.message:{message.pk}"
    assert sent == [
        (
            f"testapp.room:{room.pk}",
            '<turbo-stream action="append" targets=".feed" data-n="2">'
            "<template><b>&lt;hi&gt; by Ann</b></template></turbo-stream>",
        ),
        (
            own,
            f'<turbo-stream action="update" target="message_{message.pk}">'
            "<template><em>safe</em></template></turbo-stream>",
        ),
        (
            own,
            f'<turbo-stream action="update" target="message_{message.pk}">'
            "<template>&lt;em&gt;escaped&lt;/em&gt;</template></turbo-stream>",
        ),
        (own, f'<turbo-stream action="remove" target="message_{message.pk}"></turbo-stream>'),
    ]


def test_a_queued_remove_still_reaches_pages_after_the_delete(queue: None) -> None:
    comment = Comment.objects.create(body="bye")
    pk = comment.pk
    with capture_broadcasts() as sent:
        comment.broadcast_remove_later()
        comment.delete()  # its declarative remove goes out at once, after commit
        if HAS_TASKS:
            run_queued()
    remove = f'<turbo-stream action="remove" target="comment_{pk}"></turbo-stream>'
    assert sent == [(f"testapp.comment:{pk}", remove)] * 2


def test_declarative_creates_are_queued_after_commit(queue: None) -> None:
    with capture_broadcasts() as sent:
        Comment.objects.create(body="queued")
        if HAS_TASKS:
            assert sent == []
            assert len(queued_results()) == 1
            run_queued()
    assert sent == [
        (
            "comments",
            '<turbo-stream action="append" target="comments">'
            "<template><li>queued</li></template></turbo-stream>",
        )
    ]


def test_a_context_that_is_not_json_is_refused_when_queued(queue: None, message: Message) -> None:
    with capture_broadcasts() as sent:
        if HAS_TASKS:
            with pytest.raises(TypeError, match="JSON values or model instances"):
                message.broadcast_append_later_to("inbox", context={"when": object()})
        else:
            message.broadcast_append_later_to("inbox", context={"when": object()})
    assert len(sent) == (0 if HAS_TASKS else 1)
