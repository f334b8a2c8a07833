"""``{% turbo_stream_from %}`` and ``{% turbo_cable_meta %}``: what the JS client reads;
``{% turbo_stream "append" "messages" %}...{% endturbo_stream %}``: one ``<turbo-stream>``
element in a ``*.turbo_stream.html`` template.

``{% turbo_stream_from "room" room %}`` renders one ``<turbo-cable-stream>`` marker.
The marker carries everything the client needs (signed stream name, cable URL, ping
interval, and the stream's position when the backend keeps history, so what is
broadcast between rendering and subscribing is replayed), so one tag makes a page
live. ``{% turbo_cable_meta %}`` puts the cable URL and ping interval in ``<head>``
for pages that want them there (it wins over markers).
"""

from __future__ import annotations

import logging
from typing import Any

from django import template
from django.template.base import FilterExpression, NodeList, Parser, Token, token_kwargs
from django.template.context import Context
from django.urls import get_script_prefix
from django.utils.html import format_html
from django.utils.safestring import SafeString

from turbo_cable.backends import stream_position
from turbo_cable.conf import debug, get_settings
from turbo_cable.page_clock import request_started_at
from turbo_cable.stream_actions import action as stream_action
from turbo_cable.streams import stream_name, wire_stream_name
from turbo_cable.turbo_stream import CONTENTLESS_ACTIONS

register = template.Library()
logger = logging.getLogger("turbo_cable")

MARKER = "turbo-cable-stream"
STREAM_OPTIONS = ("presence", "presence_target")  # keyword options of turbo_stream_from


def cable_url() -> str:
    """``CABLE_URL``, else ``CABLE_PATH`` under the script prefix; the client picks ws/wss."""
    settings = get_settings()
    if settings.CABLE_URL:
        return settings.CABLE_URL
    return get_script_prefix().rstrip("/") + settings.CABLE_PATH


def ping_interval() -> str:
    return f"{get_settings().PING_INTERVAL:g}"


def _position(stream: str, since: float | None) -> str:
    """The stream's position when the page's request began (``since``), so the client
    gets what is broadcast after the view read its data."""
    position = stream_position(stream, since)
    if position is None:
        return ""
    return format_html(' epoch="{}" offset="{}"', position.epoch, position.offset)


def page_session_key(request: Any) -> str | None:
    """The session key a session-bound name is signed for; None for a page without one.

    A session the view has just written to gets its key now rather than when the
    response is sent, so the name and the cookie the browser receives agree.
    """
    session = getattr(request, "session", None)
    if session is None:
        return None
    if session.session_key is None and not session.is_empty():
        session.save()
    return session.session_key  # type: ignore[no-any-return]


def _presence(presence: Any, target: Any) -> str:
    """The attributes that make the client ask to be seen on the stream."""
    if not presence and not target:
        return ""
    return format_html(
        " presence{}", format_html(' presence-target="{}"', target) if target else ""
    )


def stream_source(
    *streamables: Any,
    session_key: str | None = None,
    presence: bool = False,
    presence_target: str | None = None,
    request: Any = None,
) -> SafeString:
    """The marker element for one stream built from ``streamables`` (turbo-rails semantics).

    ``presence`` makes the page's visitor seen on the stream (see
    :mod:`turbo_cable.presence_board`); ``presence_target`` is the id of an element to
    update with the rendered ``PRESENCE_TEMPLATE`` as people come and go. ``request``,
    the one the page renders for, dates the position (:mod:`turbo_cable.page_clock`).
    """
    wire = wire_stream_name(*streamables, session_key=session_key)
    plain = stream_name(*streamables)
    return format_html(
        '<{} stream="{}"{} cable-url="{}" ping-interval="{}"{}{}></{}>',
        MARKER,
        wire,
        format_html(' name="{}"', plain) if plain != wire else "",
        cable_url(),
        ping_interval(),
        _position(plain, request_started_at(request)),
        _presence(presence, presence_target),
        MARKER,
    )


class StreamSourceNode(template.Node):
    def __init__(
        self, parts: list[FilterExpression], options: dict[str, FilterExpression] | None = None
    ) -> None:
        self.parts = parts
        self.options = options or {}

    def render(self, context: Context) -> str:
        values = [part.resolve(context) for part in self.parts]
        options = {name: value.resolve(context) for name, value in self.options.items()}
        if any(_is_anonymous_user(value) for value in values):
            return _no_subscription(" ".join(part.token for part in self.parts))
        request = getattr(context, "request", None) or context.get("request")
        session_key = None
        if get_settings().SESSION_BOUND_STREAMS:
            session_key = page_session_key(request)
        try:
            return stream_source(*values, session_key=session_key, request=request, **options)
        except (TypeError, ValueError) as error:
            given = " ".join(part.token for part in self.parts)
            kind = TypeError if isinstance(error, TypeError) else ValueError
            raise kind(f"{{% turbo_stream_from {given} %}}: {error}") from error


