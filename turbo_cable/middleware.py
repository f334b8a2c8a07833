"""``TurboCableMiddleware``: refreshes that know which request caused them.

For the duration of each request it records Turbo's ``X-Turbo-Request-Id``, so
that refreshes carry it as ``request-id`` and the browser that made the change
does not refresh a second time, and it collects refreshes so that each stream
gets one per request, sent when the response is ready (after the view's
transaction has committed).
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from typing import Any

from asgiref.sync import iscoroutinefunction, markcoroutinefunction
from django.http import HttpRequest, HttpResponseBase

from turbo_cable.refreshes import acollecting_refreshes, collecting_refreshes, request_id_scope

# Turbo sends a UUID; anything else is ignored rather than echoed to every subscriber.
_REQUEST_ID = re.compile(r"[A-Za-z0-9_.:-]{1,128}\Z")


def turbo_request_id(request: HttpRequest) -> str | None:
    value = request.headers.get("X-Turbo-Request-Id")
    return value if value and _REQUEST_ID.match(value) else None


class TurboCableMiddleware:
    """Add to ``MIDDLEWARE``; works under WSGI and ASGI, sync and async views."""

    sync_capable = True
    async_capable = True

    def __init__(self, get_response: Callable[[HttpRequest], Any]) -> None:
        self.get_response = get_response
        self.is_async = iscoroutinefunction(get_response)
        if self.is_async:
            markcoroutinefunction(self)

    def __call__(self, request: HttpRequest) -> Any:
        if self.is_async:
            return self.__acall__(request)
        with request_id_scope(turbo_request_id(request)), collecting_refreshes():
            return self.get_response(request)

    async def __acall__(self, request: HttpRequest) -> HttpResponseBase:
        get_response: Callable[[HttpRequest], Awaitable[HttpResponseBase]] = self.get_response
        with request_id_scope(turbo_request_id(request)):
            async with acollecting_refreshes():
                return await get_response(request)
