"""Building ``<turbo-stream>`` elements as escaped HTML; no I/O.

Every attribute value is escaped, and content is escaped unless it is already
safe (a rendered template, or a string marked with ``mark_safe``): a plain string
from user input can never inject markup into a page.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from django.utils.html import conditional_escape, escape
from django.utils.safestring import SafeString, mark_safe

#: The actions Turbo 8 ships; others are custom actions registered in the browser.
ACTIONS = ("append", "prepend", "replace", "update", "remove", "before", "after", "refresh")
#: Actions that must name what they change.
TARGETED_ACTIONS = frozenset(ACTIONS) - {"refresh"}
#: Actions whose element carries no ``<template>``.
CONTENTLESS_ACTIONS = frozenset({"remove", "refresh"})

_ACTION_NAME = re.compile(r"[a-z][a-z0-9_-]*\Z")
_ATTRIBUTE_NAME = re.compile(r"[A-Za-z_:][-A-Za-z0-9_:.]*\Z")
_RESERVED = frozenset({"action", "target", "targets"})

Attributes = Mapping[str, Any]


def _attribute(name: str, value: Any) -> str:
    if value is True:
        return f" {name}"
    return f' {name}="{escape(value)}"'


def _extra_attributes(attributes: Attributes | None) -> str:
    if not attributes:
        return ""
    parts = []
    for name, value in attributes.items():
        if not isinstance(name, str) or not _ATTRIBUTE_NAME.match(name):
            raise ValueError(f"{name!r} is not a valid HTML attribute name.")
        if name in _RESERVED:
            raise ValueError(f"Pass {name!r} as its own argument, not in attributes.")
        if value is None or value is False:
            continue
        parts.append(_attribute(name, value))
    return "".join(parts)


def turbo_stream_tag(
    action: str,
    *,
    target: str | None = None,
    targets: str | None = None,
    content: Any = "",
    attributes: Attributes | None = None,
) -> SafeString:
    """One ``<turbo-stream>`` element.

    ``target`` is an element id, ``targets`` a CSS selector; exactly one of them
    for the built-in actions except ``refresh``, which takes neither. ``content``
    goes into the ``<template>`` and is escaped unless it is safe. ``attributes``
    adds attributes such as ``{"method": "morph"}``; ``True`` renders a bare
    attribute, ``None``/``False`` leaves it out.
    """
    if not isinstance(action, str) or not _ACTION_NAME.match(action):
        raise ValueError(f"{action!r} is not a Turbo Stream action name.")
    if target is not None and targets is not None:
        raise ValueError("Pass target or targets, not both.")
    if action == "refresh" and (target is not None or targets is not None):
        raise ValueError("A refresh has no target.")
    if action in TARGETED_ACTIONS and target is None and targets is None:
        raise ValueError(f"The {action!r} action needs a target or targets.")
    for name, value in (("target", target), ("targets", targets)):
        if value is not None and (not isinstance(value, str) or not value.strip()):
            raise ValueError(f"{name} must be a non-blank string; got {value!r}.")
    opening = f'<turbo-stream action="{escape(action)}"'
    if target is not None:
        opening += _attribute("target", target)
    if targets is not None:
        opening += _attribute("targets", targets)
    opening += _extra_attributes(attributes)
    if action in CONTENTLESS_ACTIONS:
        if content:
            raise ValueError(f"The {action!r} action carries no content.")
        return mark_safe(f"{opening}></turbo-stream>")  # every part is escaped above
    body = conditional_escape(content if content is not None else "")
    return mark_safe(f"{opening}><template>{body}</template></turbo-stream>")


def refresh_tag(
    *, request_id: str | None = None, attributes: Attributes | None = None
) -> SafeString:
    """A ``refresh`` element; ``request_id`` lets the browser that caused it skip it."""
    merged: dict[str, Any] = dict(attributes or {})
    if request_id:
        merged["request-id"] = request_id
    return turbo_stream_tag("refresh", attributes=merged)
