"""ASGI scopes for the cable's own server, with proxy headers from trusted peers.

Like uvicorn, the server believes ``X-Forwarded-For`` and ``X-Forwarded-Proto``
only from the addresses in ``FORWARDED_ALLOW_IPS`` (comma-separated, ``*`` for
any; default ``127.0.0.1``), so behind nginx on the same host the scope carries
the browser's address and scheme.
"""

from __future__ import annotations

import os
from typing import Any, Final

from turbo_cable.asgi_types import Scope
from turbo_cable.server.http11 import Request

ASGI: Final = {"version": "3.0", "spec_version": "2.3"}
Address = tuple[str, int]


class ProxyTrust:
    """Which peers' forwarding headers count."""

    __slots__ = ("_everyone", "_hosts")

    def __init__(self, allowed: str | None = None) -> None:
        if allowed is None:
            allowed = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")
        hosts = {host.strip() for host in allowed.split(",") if host.strip()}
        self._everyone = "*" in hosts
        self._hosts = frozenset(hosts)

    def trusts(self, host: str) -> bool:
        return self._everyone or host in self._hosts

    def client(self, request: Request, peer: Address | None) -> tuple[Address | None, str | None]:
        """The client address and scheme the request stands for: the peer's own,
        or what a trusted proxy says (the last address it did not add itself)."""
        if peer is None or not self.trusts(peer[0]):
            return peer, None
        scheme = request.header(b"x-forwarded-proto")
        forwarded = request.header(b"x-forwarded-for")
        client = peer
        if forwarded:
            hops = [hop.strip() for hop in forwarded.decode("latin-1").split(",")]
            untrusted = [hop for hop in hops if hop and not self.trusts(hop)]
            chosen = untrusted[-1] if untrusted else hops[0]
            client = (chosen, 0)
        return client, scheme.decode("latin-1").strip().lower() if scheme else None


def build_scope(
    kind: str,
    request: Request,
    client: Address | None,
    server: Address | None,
    scheme: str | None,
    state: dict[str, Any],
) -> Scope:
    """The ``http`` or ``websocket`` scope of ``request``."""
    secure = scheme in ("https", "wss")
    scope: Scope = {
        "type": kind,
        "asgi": ASGI,
        "http_version": request.http_version,
        "scheme": ("wss" if secure else "ws")
        if kind == "websocket"
        else ("https" if secure else "http"),
        "path": request.path,
        "raw_path": request.raw_path,
        "query_string": request.query_string,
        "root_path": "",
        "headers": request.headers,
        "client": client,
        "server": server,
    }
    if kind == "http":
        scope["method"] = request.method
    else:
        offered = request.header(b"sec-websocket-protocol")
        scope["subprotocols"] = (
            [name.strip() for name in offered.decode("latin-1").split(",")] if offered else []
        )
    if state:
        scope["state"] = state.copy()
    return scope
