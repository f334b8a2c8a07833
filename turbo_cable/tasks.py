"""``_later`` broadcasts: queued with ``django.tasks`` when a queue is configured.

On Django 6.0+ with a task backend that really queues (anything but the
``ImmediateBackend``), a ``_later`` broadcast becomes a task that a worker runs:
it re-loads the instance and renders it then, and quietly drops the broadcast if
the instance was deleted meanwhile. Without ``django.tasks``, or with the
immediate backend, it is rendered and delivered at once, in the caller.

Queued arguments must be JSON: model instances in a ``context`` are sent as
references and re-loaded by the worker; other values must be JSON values.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from django.apps import apps
from django.db.models import Model
from django.utils.safestring import SafeData, mark_safe

from turbo_cable.broadcast import broadcast
from turbo_cable.refreshes import close_batch, open_batch
from turbo_cable.rendering import Rendering, StreamAction

logger = logging.getLogger("turbo_cable")

_MODEL_REF = "__turbo_cable_model__"

Payload = dict[str, Any]


def deliver(action: StreamAction) -> bool:
    """Render and deliver now."""
    return broadcast(action.stream, action.to_html())


def deliver_later(action: StreamAction, instance: Model | None) -> None:
    """Enqueue the broadcast when a task queue is configured, else deliver it now."""
    task = _queueing_task()
    if task is None:
        deliver(action)
        return
    task.enqueue(_payload(action, instance))


# -- django.tasks ------------------------------------------------------------------------


def broadcast_task(payload: Payload) -> None:
    """What the worker runs: re-load, render, deliver (or drop if the instance is gone)."""
    action = _action(payload)
    if action is None:
        logger.debug("dropped a queued broadcast to %r: its instance is gone", payload["stream"])
        return
    deliver(action)


try:
    from django.tasks import task as _task
    from django.tasks.backends.immediate import ImmediateBackend
    from django.tasks.signals import task_finished, task_started
except ImportError:  # Django < 6.0
    queued_broadcast: Any = None
else:
    try:
        # A worker finds the task by the function's import path, so that name must
        # hold the Task itself.
        broadcast_task = _task(broadcast_task)  # type: ignore[assignment]
        queued_broadcast = broadcast_task
    except Exception:  # e.g. TASKS has no "default" backend: deliver at once instead
        logger.debug("no default task backend; _later broadcasts are delivered at once")
        queued_broadcast = None

    _open_batches: dict[str, Any] = {}

    def _task_started(*, task_result: Any, **kwargs: Any) -> None:
        _open_batches[task_result.id] = open_batch()

    def _task_finished(*, task_result: Any, **kwargs: Any) -> None:
        if task_result.id in _open_batches:
            close_batch(_open_batches.pop(task_result.id))

    # Refreshes scheduled by any task are sent once each when that task ends.
    task_started.connect(_task_started, dispatch_uid="turbo_cable.refresh_batch_start")
    task_finished.connect(_task_finished, dispatch_uid="turbo_cable.refresh_batch_end")


def _queueing_task() -> Any:
    if queued_broadcast is None:
        return None
    try:
        backend = queued_broadcast.get_backend()
    except Exception:
        return None
    return None if isinstance(backend, ImmediateBackend) else queued_broadcast


# -- payloads ----------------------------------------------------------------------------


def _model_ref(instance: Model) -> dict[str, Any]:
    return {_MODEL_REF: instance._meta.label_lower, "pk": str(instance.pk)}


def _load(ref: dict[str, Any], loaded: dict[tuple[str, str], Model | None]) -> Model | None:
    key = (ref[_MODEL_REF], ref["pk"])
    if key not in loaded:
        model = apps.get_model(ref[_MODEL_REF])
        loaded[key] = model._base_manager.filter(pk=ref["pk"]).first()
    return loaded[key]


def _payload(action: StreamAction, instance: Model | None) -> Payload:
    payload: Payload = {
        "stream": action.stream,
        "action": action.action,
        "target": action.target,
        "targets": action.targets,
        "attributes": dict(action.attributes),
        "rendering": None,
    }
    rendering = action.rendering
    if rendering is not None:
        context = {}
        for key, value in rendering.context.items():
            context[key] = _model_ref(value) if isinstance(value, Model) else value
        try:
            json.dumps(context)
        except (TypeError, ValueError) as exc:
            raise TypeError(
                f"A queued broadcast's context must hold JSON values or model instances: {exc}"
            ) from None
        payload["rendering"] = {
            "template": rendering.template,
            "context": context,
            "html": rendering.html,
            "html_safe": isinstance(rendering.html, SafeData),
            "render": rendering.render,
            "instance": _model_ref(instance) if instance is not None else None,
        }
    return payload


def _action(payload: Payload) -> StreamAction | None:
    rendering = None
    raw = payload["rendering"]
    if raw is not None:
        loaded: dict[tuple[str, str], Model | None] = {}
        if raw["instance"] is not None and _load(raw["instance"], loaded) is None:
            return None
        context = {}
        for key, value in raw["context"].items():
            if isinstance(value, dict) and _MODEL_REF in value:
                value = _load(value, loaded)
                if value is None:
                    return None
            context[key] = value
        html = mark_safe(raw["html"]) if raw["html_safe"] else raw["html"]
        rendering = Rendering(
            template=raw["template"],
            context=context,
            html=html,
            render=raw["render"],
        )
    return StreamAction(
        stream=payload["stream"],
        action=payload["action"],
        target=payload["target"],
        targets=payload["targets"],
        attributes=payload["attributes"],
        rendering=rendering,
    )
