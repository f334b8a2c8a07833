"""The ``Broadcastable`` mixin: every method, its defaults and its options."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from django.template import TemplateDoesNotExist
from django.utils.safestring import mark_safe

from tests.testapp.models import BlogPost, Category, Message, Room
from turbo_cable.rendering import collection_id, dom_id
from turbo_cable.testing import CapturedBroadcasts, capture_broadcasts

pytestmark = pytest.mark.django_db


@pytest.fixture
def message() -> Message:
    return Message.objects.create(body="Hello & <welcome>")


@pytest.fixture
def sent() -> Iterator[CapturedBroadcasts]:
    with capture_broadcasts() as captured:
        yield captured


def rendered(message: Message) -> str:
    return f'<p id="message_{message.pk}">Hello &amp; &lt;welcome&gt;</p>'


def test_dom_id_is_model_name_and_pk(message: Message) -> None:
    assert dom_id(message) == f"message_{message.pk}"
    assert dom_id(message, "edit") == f"edit_message_{message.pk}"
    assert dom_id(Message()) == "new_message"
    assert dom_id(Message(), "draft") == "draft_message"


def test_collection_id_is_the_untranslated_plural() -> None:
    assert collection_id(Message) == "messages"
    assert collection_id(BlogPost) == "blog_posts"
    assert collection_id(Category) == "categories"


def test_replace_to_renders_the_default_template_with_the_instance(
    message: Message, sent: CapturedBroadcasts
) -> None:
    assert message.broadcast_replace_to("inbox") is True
    assert sent.for_stream("inbox") == [
        f'<turbo-stream action="replace" target="message_{message.pk}">'
        f"<template>{rendered(message)}</template></turbo-stream>"
    ]


@pytest.mark.parametrize("action", ["replace", "update"])
def test_replace_and_update_without_to_go_to_the_own_stream(
    message: Message, sent: CapturedBroadcasts, action: str
) -> None:
    getattr(message, f"broadcast_{action}")()
    assert sent[0].stream == f"testapp.message:{message.pk}"
    assert sent[0].data == (
        f'<turbo-stream action="{action}" target="message_{message.pk}">'
        f"<template>{rendered(message)}</template></turbo-stream>"
    )


@pytest.mark.parametrize("action", ["append", "prepend"])
def test_append_and_prepend_target_the_collection(
    message: Message, sent: CapturedBroadcasts, action: str
) -> None:
    getattr(message, f"broadcast_{action}_to")("inbox")
    assert sent.for_stream("inbox") == [
        f'<turbo-stream action="{action}" target="messages">'
        f"<template>{rendered(message)}</template></turbo-stream>"
    ]


def test_remove_targets_the_instance_and_carries_no_template(
    message: Message, sent: CapturedBroadcasts
) -> None:
    message.broadcast_remove()
    assert sent == [
        (
            f"testapp.message:{message.pk}",
            f'<turbo-stream action="remove" target="message_{message.pk}"></turbo-stream>',
        )
    ]


@pytest.mark.parametrize("action", ["before", "after"])
def test_before_and_after_need_a_target(message: Message, action: str) -> None:
    with pytest.raises(TypeError, match="needs a target"):
        getattr(message, f"broadcast_{action}_to")("inbox")


@pytest.mark.parametrize("action", ["before", "after"])
def test_before_and_after_accept_an_instance_as_target(
    message: Message, sent: CapturedBroadcasts, action: str
) -> None:
    other = Message.objects.create(body="other")
    getattr(message, f"broadcast_{action}_to")("inbox", target=other)
    assert sent[0].data.startswith(
        f'<turbo-stream action="{action}" target="message_{other.pk}"><template><p '
    )


def test_targets_replaces_the_default_target(message: Message, sent: CapturedBroadcasts) -> None:
    message.broadcast_update_to("inbox", targets=".message", render=False)
    assert sent[0].data == (
        '<turbo-stream action="update" targets=".message"><template></template></turbo-stream>'
    )


def test_template_and_context_are_used(message: Message, sent: CapturedBroadcasts) -> None:
    message.broadcast_append_to(
        "inbox", template="testapp/message_with_author.html", context={"author": "<Ann>"}
    )
    assert sent[0].data == (
        '<turbo-stream action="append" target="messages">'
        "<template><b>Hello &amp; &lt;welcome&gt; by &lt;Ann&gt;</b></template></turbo-stream>"
    )


def test_partial_is_a_synonym_of_template(message: Message, sent: CapturedBroadcasts) -> None:
    message.broadcast_append_to(
        "inbox", partial="testapp/message_with_author.html", context={"author": "Bo"}
    )
    assert "by Bo</b>" in sent[0].data


def test_html_is_escaped_unless_it_is_safe(message: Message, sent: CapturedBroadcasts) -> None:
    message.broadcast_replace_to("inbox", html="<i>x</i>")
    message.broadcast_replace_to("inbox", html=mark_safe("<i>x</i>"))
    assert "<template>&lt;i&gt;x&lt;/i&gt;</template>" in sent[0].data
    assert "<template><i>x</i></template>" in sent[1].data


def test_attributes_are_added(message: Message, sent: CapturedBroadcasts) -> None:
    message.broadcast_replace_to("inbox", attributes={"method": "morph"}, render=False)
    assert sent[0].data == (
        f'<turbo-stream action="replace" target="message_{message.pk}" method="morph">'
        "<template></template></turbo-stream>"
    )


def test_action_to_targets_the_collection_by_default_as_turbo_rails_does(
    message: Message, sent: CapturedBroadcasts
) -> None:
    message.broadcast_action_to("inbox", action="highlight", render=False)
    message.broadcast_action("remove", target=message)
    assert sent[0].data == (
        '<turbo-stream action="highlight" target="messages"><template></template></turbo-stream>'
    )
    assert sent[1].data == (
        f'<turbo-stream action="remove" target="message_{message.pk}"></turbo-stream>'
    )


def test_refresh_to_has_no_target_and_no_template(
    message: Message, sent: CapturedBroadcasts
) -> None:
    room = Room.objects.create(name="lobby")
    message.broadcast_refresh_to(room)
    message.broadcast_refresh(attributes={"method": "morph", "scroll": "preserve"})
    assert sent[0] == (f"testapp.room:{room.pk}", '<turbo-stream action="refresh"></turbo-stream>')
    assert sent[1].data == (
        '<turbo-stream action="refresh" method="morph" scroll="preserve"></turbo-stream>'
    )


def test_the_stream_is_built_from_several_parts(message: Message, sent: CapturedBroadcasts) -> None:
    room = Room.objects.create(name="lobby")
    message.broadcast_remove_to(room, "messages")
    assert sent[0].stream == f"testapp.room:{room.pk}:messages"


def test_remove_refuses_rendering_options(message: Message) -> None:
    with pytest.raises(TypeError, match="takes no template"):
        message.broadcast_remove_to("inbox", template="x.html")


def test_unknown_options_are_refused(message: Message) -> None:
    with pytest.raises(TypeError, match="colour"):
        message.broadcast_replace_to("inbox", colour="red")


def test_a_missing_template_is_a_clear_error_for_explicit_calls() -> None:
    post = Category.objects.create(name="x")
    with pytest.raises(TemplateDoesNotExist, match=r"testapp/_category\.html"):
        post.broadcast_replace_to("inbox")


def test_later_variants_exist_for_every_action_and_send_it(
    message: Message, sent: CapturedBroadcasts
) -> None:
    """Without a task queue (Django 5.2) or with Django's immediate one, they send at once."""
    actions = ("replace", "update", "append", "prepend", "remove", "before", "after")
    for action in actions:
        getattr(message, f"broadcast_{action}_later_to")("inbox", target="anchor")
        getattr(message, f"broadcast_{action}_later")(target="anchor")
    message.broadcast_action_later_to("inbox", action="append", target="anchor")
    message.broadcast_refresh_later_to("inbox")
    sent_actions = [re.search(r'action="(\w+)"', html)[1] for _, html in sent]  # type: ignore[index]
    expected = [action for action in actions for _ in range(2)]
    assert sent_actions[: len(expected)] == expected
    assert sent_actions[len(expected) :] == ["append", "refresh"]
