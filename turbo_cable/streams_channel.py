"""Broadcasts without a model: turbo-rails' ``Turbo::StreamsChannel.broadcast_<action>_to``.

The same names and defaults as turbo-rails: no default target (pass ``target`` or
``targets``; ``refresh`` takes neither), content from ``template`` (or ``partial``)
with ``context``, from ``html``/``content`` (escaped unless safe), or none at all::

    from turbo_cable import broadcast_append_to

    broadcast_append_to(room, "messages", target="messages",
                        template="chat/_message.html", context={"message": message})

``broadcast_render_to`` sends a rendered ``*.turbo_stream.html`` template as it
is. Each ``_later`` variant is queued with ``django.tasks`` when a queue is
configured (model instances in ``context`` travel as references), else sent now.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from turbo_cable.refreshes import current_request_id, schedule_refresh
from turbo_cable.rendering import Rendering, StreamAction
from turbo_cable.tasks import deliver, deliver_later
from turbo_cable.turbo_stream import CONTENTLESS_ACTIONS

Template = str | Sequence[str] | None

__all__ = [
    "broadcast_action_later_to",
    "broadcast_action_to",
    "broadcast_after_later_to",
    "broadcast_after_to",
    "broadcast_append_later_to",
    "broadcast_append_to",
    "broadcast_before_later_to",
    "broadcast_before_to",
    "broadcast_prepend_later_to",
    "broadcast_prepend_to",
    "broadcast_refresh_later_to",
    "broadcast_refresh_to",
    "broadcast_remove_later_to",
    "broadcast_remove_to",
    "broadcast_render_later_to",
    "broadcast_render_to",
    "broadcast_replace_later_to",
    "broadcast_replace_to",
    "broadcast_update_later_to",
    "broadcast_update_to",
]


def _rendering(
    action: str,
    template: Template,
    partial: Template,
    context: Mapping[str, Any] | None,
    html: str | None,
    content: str | None,
    render: bool,
) -> Rendering | None:
    if template is not None and partial is not None:
        raise TypeError("Pass template or partial (a synonym), not both.")
    if html is not None and content is not None:
        raise TypeError("Pass html or content (a synonym), not both.")
    given = html if html is not None else content
    chosen = template if template is not None else partial
    if action in CONTENTLESS_ACTIONS or not render:
        if given is not None or chosen is not None:
            raise TypeError(f"The {action!r} action takes no content.")
        return None
    if given is not None:
        if chosen is not None:
            raise TypeError("Pass html/content or a template, not both.")
        return Rendering(html=given)
    if chosen is not None:
        return Rendering(template=chosen, context=dict(context or {}))
    return None  # an empty <template>, as turbo-rails renders nothing without options


def _stream_action(
    streamables: tuple[Any, ...],
    action: str,
    target: Any,
    targets: str | None,
    attributes: Mapping[str, Any] | None,
    rendering: dict[str, Any],
) -> StreamAction:
    unknown = set(rendering) - {"template", "partial", "context", "html", "content", "render"}
    if unknown:
        raise TypeError(f"Unknown option(s): {', '.join(sorted(unknown))}.")
    content = _rendering(
        action,
        rendering.get("template"),
        rendering.get("partial"),
        rendering.get("context"),
        rendering.get("html"),
        rendering.get("content"),
        rendering.get("render", True),
    )
    return StreamAction.to(
        streamables,
        action,
        target=target,
        targets=targets,
        attributes=attributes,
        rendering=content,
    )


def broadcast_action_to(
    *streamables: Any,
    action: str,
    target: Any = None,
    targets: str | None = None,
    attributes: Mapping[str, Any] | None = None,
    **rendering: Any,
) -> bool:
    """Any action, built-in or custom; ``True`` when the cable took it."""
    return deliver(_stream_action(streamables, action, target, targets, attributes, rendering))


def broadcast_action_later_to(
    *streamables: Any,
    action: str,
    target: Any = None,
    targets: str | None = None,
    attributes: Mapping[str, Any] | None = None,
    **rendering: Any,
) -> None:
    deliver_later(_stream_action(streamables, action, target, targets, attributes, rendering), None)


def _now(action: str) -> Any:
    def broadcast_now(*streamables: Any, **options: Any) -> bool:
        return broadcast_action_to(*streamables, action=action, **options)

    broadcast_now.__name__ = broadcast_now.__qualname__ = f"broadcast_{action}_to"
    broadcast_now.__doc__ = f"A ``{action}`` to the stream the parts name."
    return broadcast_now


def _later(action: str) -> Any:
    def broadcast_later(*streamables: Any, **options: Any) -> None:
        broadcast_action_later_to(*streamables, action=action, **options)

    broadcast_later.__name__ = broadcast_later.__qualname__ = f"broadcast_{action}_later_to"
    broadcast_later.__doc__ = f"A queued ``{action}`` to the stream the parts name."
    return broadcast_later


broadcast_replace_to = _now("replace")
broadcast_update_to = _now("update")
broadcast_remove_to = _now("remove")
broadcast_append_to = _now("append")
broadcast_prepend_to = _now("prepend")
broadcast_before_to = _now("before")
broadcast_after_to = _now("after")
broadcast_replace_later_to = _later("replace")
broadcast_update_later_to = _later("update")
broadcast_remove_later_to = _later("remove")
broadcast_append_later_to = _later("append")
broadcast_prepend_later_to = _later("prepend")
broadcast_before_later_to = _later("before")
broadcast_after_later_to = _later("after")


def _refresh(streamables: tuple[Any, ...], attributes: Mapping[str, Any]) -> StreamAction:
    merged = {name.replace("_", "-"): value for name, value in attributes.items()}
    request_id = current_request_id()
    if request_id:
        merged.setdefault("request-id", request_id)
    return StreamAction.to(streamables, "refresh", attributes=merged)


def broadcast_refresh_to(*streamables: Any, **attributes: Any) -> bool:
    """A page refresh, tagged with the current Turbo request id (``method="morph"`` etc.)."""
    return deliver(_refresh(streamables, attributes))


def broadcast_refresh_later_to(*streamables: Any, **attributes: Any) -> None:
    """A refresh sent once per stream and request id, when the request or task ends."""
    action = _refresh(streamables, attributes)
    schedule_refresh(action.stream, action.to_html(), lambda: deliver_later(action, None))


def _render(
    streamables: tuple[Any, ...], template: Template, context: Mapping[str, Any] | None
) -> StreamAction:
    if template is None:
        raise TypeError("broadcast_render_to needs a template (a *.turbo_stream.html).")
    rendering = Rendering(template=template, context=dict(context or {}))
    return StreamAction.to(streamables, None, rendering=rendering)


def broadcast_render_to(
    *streamables: Any, template: Template = None, context: Mapping[str, Any] | None = None
) -> bool:
    """Render a ``*.turbo_stream.html`` template and send its ``<turbo-stream>`` elements."""
    return deliver(_render(streamables, template, context))


def broadcast_render_later_to(
    *streamables: Any, template: Template = None, context: Mapping[str, Any] | None = None
) -> None:
    deliver_later(_render(streamables, template, context), None)
