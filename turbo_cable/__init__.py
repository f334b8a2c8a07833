"""Hotwire Turbo Streams over WebSockets for Django, without Channels.

Every public name is importable from here, and loaded on first use, so
``import turbo_cable`` (e.g. in settings) imports no models and no Django app
code; the modules stay importable for those who want them.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

if TYPE_CHECKING:  # what the names are, for type checkers; nothing is imported at run time
    from turbo_cable import broadcast as broadcast
    from turbo_cable import stream_actions as stream_actions
    from turbo_cable.asgi import get_asgi_application as get_asgi_application
    from turbo_cable.broadcast import abroadcast as abroadcast
    from turbo_cable.broadcast import abroadcast_json as abroadcast_json
    from turbo_cable.broadcast import broadcast_json as broadcast_json
    from turbo_cable.http import TURBO_STREAM_MIME_TYPE as TURBO_STREAM_MIME_TYPE
    from turbo_cable.http import TurboStreamResponse as TurboStreamResponse
    from turbo_cable.http import accepts_turbo_stream as accepts_turbo_stream
    from turbo_cable.http import render_turbo_stream as render_turbo_stream
    from turbo_cable.middleware import TurboCableMiddleware as TurboCableMiddleware
    from turbo_cable.models import Broadcastable as Broadcastable
    from turbo_cable.presence_board import Presence as Presence
    from turbo_cable.presence_board import presence as presence
    from turbo_cable.refreshes import acollecting_refreshes as acollecting_refreshes
    from turbo_cable.refreshes import collecting_refreshes as collecting_refreshes
    from turbo_cable.rendering import dom_id as dom_id
    from turbo_cable.streams import signed_stream_name as signed_stream_name
    from turbo_cable.streams import stream_name as stream_name
    from turbo_cable.streams_channel import broadcast_action_later_to as broadcast_action_later_to
    from turbo_cable.streams_channel import broadcast_action_to as broadcast_action_to
    from turbo_cable.streams_channel import broadcast_after_later_to as broadcast_after_later_to
    from turbo_cable.streams_channel import broadcast_after_to as broadcast_after_to
    from turbo_cable.streams_channel import broadcast_append_later_to as broadcast_append_later_to
    from turbo_cable.streams_channel import broadcast_append_to as broadcast_append_to
    from turbo_cable.streams_channel import broadcast_before_later_to as broadcast_before_later_to
    from turbo_cable.streams_channel import broadcast_before_to as broadcast_before_to
    from turbo_cable.streams_channel import broadcast_prepend_later_to as broadcast_prepend_later_to
    from turbo_cable.streams_channel import broadcast_prepend_to as broadcast_prepend_to
    from turbo_cable.streams_channel import broadcast_refresh_later_to as broadcast_refresh_later_to
    from turbo_cable.streams_channel import broadcast_refresh_to as broadcast_refresh_to
    from turbo_cable.streams_channel import broadcast_remove_later_to as broadcast_remove_later_to
    from turbo_cable.streams_channel import broadcast_remove_to as broadcast_remove_to
    from turbo_cable.streams_channel import broadcast_render_later_to as broadcast_render_later_to
    from turbo_cable.streams_channel import broadcast_render_to as broadcast_render_to
    from turbo_cable.streams_channel import broadcast_replace_later_to as broadcast_replace_later_to
    from turbo_cable.streams_channel import broadcast_replace_to as broadcast_replace_to
    from turbo_cable.streams_channel import broadcast_update_later_to as broadcast_update_later_to
    from turbo_cable.streams_channel import broadcast_update_to as broadcast_update_to
    from turbo_cable.suppression import suppressing_broadcasts as suppressing_broadcasts
    from turbo_cable.testing import assert_broadcasts as assert_broadcasts
    from turbo_cable.testing import assert_no_broadcasts as assert_no_broadcasts
    from turbo_cable.testing import capture_broadcasts as capture_broadcasts
    from turbo_cable.turbo_stream import refresh_tag as refresh_tag
    from turbo_cable.turbo_stream import turbo_stream_tag as turbo_stream_tag

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
