"""Answering a request with Turbo Streams: the response class and the ``Accept`` check.

turbo-rails' ``format.turbo_stream``: a form submitted by Turbo says it accepts
``text/vnd.turbo-stream.html``; the view answers with ``<turbo-stream>`` elements
and keeps its redirect for every other client::

    if accepts_turbo_stream(request):
        return TurboStreamResponse(turbo_stream.append("messages", ...))
    return redirect("chat:room", room.pk)
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.template.loader import render_to_string

__all__ = [
    "TURBO_STREAM_MIME_TYPE",
    "TurboStreamResponse",
    "accepts_turbo_stream",
    "render_turbo_stream",
]

TURBO_STREAM_MIME_TYPE = "text/vnd.turbo-stream.html"


class TurboStreamResponse(HttpResponse):
    """``<turbo-stream>`` elements, as one string or an iterable of them, joined in order."""

    def __init__(self, content: str | Iterable[str] = "", *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("content_type", f"{TURBO_STREAM_MIME_TYPE}; charset=utf-8")
        if not isinstance(content, str | bytes):
            content = "".join(content)
        super().__init__(content, *args, **kwargs)


def accepts_turbo_stream(request: HttpRequest) -> bool:
    """Whether the request says it takes Turbo Streams (Turbo adds this to form submissions)."""
    accept = request.headers.get("Accept", "")
    return any(part.split(";")[0].strip() == TURBO_STREAM_MIME_TYPE for part in accept.split(","))


def render_turbo_stream(
    request: HttpRequest,
    template_name: str | list[str],
    context: Mapping[str, Any] | None = None,
    status: int | None = None,
) -> TurboStreamResponse:
    """``render()`` for ``*.turbo_stream.html`` templates (built with ``{% turbo_stream %}``)."""
    html = render_to_string(template_name, dict(context or {}), request=request)
    return TurboStreamResponse(html, status=status)
