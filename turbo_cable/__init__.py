"""Hotwire Turbo Streams over WebSockets for Django, without Channels.

Every public name is importable from here, and loaded on first use, so
``import turbo_cable`` (e.g. in settings) imports no models and no Django app
code; the modules stay importable for those who want them.
"""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"

_EXPORTS: dict[str, tuple[str, ...]] = {
    "turbo_cable.asgi": ("get_asgi_application",),
    "turbo_cable.broadcast": ("abroadcast", "abroadcast_json", "broadcast_json"),
    "turbo_cable.http": (
        "TURBO_STREAM_MIME_TYPE",
        "TurboStreamResponse",
        "accepts_turbo_stream",
        "render_turbo_stream",
    ),
    "turbo_cable.middleware": ("TurboCableMiddleware",),
    "turbo_cable.models": ("Broadcastable",),
    "turbo_cable.presence_board": ("Presence", "presence"),
    "turbo_cable.refreshes": ("collecting_refreshes", "acollecting_refreshes"),
    "turbo_cable.rendering": ("dom_id",),
    "turbo_cable.streams": ("signed_stream_name", "stream_name"),
    "turbo_cable.streams_channel": (
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
    ),
    "turbo_cable.suppression": ("suppressing_broadcasts",),
    "turbo_cable.testing": ("assert_broadcasts", "assert_no_broadcasts", "capture_broadcasts"),
    "turbo_cable.turbo_stream": ("refresh_tag", "turbo_stream_tag"),
}
_MODULE_OF = {name: module for module, names in _EXPORTS.items() for name in names}
# Submodules in their own right: ``stream_actions`` (``import ... as turbo_stream``) and
# ``broadcast``, a module that can be called as ``broadcast(stream, html)``.
_SUBMODULES = ("broadcast", "stream_actions")

__all__ = ["__version__", *sorted(_MODULE_OF), *_SUBMODULES]


def __getattr__(name: str) -> Any:
    if name in _SUBMODULES:
        return importlib.import_module(f"turbo_cable.{name}")
    module = _MODULE_OF.get(name)
    if module is None:
        raise AttributeError(f"module 'turbo_cable' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value  # later look-ups skip this function
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
