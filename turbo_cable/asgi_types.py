"""The ASGI shapes the cable's doors share, named once."""

from __future__ import annotations

from typing import Any

Scope = dict[str, Any]
Event = dict[str, Any]
