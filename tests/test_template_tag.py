"""{% turbo_stream_from %} and {% turbo_cable_meta %} render what the JS client reads."""

from __future__ import annotations

from collections.abc import Iterator
from html.parser import HTMLParser
from typing import Any

import pytest
from django.contrib.sessions.backends.cache import SessionStore
from django.http import HttpRequest
from django.template import Context, Template, TemplateSyntaxError
from django.test import RequestFactory, override_settings
from django.urls import set_script_prefix

from tests.testapp.models import Room
from turbo_cable.backends import get_backend, reset_backend
from turbo_cable.streams import signed_stream_name, verify_signed_stream_name


class _Elements(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.found: list[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.found.append((tag, dict(attrs)))


def render(source: str, **context: Any) -> str:
    return Template("{% load turbo_cable %}" + source).render(Context(context))


def elements(html: str) -> list[tuple[str, dict[str, str | None]]]:
    parser = _Elements()
    parser.feed(html)
    return parser.found


def marker(source: str, **context: Any) -> dict[str, str | None]:
    [(tag, attributes)] = elements(render(source, **context))
    assert tag == "turbo-cable-stream"
    return attributes


@pytest.fixture(autouse=True)
def _root_script_prefix() -> Iterator[None]:
    set_script_prefix("/")
    yield
    set_script_prefix("/")


def test_the_marker_carries_the_signed_stream_the_cable_url_and_the_ping_interval() -> None:
    assert marker('{% turbo_stream_from "counter" %}') == {
        "stream": signed_stream_name("counter"),
        "name": "counter",
        "cable-url": "/cable",
        "ping-interval": "30",
    }


def test_parts_join_into_one_stream_like_turbo_rails() -> None:
    room = Room(pk=7, name="lobby")
    attributes = marker('{% turbo_stream_from "chat" room "messages" %}', room=room)
    assert attributes["name"] == "chat:testapp.room:7:messages"
    assert verify_signed_stream_name(attributes["stream"] or "") == attributes["name"]


def test_each_tag_renders_its_own_marker() -> None:
    html = render('{% turbo_stream_from "a" %}{% turbo_stream_from "b" %}')
    assert [attributes["name"] for _, attributes in elements(html)] == ["a", "b"]


def test_names_are_escaped_in_the_attributes() -> None:
    html = render("{% turbo_stream_from name %}", name='x"><script>alert(1)</script>')
    assert "<script>" not in html
    assert marker("{% turbo_stream_from name %}", name='x"><b>')["name"] == 'x"><b>'


def test_without_parts_the_tag_is_a_syntax_error() -> None:
    with pytest.raises(TemplateSyntaxError, match="needs at least one part"):
        render("{% turbo_stream_from %}")


@pytest.mark.parametrize("value", ["", "   "])
def test_a_blank_part_is_refused_naming_the_tag(value: str) -> None:
    with pytest.raises(ValueError, match=r"turbo_stream_from \"room\" part.*blank"):
        render('{% turbo_stream_from "room" part %}', part=value)


def test_a_missing_variable_is_refused_rather_than_subscribing_to_a_shorter_name() -> None:
    with pytest.raises(ValueError, match="turbo_stream_from missing"):
        render("{% turbo_stream_from missing %}")


def test_an_unusable_part_is_refused_naming_the_tag() -> None:
    with pytest.raises(TypeError, match=r"turbo_stream_from items.*separate arguments"):
        render("{% turbo_stream_from items %}", items=["a", "b"])


@override_settings(TURBO_CABLE={"SIGNED_STREAMS": False})
def test_without_signing_the_plain_name_is_the_stream() -> None:
    assert marker('{% turbo_stream_from "open" %}') == {
        "stream": "open",
        "cable-url": "/cable",
        "ping-interval": "30",
    }


@override_settings(TURBO_CABLE={"CABLE_URL": "wss://cable.example.com/live", "PING_INTERVAL": 2.5})
def test_the_configured_cable_url_and_ping_interval_are_rendered() -> None:
    attributes = marker('{% turbo_stream_from "x" %}')
    assert (attributes["cable-url"], attributes["ping-interval"]) == (
        "wss://cable.example.com/live",
        "2.5",
    )


@override_settings(TURBO_CABLE={"CABLE_PATH": "/ws"})
def test_the_cable_path_follows_the_script_prefix() -> None:
    set_script_prefix("/shop/")
    assert marker('{% turbo_stream_from "x" %}')["cable-url"] == "/shop/ws"


@override_settings(TURBO_CABLE={"CABLE_PATH": "/ws", "PING_INTERVAL": 10})
def test_the_meta_tag_helper_renders_the_cable_url_and_ping_interval() -> None:
    assert elements(render("{% turbo_cable_meta %}")) == [
        ("meta", {"name": "turbo-cable-url", "content": "/ws"}),
        ("meta", {"name": "turbo-cable-ping-interval", "content": "10"}),
    ]


async def test_with_a_running_backend_the_marker_carries_the_streams_position() -> None:
    backend = get_backend()
    await backend.start()
    try:
        await backend.publish("positioned", {"n": 1})
        await backend.publish("positioned", {"n": 2})
        attributes = marker('{% turbo_stream_from "positioned" %}')
        position = backend.position("positioned")
    finally:
        await backend.stop()
        reset_backend()
    assert position is not None
    assert (attributes["epoch"], attributes["offset"]) == (position.epoch, "2")


async def test_a_marker_for_a_stream_without_history_creates_none() -> None:
    backend = get_backend()
    await backend.start()
    try:
        attributes = marker('{% turbo_stream_from "quiet" %}')
        assert backend.history is not None
        kept = len(backend.history)
    finally:
        await backend.stop()
        reset_backend()
    assert (attributes["epoch"], attributes["offset"]) == ("", "0")  # before the history
    assert kept == 0  # rendering only reads


def request_with_session(session_key: str | None = None) -> HttpRequest:
    request = RequestFactory().get("/")
    request.session = SessionStore(session_key)  # type: ignore[attr-defined]
    return request


@override_settings(TURBO_CABLE={"SESSION_BOUND_STREAMS": True})
def test_a_session_bound_name_is_signed_for_the_requests_session() -> None:
    session = SessionStore()
    session["visitor"] = 1
    session.create()
    request = request_with_session(session.session_key)
    wire = marker('{% turbo_stream_from "inbox" %}', request=request)["stream"] or ""
    assert verify_signed_stream_name(wire, session_key=session.session_key) == "inbox"
    assert verify_signed_stream_name(wire, session_key=None) is None


@override_settings(TURBO_CABLE={"SESSION_BOUND_STREAMS": True})
def test_a_session_first_written_by_this_view_gets_its_key_before_the_name_is_signed() -> None:
    request = request_with_session()
    request.session["visitor"] = 1  # type: ignore[attr-defined]
    wire = marker('{% turbo_stream_from "inbox" %}', request=request)["stream"] or ""
    key = request.session.session_key  # type: ignore[attr-defined]
    assert key is not None  # the key the response's cookie will carry
    assert verify_signed_stream_name(wire, session_key=key) == "inbox"


@override_settings(TURBO_CABLE={"SESSION_BOUND_STREAMS": True})
def test_a_page_without_a_session_gets_a_session_less_name_and_creates_no_session() -> None:
    request = request_with_session()
    wire = marker('{% turbo_stream_from "news" %}', request=request)["stream"] or ""
    assert request.session.session_key is None  # type: ignore[attr-defined]
    assert verify_signed_stream_name(wire, session_key=None) == "news"
    assert verify_signed_stream_name(wire, session_key="k" * 32) is None
    # Without a request in the context, too.
    assert verify_signed_stream_name(marker('{% turbo_stream_from "news" %}')["stream"] or "") == (
        "news"
    )
