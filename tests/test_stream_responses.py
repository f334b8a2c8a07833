"""Turbo Stream responses over HTTP: the builders, the response, the Accept check, the tag."""

from __future__ import annotations

import pytest
from django.template import Context, Template, TemplateSyntaxError
from django.test import RequestFactory
from django.utils.safestring import mark_safe

from tests.testapp.models import Message
from turbo_cable import stream_actions as turbo_stream
from turbo_cable.http import TurboStreamResponse, accepts_turbo_stream, render_turbo_stream

STREAM = "text/vnd.turbo-stream.html"


def tpl(content: str = "") -> str:
    return f"<template>{content}</template></turbo-stream>"


@pytest.mark.parametrize("action", ["append", "prepend", "before", "after", "replace", "update"])
def test_every_content_action_has_a_builder_and_an_all_variant(action: str) -> None:
    one = getattr(turbo_stream, action)("box", "<b>x</b>")
    every = getattr(turbo_stream, f"{action}_all")(".row", mark_safe("<b>x</b>"))
    assert one == f'<turbo-stream action="{action}" target="box">' + tpl("&lt;b&gt;x&lt;/b&gt;")
    assert every == f'<turbo-stream action="{action}" targets=".row">' + tpl("<b>x</b>")


def test_remove_refresh_and_custom_actions() -> None:
    assert (
        turbo_stream.remove("box") == '<turbo-stream action="remove" target="box"></turbo-stream>'
    )
    assert turbo_stream.remove_all(".x") == (
        '<turbo-stream action="remove" targets=".x"></turbo-stream>'
    )
    assert turbo_stream.refresh(request_id="r1", method="morph") == (
        '<turbo-stream action="refresh" method="morph" request-id="r1"></turbo-stream>'
    )
    assert turbo_stream.action("highlight", "box") == (
        '<turbo-stream action="highlight" target="box">' + tpl()
    )
    assert turbo_stream.action_all("highlight", ".x", attributes={"data-x": "1"}) == (
        '<turbo-stream action="highlight" targets=".x" data-x="1">' + tpl()
    )
    assert turbo_stream.replace("box", "y", method="morph") == (
        '<turbo-stream action="replace" target="box" method="morph">' + tpl("y")
    )


@pytest.mark.django_db
def test_a_model_target_stands_for_its_dom_id_and_templates_render_with_the_request() -> None:
    message = Message.objects.create(body="hi")
    request = RequestFactory().post("/")
    element = turbo_stream.replace(message, template="testapp/form.html", request=request)
    assert element.startswith(f'<turbo-stream action="replace" target="message_{message.pk}">')
    assert 'name="csrfmiddlewaretoken"' in element
    with pytest.raises(TypeError, match="content or a template"):
        turbo_stream.append("x", "y", template="testapp/form.html")


def test_the_response_joins_elements_with_the_turbo_stream_content_type() -> None:
    response = TurboStreamResponse([turbo_stream.remove("a"), turbo_stream.remove("b")])
    assert response["Content-Type"] == f"{STREAM}; charset=utf-8"
    assert response.content.decode() == (
        '<turbo-stream action="remove" target="a"></turbo-stream>'
        '<turbo-stream action="remove" target="b"></turbo-stream>'
    )
    assert TurboStreamResponse(turbo_stream.remove("a"), status=422).status_code == 422


@pytest.mark.parametrize(
    ("accept", "expected"),
    [
        (f"{STREAM}, text/html, application/xhtml+xml", True),  # what Turbo sends with a form
        (f"text/html;q=0.9, {STREAM};q=0.8", True),
        ("text/html, */*", False),
        ("", False),
        ("text/vnd.turbo-stream.htmlx", False),
    ],
)
def test_accepts_turbo_stream_reads_the_accept_header(accept: str, expected: bool) -> None:
    request = RequestFactory().post("/", HTTP_ACCEPT=accept)
    assert accepts_turbo_stream(request) is expected


@pytest.mark.django_db
def test_the_tag_builds_elements_in_a_turbo_stream_template() -> None:
    message = Message.objects.create(body="<hi>")
    request = RequestFactory().get("/")
    response = render_turbo_stream(
        request, "testapp/_message.turbo_stream.html", {"message": message}
    )
    assert response["Content-Type"].startswith(STREAM)
    assert response.content.decode().strip() == (
        f'<turbo-stream action="remove" target="message_{message.pk}"></turbo-stream>'
        '<turbo-stream action="append" target="archive"><template><p>&lt;hi&gt;</p>'
        "</template></turbo-stream>"
    )


def test_the_tag_takes_targets_and_attributes() -> None:
    template = Template(
        '{% load turbo_cable %}{% turbo_stream "update" targets=".n" method="morph" %}'
        "{{ text }}{% endturbo_stream %}"
    )
    assert template.render(Context({"text": "<x>"})) == (
        '<turbo-stream action="update" targets=".n" method="morph">' + tpl("&lt;x&gt;")
    )


def test_the_tag_says_what_is_wrong() -> None:
    with pytest.raises(TemplateSyntaxError, match="needs an action"):
        Template("{% load turbo_cable %}{% turbo_stream %}{% endturbo_stream %}")
    with pytest.raises(TemplateSyntaxError, match="did not understand"):
        Template('{% load turbo_cable %}{% turbo_stream "append" a b %}{% endturbo_stream %}')
    with pytest.raises(ValueError, match="needs a target"):
        Template('{% load turbo_cable %}{% turbo_stream "append" %}x{% endturbo_stream %}').render(
            Context()
        )
