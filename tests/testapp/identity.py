"""An ``IDENTIFY`` hook as a native client might need: the name in the query string."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs

from turbo_cable.identity import Identity


async def from_query_string(scope: dict[str, Any]) -> Identity | str | None:
    query = parse_qs(scope.get("query_string", b"").decode())
    if "fail" in query:
        raise RuntimeError("the hook broke")
    name = query.get("name", [""])[0]
    return Identity(f"device:{name}", name.title()) if name else None
