"""``GET HEALTH_PATH``: whether this process can serve the cable now.

For load balancers and Kubernetes probes: ``200 {"status": "ok"}`` when it can,
``503 {"status": "unavailable", "reason": ...}`` when it cannot (Redis is
unreachable, or the server is shutting down), so traffic goes elsewhere. It says
nothing more, so it may be reachable from anywhere.
"""

from __future__ import annotations

from typing import Any

from turbo_cable.asgi_types import Scope
from turbo_cable.backends import Backend
from turbo_cable.endpoint import respond_json


async def serve_health(scope: Scope, send: Any, backend: Backend) -> None:
    """The ASGI HTTP application behind ``HEALTH_PATH``."""
    if scope["method"] not in ("GET", "HEAD"):
        await respond_json(send, 405, {"error": "only GET is allowed"}, allow="GET, HEAD")
        return
    reason = backend.unready_reason()
    if reason is None:
        await respond_json(send, 200, {"status": "ok"}, cache_control="no-store")
    else:
        await respond_json(
            send, 503, {"status": "unavailable", "reason": reason}, cache_control="no-store"
        )
