"""Broadcasts without a model, and ``broadcast_render``: turbo-rails' names and defaults."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from django.test import override_settings

from tests.test_broadcast_later import HAS_TASKS, QUEUED, queued_results, run_queued
from tests.testapp.models import Message, Room
from turbo_cable import streams_channel
from turbo_cable.refreshes import request_id_scope
from turbo_cable.testing import CapturedBroadcasts, capture_broadcasts

pytestmark = pytest.mark.django_db


@pytest.fixture
def sent() -> Iterator[CapturedBroadcasts]:
    with capture_broadcasts() as captured:
        yield captured


@pytest.fixture
def message() -> Message:
    return Message.objects.create(body="<hi>")


def element(action: str, target: str, content: str | None = "") -> str:
    opening = f'<turbo-stream action="{action}" target="{target}">'
    if content is None:
        return opening + "</turbo-stream>"
    return f"{opening}<template>{content}</template></turbo-stream>"


@pytest.mark.parametrize("action", ["append", "prepend", "before", "after", "replace", "update"])
def test_each_action_renders_a_template_to_the_stream_the_parts_name(
    action: str, message: Message, sent: CapturedBroadcasts
) -> None:
    room = Room.objects.create(name="lobby")
    broadcast = getattr(streams_channel, f"broadcast_{action}_to")
    assert broadcast(
        room,
        "messages",
        target="list",
        template="testapp/_message.html",
        context={"message": message},
    )
    html = f'<p id="message_{message.pk}">&lt;hi&gt;</p>'
    assert sent.for_stream(room, "messages") == [element(action, "list", html)]


def test_there_is_no_default_target_as_in_turbo_rails(sent: CapturedBroadcasts) -> None:
    with pytest.raises(ValueError, match="needs a target"):
        streams_channel.broadcast_append_to("s", html="x")
    assert sent == []


def test_content_html_partial_and_nothing(message: Message, sent: CapturedBroadcasts) -> None:
    streams_channel.broadcast_update_to("s", target="t", content="<b>")
    streams_channel.broadcast_update_to("s", target=message, html="x")
    streams_channel.broadcast_update_to("s", targets=".t", partial="testapp/_message.html",
                                        context={"message": message})  # fmt: skip
    streams_channel.broadcast_update_to("s", target="t")
    streams_channel.broadcast_remove_to("s", target="t")
    assert sent.for_stream("s") == [
        element("update", "t", "&lt;b&gt;"),
        element("update", f"message_{message.pk}", "x"),
        '<turbo-stream action="update" targets=".t">'
        f'<template><p id="message_{message.pk}">&lt;hi&gt;</p></template></turbo-stream>',
        element("update", "t"),
        element("remove", "t", None),
    ]
    with pytest.raises(TypeError, match="takes no content"):
        streams_channel.broadcast_remove_to("s", target="t", html="x")
    with pytest.raises(TypeError, match="Unknown option"):
        streams_channel.broadcast_update_to("s", target="t", locals={})


def test_action_to_sends_custom_actions_with_attributes(sent: CapturedBroadcasts) -> None:
    streams_channel.broadcast_action_to(
        "s", action="highlight", target="t", attributes={"data-color": "red"}
    )
    assert sent.for_stream("s") == [
        '<turbo-stream action="highlight" target="t" data-color="red"><template></template>'
        "</turbo-stream>"
    ]


def test_refresh_carries_the_request_id(sent: CapturedBroadcasts) -> None:
    with request_id_scope("req-1"):
        streams_channel.broadcast_refresh_to("s", method="morph")
    assert sent.for_stream("s") == [
        '<turbo-stream action="refresh" method="morph" request-id="req-1"></turbo-stream>'
    ]


def test_render_to_sends_a_turbo_stream_template_as_it_is(
    message: Message, sent: CapturedBroadcasts
) -> None:
    streams_channel.broadcast_render_to(
        "s", template="testapp/_message.turbo_stream.html", context={"message": message}
    )
    message.broadcast_render_to("t")  # the model's own testapp/_message.turbo_stream.html
    expected = (
        f'<turbo-stream action="remove" target="message_{message.pk}"></turbo-stream>'
        '<turbo-stream action="append" target="archive"><template><p>&lt;hi&gt;</p></template>'
        "</turbo-stream>\n"
    )
    assert sent.for_stream("s") == [expected]
    assert sent.for_stream("t") == [expected]
    with pytest.raises(TypeError, match="needs a template"):
        streams_channel.broadcast_render_to("s")


def test_later_variants_queue_and_render_in_the_worker(message: Message) -> None:
    with override_settings(TASKS=QUEUED), capture_broadcasts() as sent:
        streams_channel.broadcast_append_later_to(
            "s", target="list", template="testapp/_message.html", context={"message": message}
        )
        message.broadcast_render_later_to("r")
        streams_channel.broadcast_render_later_to(
            "r2", template="testapp/_message.turbo_stream.html", context={"message": message}
        )
        if HAS_TASKS:
            assert sent == []
            assert len(queued_results()) == 3
            message.body = "<changed>"
            message.save()
            run_queued()
    body = "&lt;changed&gt;" if HAS_TASKS else "&lt;hi&gt;"
    assert sent.for_stream("s") == [
        element("append", "list", f'<p id="message_{message.pk}">{body}</p>')
    ]
    assert len(sent.for_stream("r")) == len(sent.for_stream("r2")) == 1
    assert f"<p>{body}</p>" in sent.for_stream("r")[0]
