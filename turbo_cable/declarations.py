"""Declarative broadcasts: class attributes that broadcast a model's changes after commit.

The equivalents of turbo-rails' ``broadcasts``, ``broadcasts_to``,
``broadcasts_refreshes`` and ``broadcasts_refreshes_to``::

    class Message(Broadcastable, models.Model):
        broadcasts_to = "room"                    # or lambda message: (message.room, "chat")
        broadcasts_refreshes = True               # or "stream", or {"stream": ...}

Nothing is sent before the transaction commits, nothing when it rolls back,
and a broadcast that fails is logged, never raised into ``save()``/``delete()``.
"""

from __future__ import annotations

import dataclasses
import functools
import logging
from collections.abc import Callable, Mapping
from typing import Any

from django.core.exceptions import ImproperlyConfigured
from django.db import transaction
from django.db.models import Model
from django.db.models.signals import class_prepared, post_delete, post_save

from turbo_cable.rendering import dom_id
from turbo_cable.streams import stream_name
from turbo_cable.suppression import broadcasts_suppressed

logger = logging.getLogger("turbo_cable")

KINDS = ("broadcasts", "broadcasts_to", "broadcasts_refreshes", "broadcasts_refreshes_to")
_RENDERING = frozenset({"template", "partial", "context", "html", "render", "attributes"})
_ALLOWED = {
    "broadcasts": frozenset({"stream", "inserts_by", "target"}) | _RENDERING,
    "broadcasts_to": frozenset({"stream", "inserts_by", "target"}) | _RENDERING,
    "broadcasts_refreshes": frozenset({"stream"}),
    "broadcasts_refreshes_to": frozenset({"stream"}),
}

Instance = Any  # a Broadcastable model instance


@dataclasses.dataclass(frozen=True)
class Declaration:
    """One parsed class attribute; ``stream`` is literal parts or a per-instance callable."""

    kind: str
    stream: tuple[Any, ...] | Callable[[Instance], Any] | None
    inserts_by: str = "append"
    target: Any = None
    rendering: Mapping[str, Any] = dataclasses.field(default_factory=dict)

    def streams(self, instance: Instance) -> tuple[Any, ...]:
        if self.stream is None:  # turbo-rails' default: the collection, e.g. "messages"
            return (instance.broadcast_target_default(),)
        if callable(self.stream):
            parts = self.stream(instance)
            return tuple(parts) if isinstance(parts, list | tuple) else (parts,)
        return self.stream

    def on_create(self, instance: Instance) -> None:
        if self.kind in ("broadcasts_refreshes", "broadcasts_refreshes_to"):
            instance.broadcast_refresh_later_to(*self.streams(instance))
            return
        target = self.target(instance) if callable(self.target) else self.target
        instance.broadcast_action_later_to(
            *self.streams(instance),
            action=self.inserts_by,
            target=target or instance.broadcast_target_default(),
            **self.rendering,
        )

    def on_update(self, instance: Instance) -> None:
        if self.kind == "broadcasts":
            instance.broadcast_replace_later(**self.rendering)
        elif self.kind == "broadcasts_to":
            instance.broadcast_replace_later_to(*self.streams(instance), **self.rendering)
        elif self.kind == "broadcasts_refreshes":
            instance.broadcast_refresh_later()
        else:
            instance.broadcast_refresh_later_to(*self.streams(instance))

    def on_delete(self, instance: Instance) -> Callable[[], None]:
        """Names are computed now, while the instance still has its primary key."""
        if self.kind == "broadcasts_refreshes_to":
            streams = self.streams(instance)
            return lambda: instance.broadcast_refresh_later_to(*streams)
        own = stream_name(instance)
        if self.kind == "broadcasts_refreshes":
            return lambda: instance.broadcast_refresh_to(own)
        streams = (own,) if self.kind == "broadcasts" else self.streams(instance)
        target = dom_id(instance)
        return lambda: instance.broadcast_remove_to(*streams, target=target)


def _attribute_stream(model: type, name: str) -> Callable[[Instance], Any]:
    def stream(instance: Instance) -> Any:
        value = getattr(instance, name)
        return value() if callable(value) else value

    stream.__qualname__ = f"{model.__name__}.{name}"
    return stream


