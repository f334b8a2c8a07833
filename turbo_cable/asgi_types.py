"""The ASGI shapes the cable's doors share, named once."""

from __future__ import annotations

from typing import Any

Scope = dict[str, Any]
Event = dict[str, Any]

# A scope extension a server may offer (the cable's uvicorn protocol does): a
# callable that writes a ``websocket.send`` text event at once and returns True, or
# returns False when the socket cannot take it now (then ``send()`` is the way).
WRITE_NOW = "turbo_cable.write_now"
# Where a ``websocket.send`` event keeps its frame once framed by a server that writes
# it itself: server frames are not masked, so every socket gets the same bytes.
FRAME = "turbo_cable.frame"
