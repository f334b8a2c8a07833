"""turbo-rails' ``turbo_stream.<action>(...)`` builders: one ``<turbo-stream>`` element each.

For HTTP responses (``TurboStreamResponse``) and for broadcasts alike. A target
may be a model instance, which stands for its DOM id (``message_1``); content is
a string (escaped unless safe) or a template rendered with ``context`` (and the
``request``, when given, so forms get their CSRF token)::

    from turbo_cable import stream_actions as turbo_stream

    turbo_stream.append("messages", template="chat/_message.html", context={"message": m})
    turbo_stream.replace(message, template="chat/_message.html", context={"message": m})
    turbo_stream.remove_all(".notice")
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from django.db.models import Model
from django.http import HttpRequest
from django.template.loader import render_to_string
from django.utils.safestring import SafeString

from turbo_cable.rendering import dom_id
from turbo_cable.turbo_stream import refresh_tag, turbo_stream_tag

Template = str | Sequence[str] | None


def _target(target: Any) -> str | None:
    if isinstance(target, Model):
        return dom_id(target)
    return None if target is None else str(target)


def _content(
    content: Any,
    template: Template,
    partial: Template,
    context: Mapping[str, Any] | None,
    request: HttpRequest | None,
) -> Any:
    if template is not None and partial is not None:
        raise TypeError("Pass template or partial (a synonym), not both.")
    chosen = template if template is not None else partial
    if chosen is None:
        return content
    if content is not None:
        raise TypeError("Pass content or a template, not both.")
    return render_to_string(chosen, dict(context or {}), request=request)


def action(
    name: str,
    target: Any = None,
    content: Any = None,
    *,
    targets: str | None = None,
    template: Template = None,
    partial: Template = None,
    context: Mapping[str, Any] | None = None,
    request: HttpRequest | None = None,
    attributes: Mapping[str, Any] | None = None,
) -> SafeString:
    """Any action, built-in or custom: ``turbo_stream.action`` in turbo-rails."""
    return turbo_stream_tag(
        name,
        target=_target(target),
        targets=targets,
        content=_content(content, template, partial, context, request) or "",
        attributes=attributes,
    )


def action_all(name: str, targets: str, content: Any = None, **options: Any) -> SafeString:
    """Any action on every element that matches the CSS selector ``targets``."""
    return action(name, None, content, targets=targets, **options)


def _morphing(method: str | None, options: dict[str, Any]) -> dict[str, Any]:
    if method is not None:
        options["attributes"] = {**(options.get("attributes") or {}), "method": method}
    return options


def append(target: Any, content: Any = None, **options: Any) -> SafeString:
    return action("append", target, content, **options)


def append_all(targets: str, content: Any = None, **options: Any) -> SafeString:
    return action_all("append", targets, content, **options)


def prepend(target: Any, content: Any = None, **options: Any) -> SafeString:
    return action("prepend", target, content, **options)


def prepend_all(targets: str, content: Any = None, **options: Any) -> SafeString:
    return action_all("prepend", targets, content, **options)


def before(target: Any, content: Any = None, **options: Any) -> SafeString:
    return action("before", target, content, **options)


def before_all(targets: str, content: Any = None, **options: Any) -> SafeString:
    return action_all("before", targets, content, **options)


def after(target: Any, content: Any = None, **options: Any) -> SafeString:
    return action("after", target, content, **options)


def after_all(targets: str, content: Any = None, **options: Any) -> SafeString:
    return action_all("after", targets, content, **options)


def replace(
    target: Any, content: Any = None, *, method: str | None = None, **options: Any
) -> SafeString:
    """``method="morph"`` morphs the element instead of swapping it (Turbo 8)."""
    return action("replace", target, content, **_morphing(method, options))


def replace_all(
    targets: str, content: Any = None, *, method: str | None = None, **options: Any
) -> SafeString:
    return action_all("replace", targets, content, **_morphing(method, options))


def update(
    target: Any, content: Any = None, *, method: str | None = None, **options: Any
) -> SafeString:
    return action("update", target, content, **_morphing(method, options))


def update_all(
    targets: str, content: Any = None, *, method: str | None = None, **options: Any
) -> SafeString:
    return action_all("update", targets, content, **_morphing(method, options))


def remove(target: Any, *, attributes: Mapping[str, Any] | None = None) -> SafeString:
    return turbo_stream_tag("remove", target=_target(target), attributes=attributes)


def remove_all(targets: str, *, attributes: Mapping[str, Any] | None = None) -> SafeString:
    return turbo_stream_tag("remove", targets=targets, attributes=attributes)


def refresh(
    *, request_id: str | None = None, method: str | None = None, scroll: str | None = None
) -> SafeString:
    """A page refresh; ``method="morph"``/``scroll="preserve"`` as Turbo 8 reads them."""
    return refresh_tag(request_id=request_id, attributes={"method": method, "scroll": scroll})


__all__ = [
    "action",
    "action_all",
    "after",
    "after_all",
    "append",
    "append_all",
    "before",
    "before_all",
    "prepend",
    "prepend_all",
    "refresh",
    "remove",
    "remove_all",
    "replace",
    "replace_all",
    "update",
    "update_all",
]