def _parse(model: type, kind: str, value: Any) -> Declaration | None:
    where = f"{model.__module__}.{model.__qualname__}.{kind}"
    if value is None or value is False:
        return None
    to_instance = kind.endswith("_to")
    options: dict[str, Any] = {}
    if isinstance(value, Mapping):
        options = dict(value)
        unknown = set(options) - _ALLOWED[kind]
        if unknown:
            raise ImproperlyConfigured(f"{where} has unknown options: {sorted(unknown)}.")
        value = options.pop("stream", True if not to_instance else None)
    if to_instance:
        if isinstance(value, str):
            if not hasattr(model, value):
                # turbo-rails' ``broadcasts_to :room`` names an attribute; a literal
                # stream name here would otherwise fail only at the first save.
                raise ImproperlyConfigured(
                    f"{where} = {value!r} names no attribute of {model.__name__}: "
                    f"{kind} takes an attribute (or a callable) that gives the stream, "
                    f"as in turbo-rails. For the literal stream {value!r}, write "
                    f"{kind.removesuffix('_to')} = {value!r} or "
                    f"{kind} = lambda instance: {value!r}."
                )
            value = _attribute_stream(model, value)
        if not callable(value):
            raise ImproperlyConfigured(
                f"{where} must be an attribute name, a callable taking the instance, "
                "or a dict with such a 'stream'."
            )
        stream: Any = value
    elif value is True:
        stream = None
    elif isinstance(value, str | list | tuple):
        stream = tuple(value) if isinstance(value, list | tuple) else (value,)
    else:
        raise ImproperlyConfigured(f"{where} must be True, a stream name, or a dict.")
    inserts_by = options.pop("inserts_by", "append")
    if inserts_by not in ("append", "prepend"):
        raise ImproperlyConfigured(f"{where}: inserts_by must be 'append' or 'prepend'.")
    target = options.pop("target", None)
    return Declaration(kind, stream, inserts_by, target, options)


def _guarded(what: str, instance: Instance, run: Callable[[], Any]) -> None:
    try:
        run()
    except Exception:
        logger.exception("%s broadcast of %r failed", what, instance)


def _saved(
    sender: type, instance: Instance, created: bool, raw: bool, using: str, **_: Any
) -> None:
    if raw or broadcasts_suppressed(sender):
        return
    for declaration in sender._turbo_cable_declarations:  # type: ignore[attr-defined]
        handler = declaration.on_create if created else declaration.on_update
        what = f"{declaration.kind} (on {'create' if created else 'update'})"
        transaction.on_commit(
            functools.partial(_guarded, what, instance, functools.partial(handler, instance)),
            using=using,
        )


def _deleted(sender: type, instance: Instance, using: str, **_: Any) -> None:
    if broadcasts_suppressed(sender):
        return
    for declaration in sender._turbo_cable_declarations:  # type: ignore[attr-defined]
        what = f"{declaration.kind} (on delete)"
        # Names are taken now, while the instance still has its primary key.
        send: list[Callable[[], None]] = []
        _guarded(what, instance, functools.partial(_prepare_delete, declaration, instance, send))
        for run in send:
            transaction.on_commit(functools.partial(_guarded, what, instance, run), using=using)


def _prepare_delete(
    declaration: Declaration, instance: Instance, into: list[Callable[[], None]]
) -> None:
    into.append(declaration.on_delete(instance))


def connect(mixin: type) -> None:
    """Parse the declarations of every model class using ``mixin`` as it is created."""

    def prepare(sender: type[Model], **_: Any) -> None:
        if not issubclass(sender, mixin):
            return
        parsed = [_parse(sender, kind, getattr(sender, kind, None)) for kind in KINDS]
        declarations = tuple(d for d in parsed if d is not None)
        sender._turbo_cable_declarations = declarations  # type: ignore[attr-defined]
        if declarations:
            uid = f"turbo_cable.declarations:{sender._meta.label_lower}"
            post_save.connect(_saved, sender=sender, weak=False, dispatch_uid=uid)
            post_delete.connect(_deleted, sender=sender, weak=False, dispatch_uid=uid)

    class_prepared.connect(prepare, weak=False, dispatch_uid="turbo_cable.declarations")
