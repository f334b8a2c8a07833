"""``Broadcastable``: the turbo-rails ``Turbo::Broadcastable`` API for Django models.

``broadcast_<action>_to(*streamables, ...)`` sends to the stream those parts name;
``broadcast_<action>(...)`` sends to the instance's own stream; ``_later`` variants
render and deliver in a ``django.tasks`` worker when a queue is configured (see
:mod:`turbo_cable.tasks`). Explicit calls broadcast when they are made; the
declarative class attributes (``broadcasts``, ``broadcasts_to``,
``broadcasts_refreshes``, ``broadcasts_refreshes_to``) fire after commit.

Rendering options, for every action that carries content: ``template`` (or its
synonym ``partial``), ``context``, ``html`` (escaped unless safe) and
``render=False`` (an empty ``<template>``).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Mapping
from typing import Any

from django.db.models import Model

from turbo_cable import declarations, streams_channel
from turbo_cable.rendering import (
    Rendering,
    StreamAction,
    collection_id,
    turbo_stream_template,
)
from turbo_cable.suppression import broadcasts_suppressed, suppressing_broadcasts
from turbo_cable.tasks import deliver, deliver_later
from turbo_cable.turbo_stream import CONTENTLESS_ACTIONS

__all__ = ["Broadcastable"]

Attributes = Mapping[str, Any] | None
_REQUIRED = object()  # before/after have no default target


class Broadcastable:
    """Mix into a model (before ``models.Model``) to broadcast its changes."""

    # -- names -----------------------------------------------------------------------
    def broadcast_target_default(self) -> str:
        """Where ``append``/``prepend`` insert by default: the collection id, e.g. ``messages``."""
        return collection_id(self._model())

    @classmethod
    @contextlib.contextmanager
    def suppressing_broadcasts(cls) -> Iterator[None]:
        """No broadcast of this model (or its subclasses) inside the block."""
        with suppressing_broadcasts(cls):
            yield

    # -- the general form ----------------------------------------------------------------
    def broadcast_action_to(
        self,
        *streamables: Any,
        action: str,
        target: Any = None,
        targets: str | None = None,
        attributes: Attributes = None,
        **rendering: Any,
    ) -> bool:
        """Any action; the target defaults to the collection id, as in turbo-rails."""
        default = self.broadcast_target_default()
        return self._send(streamables, action, target, targets, attributes, rendering, default)

    def broadcast_action(self, action: str, **options: Any) -> bool:
        return self.broadcast_action_to(self, action=action, **options)

    def broadcast_action_later_to(
        self,
        *streamables: Any,
        action: str,
        target: Any = None,
        targets: str | None = None,
        attributes: Attributes = None,
        **rendering: Any,
    ) -> None:
        default = self.broadcast_target_default()
        self._send(streamables, action, target, targets, attributes, rendering, default, True)

    def broadcast_action_later(self, action: str, **options: Any) -> None:
        self.broadcast_action_later_to(self, action=action, **options)

    # -- replace, update, remove: the instance's own element ---------------------------------
    def broadcast_replace_to(self, *streamables: Any, **options: Any) -> bool:
        return self._default_to(streamables, "replace", self, options)

    def broadcast_replace(self, **options: Any) -> bool:
        return self.broadcast_replace_to(self, **options)

    def broadcast_replace_later_to(self, *streamables: Any, **options: Any) -> None:
        self._default_to(streamables, "replace", self, options, later=True)

    def broadcast_replace_later(self, **options: Any) -> None:
        self.broadcast_replace_later_to(self, **options)

    def broadcast_update_to(self, *streamables: Any, **options: Any) -> bool:
        return self._default_to(streamables, "update", self, options)

    def broadcast_update(self, **options: Any) -> bool:
        return self.broadcast_update_to(self, **options)

    def broadcast_update_later_to(self, *streamables: Any, **options: Any) -> None:
        self._default_to(streamables, "update", self, options, later=True)

    def broadcast_update_later(self, **options: Any) -> None:
        self.broadcast_update_later_to(self, **options)

    def broadcast_remove_to(self, *streamables: Any, **options: Any) -> bool:
        return self._default_to(streamables, "remove", self, options)

    def broadcast_remove(self, **options: Any) -> bool:
        return self.broadcast_remove_to(self, **options)

    def broadcast_remove_later_to(self, *streamables: Any, **options: Any) -> None:
        self._default_to(streamables, "remove", self, options, later=True)

    def broadcast_remove_later(self, **options: Any) -> None:
        self.broadcast_remove_later_to(self, **options)

    # -- append, prepend: into the collection ---------------------------------------------
    def broadcast_append_to(self, *streamables: Any, **options: Any) -> bool:
        return self._default_to(streamables, "append", self.broadcast_target_default(), options)

    def broadcast_append(self, **options: Any) -> bool:
        return self.broadcast_append_to(self, **options)

    def broadcast_append_later_to(self, *streamables: Any, **options: Any) -> None:
        target = self.broadcast_target_default()
        self._default_to(streamables, "append", target, options, later=True)

    def broadcast_append_later(self, **options: Any) -> None:
        self.broadcast_append_later_to(self, **options)

    def broadcast_prepend_to(self, *streamables: Any, **options: Any) -> bool:
        return self._default_to(streamables, "prepend", self.broadcast_target_default(), options)

    def broadcast_prepend(self, **options: Any) -> bool:
        return self.broadcast_prepend_to(self, **options)

    def broadcast_prepend_later_to(self, *streamables: Any, **options: Any) -> None:
        target = self.broadcast_target_default()
        self._default_to(streamables, "prepend", target, options, later=True)

    def broadcast_prepend_later(self, **options: Any) -> None:
        self.broadcast_prepend_later_to(self, **options)

    # -- before, after: next to a given element --------------------------------------------
    def broadcast_before_to(self, *streamables: Any, **options: Any) -> bool:
        return self._default_to(streamables, "before", _REQUIRED, options)

    def broadcast_before(self, **options: Any) -> bool:
        return self.broadcast_before_to(self, **options)

    def broadcast_before_later_to(self, *streamables: Any, **options: Any) -> None:
        self._default_to(streamables, "before", _REQUIRED, options, later=True)

    def broadcast_before_later(self, **options: Any) -> None:
        self.broadcast_before_later_to(self, **options)

    def broadcast_after_to(self, *streamables: Any, **options: Any) -> bool:
        return self._default_to(streamables, "after", _REQUIRED, options)

    def broadcast_after(self, **options: Any) -> bool:
        return self.broadcast_after_to(self, **options)

    def broadcast_after_later_to(self, *streamables: Any, **options: Any) -> None:
        self._default_to(streamables, "after", _REQUIRED, options, later=True)

    def broadcast_after_later(self, **options: Any) -> None:
        self.broadcast_after_later_to(self, **options)

    # -- refresh: every subscribed page reloads (morphs) itself -------------------------------
    def broadcast_refresh_to(self, *streamables: Any, attributes: Attributes = None) -> bool:
        """A refresh now, tagged with the current Turbo request id."""
        if broadcasts_suppressed(self._model()):
            return False
        return streams_channel.broadcast_refresh_to(*streamables, **(attributes or {}))

    def broadcast_refresh(self, *, attributes: Attributes = None) -> bool:
        return self.broadcast_refresh_to(self, attributes=attributes)

    def broadcast_refresh_later_to(self, *streamables: Any, attributes: Attributes = None) -> None:
        """A refresh sent once per stream and request id, when the request or task ends."""
        if broadcasts_suppressed(self._model()):
            return
        streams_channel.broadcast_refresh_later_to(*streamables, **(attributes or {}))

    def broadcast_refresh_later(self, *, attributes: Attributes = None) -> None:
        self.broadcast_refresh_later_to(self, attributes=attributes)

    # -- render: a *.turbo_stream.html template, sent as it is ------------------------------
    def broadcast_render_to(
        self, *streamables: Any, template: Any = None, context: Mapping[str, Any] | None = None
    ) -> bool:
        """Render ``<app_label>/_<model_name>.turbo_stream.html`` (the instance in the context)."""
        if broadcasts_suppressed(self._model()):
            return False
        return deliver(self._render(streamables, template, context))

    def broadcast_render(self, **options: Any) -> bool:
        return self.broadcast_render_to(self, **options)

    def broadcast_render_later_to(
        self, *streamables: Any, template: Any = None, context: Mapping[str, Any] | None = None
    ) -> None:
        if broadcasts_suppressed(self._model()):
            return
        instance: Model = self  # type: ignore[assignment]
        deliver_later(self._render(streamables, template, context), instance)

    def broadcast_render_later(self, **options: Any) -> None:
        self.broadcast_render_later_to(self, **options)

    # -- internals ---------------------------------------------------------------------
    def _render(
        self, streamables: tuple[Any, ...], template: Any, context: Mapping[str, Any] | None
    ) -> StreamAction:
        instance: Model = self  # type: ignore[assignment]
        merged = {str(instance._meta.model_name): instance, **(context or {})}
        rendering = Rendering(template=template or turbo_stream_template(instance), context=merged)
        return StreamAction.to(streamables, None, rendering=rendering)

    def _model(self) -> type[Model]:
        return type(self)  # type: ignore[return-value]

    def _default_to(
        self,
        streamables: tuple[Any, ...],
        action: str,
        default_target: Any,
        options: dict[str, Any],
        *,
        later: bool = False,
    ) -> bool:
        target = options.pop("target", None)
        targets = options.pop("targets", None)
        if target is None and targets is None:
            if default_target is _REQUIRED:
                raise TypeError(f"broadcast_{action}_to needs a target or targets.")
            target = default_target
        attributes = options.pop("attributes", None)
        return self._send(streamables, action, target, targets, attributes, options, None, later)

    def _send(
        self,
        streamables: tuple[Any, ...],
        action: str,
        target: Any,
        targets: str | None,
        attributes: Attributes,
        rendering: dict[str, Any],
        default_target: Any,
        later: bool = False,
    ) -> bool:
        """Render and deliver now (True when the cable took it), or queue it (``later``)."""
        if target is None and targets is None and action != "refresh":
            target = default_target
        instance: Model = self  # type: ignore[assignment]
        if action in CONTENTLESS_ACTIONS:
            if rendering:
                raise TypeError(f"The {action!r} action takes no {', '.join(rendering)}.")
            content = None
        else:
            content = Rendering.for_instance(instance, **rendering)
        stream_action = StreamAction.to(
            streamables,
            action,
            target=target,
            targets=targets,
            attributes=attributes,
            rendering=content,
        )
        if broadcasts_suppressed(self._model()):
            return False
        if later:
            deliver_later(stream_action, instance)
            return True
        return deliver(stream_action)


declarations.connect(Broadcastable)
