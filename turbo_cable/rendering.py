"""From a model instance to ``<turbo-stream>`` HTML: DOM ids, templates, content.

The defaults follow turbo-rails: an instance is ``<model_name>_<pk>`` in the page,
its collection is the plural of its name, and it renders with the template
``<app_label>/_<model_name>.html``, where it is in the context under its model name.
"""

from __future__ import annotations

import dataclasses
import logging
import re
from collections.abc import Mapping, Sequence
from typing import Any

from django.db.models import Model
from django.template.loader import render_to_string
from django.utils import translation

from turbo_cable.conf import debug
from turbo_cable.streams import stream_name
from turbo_cable.turbo_stream import CONTENTLESS_ACTIONS, turbo_stream_tag

logger = logging.getLogger("turbo_cable")
_NOT_A_WORD = re.compile(r"[^a-z0-9]+")
_INSERTS = frozenset({"append", "prepend", "before", "after"})
_warned_partials: set[tuple[str, str]] = set()


def dom_id(instance: Model, prefix: str | None = None) -> str:
    """``message_1``, ``edit_message_1``; ``new_message`` while it is unsaved."""
    name = instance._meta.model_name
    if instance.pk is None:
        return f"{prefix or 'new'}_{name}"
    return f"{prefix}_{name}_{instance.pk}" if prefix else f"{name}_{instance.pk}"


def collection_id(model: type[Model] | Model) -> str:
    """The id of the element listing a model's instances: its plural name as an id.

    Taken from ``verbose_name_plural`` without translation, so that a page's
    element ids never depend on the active language: ``BlogPost`` -> ``blog_posts``.
    """
    with translation.override(None):
        plural = str(model._meta.verbose_name_plural)
    return _NOT_A_WORD.sub("_", plural.lower()).strip("_") or f"{model._meta.model_name}s"


def default_template(model: type[Model] | Model) -> str:
    """``<app_label>/_<model_name>.html``, the template an instance renders with."""
    return f"{model._meta.app_label}/_{model._meta.model_name}.html"


@dataclasses.dataclass(frozen=True)
class Rendering:
    """What goes into the ``<template>``: a template with a context, or given HTML."""

    template: str | Sequence[str] | None = None
    context: Mapping[str, Any] = dataclasses.field(default_factory=dict)
    html: str | None = None
    render: bool = True
    # the instance's DOM id, which a partial inserted into the page must carry
    dom_id: str | None = None

    @classmethod
    def for_instance(
        cls,
        instance: Model,
        *,
        template: str | Sequence[str] | None = None,
        partial: str | Sequence[str] | None = None,
        context: Mapping[str, Any] | None = None,
        html: str | None = None,
        render: bool = True,
    ) -> Rendering:
        """The turbo-rails defaults, overridden by whatever the caller passed."""
        if template is not None and partial is not None:
            raise TypeError("Pass template or partial (a synonym), not both.")
        if html is not None:
            if not isinstance(html, str):
                raise TypeError(f"html must be a string; got {type(html).__name__}.")
            return cls(html=html)
        if not render:
            return cls(render=False)
        chosen = template if template is not None else partial
        merged: dict[str, Any] = {str(instance._meta.model_name): instance, **(context or {})}
        own_id = dom_id(instance) if instance.pk is not None else None
        return cls(template=chosen or default_template(instance), context=merged, dom_id=own_id)

    def content(self) -> str:
        if self.html is not None:
            return self.html
        if not self.render or self.template is None:
            return ""
        return render_to_string(self.template, dict(self.context))


def turbo_stream_template(model: type[Model] | Model) -> str:
    """``<app_label>/_<model_name>.turbo_stream.html``, what ``broadcast_render`` renders."""
    return f"{model._meta.app_label}/_{model._meta.model_name}.turbo_stream.html"


@dataclasses.dataclass(frozen=True)
class StreamAction:
    """One broadcast to be made: where it goes, what it does, what it carries.

    ``action=None`` is ``broadcast_render``: the rendering already is the
    ``<turbo-stream>`` elements, sent as they are.
    """

    stream: str
    action: str | None
    target: str | None = None
    targets: str | None = None
    attributes: Mapping[str, Any] = dataclasses.field(default_factory=dict)
    rendering: Rendering | None = None

    @classmethod
    def to(
        cls,
        streamables: tuple[Any, ...],
        action: str | None,
        *,
        target: Any = None,
        targets: str | None = None,
        attributes: Mapping[str, Any] | None = None,
        rendering: Rendering | None = None,
    ) -> StreamAction:
        """``action`` to the stream named by ``streamables``; a model target stands for
        its DOM id."""
        return cls(
            stream=stream_name(*streamables),
            action=action,
            target=resolve_target(target),
            targets=targets,
            attributes=dict(attributes or {}),
            rendering=rendering,
        )

    def __post_init__(self) -> None:
        if self.action in CONTENTLESS_ACTIONS and self.rendering is not None:
            raise ValueError(f"The {self.action!r} action carries no content.")

    def to_html(self) -> str:
        content = self.rendering.content() if self.rendering is not None else ""
        if self.action is None:
            return content
        if self.rendering is not None and self.rendering.template is not None and debug():
            _warn_missing_id(self.action, self.target, self.rendering, content)
        return turbo_stream_tag(
            self.action,
            target=self.target,
            targets=self.targets,
            content=content,
            attributes=self.attributes,
        )


def _warn_missing_id(action: str, target: str | None, rendering: Rendering, html: str) -> None:
    """In DEBUG, once per partial: an element without its id is lost to later broadcasts."""
    expected = target if action == "replace" else rendering.dom_id if action in _INSERTS else None
    has_id = rf"""(?<![\w-])id\s*=\s*["']?{re.escape(expected or "")}["'\s>]"""
    if not expected or re.search(has_id, html):
        return
    template = str(rendering.template)
    if (template, action) in _warned_partials:
        return
    _warned_partials.add((template, action))
    logger.warning(
        '%s rendered for a %s has no element with id="%s", so later replaces and removes '
        'of it find nothing on the page. Give the partial\'s root element id="%s" '
        "(shown once per partial, with DEBUG on).",
        template,
        action,
        expected,
        expected,
    )


def resolve_target(target: Any) -> str | None:
    """Targets may be given as model instances, which stand for their DOM id."""
    if isinstance(target, Model):
        return dom_id(target)
    return None if target is None else str(target)