def _is_anonymous_user(value: Any) -> bool:
    """``request.user`` of a visitor who is not logged in (Django's ``AnonymousUser``)."""
    return getattr(value, "is_anonymous", False) is True and getattr(value, "pk", 0) is None


def _no_subscription(given: str) -> str:
    """An anonymous visitor has no per-user stream: the page renders without subscribing."""
    if not debug():
        return ""
    explanation = (
        f"{{% turbo_stream_from {given} %}} subscribes to nothing for an anonymous user. "
        "Wrap it in {% if request.user.is_authenticated %} to say so, or build the stream "
        "from something an anonymous visitor has."
    )
    logger.warning(explanation)
    return format_html("<!-- {} -->", explanation.replace("--", "- -"))


@register.tag
def turbo_stream_from(parser: Parser, token: Token) -> StreamSourceNode:
    """``{% turbo_stream_from part [part ...] [presence=True] [presence_target="id"] %}``:
    subscribe the page to one stream (and be seen on it)."""
    bits = token.split_contents()
    if len(bits) < 2:
        raise template.TemplateSyntaxError(
            f"{{% {bits[0]} %}} needs at least one part of a stream name, "
            f'e.g. {{% {bits[0]} "room" room %}}.'
        )
    parts = bits[1:]
    options: dict[str, FilterExpression] = {}
    while parts and parts[-1].partition("=")[0] in STREAM_OPTIONS:
        name, _, value = parts.pop().partition("=")
        options[name] = parser.compile_filter(value)
    if not parts:
        raise template.TemplateSyntaxError(f"{{% {bits[0]} %}} needs a part of a stream name.")
    return StreamSourceNode([parser.compile_filter(bit) for bit in parts], options)


@register.simple_tag
def turbo_cable_meta() -> SafeString:
    """``<meta>`` tags with the cable URL and ping interval, for the page's ``<head>``."""
    return format_html(
        '<meta name="turbo-cable-url" content="{}">'
        '<meta name="turbo-cable-ping-interval" content="{}">',
        cable_url(),
        ping_interval(),
    )


class TurboStreamNode(template.Node):
    def __init__(
        self,
        bits: list[str],
        action: FilterExpression,
        target: FilterExpression | None,
        options: dict[str, FilterExpression],
        nodelist: NodeList,
    ) -> None:
        self.bits = bits
        self.action = action
        self.target = target
        self.options = options
        self.nodelist = nodelist

    def render(self, context: Context) -> str:
        action = self.action.resolve(context)
        target = self.target.resolve(context) if self.target is not None else None
        options = {name: value.resolve(context) for name, value in self.options.items()}
        targets = options.pop("targets", None)
        attributes = {name.replace("_", "-"): value for name, value in options.items()}
        content: str | None = self.nodelist.render(context)
        if action in CONTENTLESS_ACTIONS and not (content or "").strip():
            content = None
        try:
            return stream_action(action, target, content, targets=targets, attributes=attributes)
        except (TypeError, ValueError) as error:
            kind = TypeError if isinstance(error, TypeError) else ValueError
            raise kind(f"{{% {' '.join(self.bits)} %}}: {error}") from error


@register.tag("turbo_stream")
def turbo_stream(parser: Parser, token: Token) -> TurboStreamNode:
    """``{% turbo_stream action [target] [targets=...] [name=value] %}...{% endturbo_stream %}``.

    ``target`` may be a model instance (its DOM id); other keyword arguments become
    attributes of the element (``method="morph"``; ``_`` in a name becomes ``-``).
    """
    bits = token.split_contents()
    if len(bits) < 2:
        raise template.TemplateSyntaxError(
            f'{{% {bits[0]} %}} needs an action, e.g. {{% {bits[0]} "append" "messages" %}}.'
        )
    rest = bits[2:]
    target = None
    if rest and "=" not in rest[0]:
        target = parser.compile_filter(rest.pop(0))
    options = token_kwargs(rest, parser)
    if rest:
        raise template.TemplateSyntaxError(
            f"{{% {bits[0]} %}} takes an action, one target and keyword options; "
            f"did not understand {' '.join(rest)!r}."
        )
    nodelist = parser.parse(("endturbo_stream",))
    parser.delete_first_token()
    return TurboStreamNode(bits, parser.compile_filter(bits[1]), target, options, nodelist)
