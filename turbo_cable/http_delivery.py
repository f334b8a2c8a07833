"""Talking to a cable in another process over HTTP, at its ``BROADCAST_PATH``:
a ``POST`` broadcasts, a ``GET`` reads where a stream stands (for a page to render).

One kept-alive connection per thread and URL, reconnecting once when the server
closed it while idle; and the words for every way it can fail, with the URL tried
and the setting that changes it, since that is what a user has to act on.
"""

from __future__ import annotations

import http.client
import json
import logging
import threading
import time
from urllib.parse import urlencode, urlsplit

from turbo_cable.conf import CableSettings
from turbo_cable.history import Position, PositionPause, parse_position

logger = logging.getLogger("turbo_cable")


class DeliveryRefused(Exception):
    """The cable answered, but did not take the broadcast."""

    def __init__(self, reason: str, status: int | None = None) -> None:
        super().__init__(reason)
        self.status = status


def close_connections() -> None:
    """Close this thread's kept-alive connections (e.g. before forking)."""
    for connection in getattr(_local, "connections", {}).values():
        connection.close()
    _local.connections = {}


_local = threading.local()
_ConnectionKey = tuple[str, str, int, float]


def _connection(key: _ConnectionKey) -> http.client.HTTPConnection:
    connections: dict[_ConnectionKey, http.client.HTTPConnection] = (
        getattr(_local, "connections", None) or {}
    )
    _local.connections = connections
    connection = connections.get(key)
    if connection is None:
        scheme, host, port, timeout = key
        factory = http.client.HTTPSConnection if scheme == "https" else http.client.HTTPConnection
        connection = connections[key] = factory(host, port, timeout=timeout)
    return connection


def _request(
    method: str, settings: CableSettings, *, body: bytes | None = None, query: str = ""
) -> tuple[int, bytes]:
    """One request to the broadcast URL over this thread's kept-alive connection;
    its status and body. Raises on any failure to get an answer."""
    url = urlsplit(settings.broadcast_url)
    default_port = 443 if url.scheme == "https" else 80
    host, port = url.hostname or "127.0.0.1", url.port or default_port
    key = (url.scheme, host, port, float(settings.BROADCAST_TIMEOUT))
    query = "&".join(part for part in (url.query, query) if part)
    path = (url.path or "/") + (f"?{query}" if query else "")
    headers = {"Content-Type": "application/json"} if body is not None else {}
    if settings.BROADCAST_TOKEN:
        headers["Authorization"] = f"Bearer {settings.BROADCAST_TOKEN}"
    for attempt in range(2):
        connection = _connection(key)
        reused = connection.sock is not None
        try:
            connection.request(method, path, body=body, headers=headers)
            response = connection.getresponse()
            return response.status, response.read()
        except ConnectionError:
            connection.close()
            if reused and attempt == 0:  # the server closed an idle kept-alive connection
                logger.debug("kept-alive connection to %s:%s was closed; reconnecting", host, port)
                continue
            raise
        except BaseException:
            connection.close()
            raise
    raise AssertionError("unreachable")  # pragma: no cover


def post_broadcast(body: bytes, settings: CableSettings) -> None:
    """POST one broadcast; raises on any failure."""
    status, payload = _request("POST", settings, body=body)
    if status != 200:
        raise DeliveryRefused(f"HTTP {status}: {_error_reason(payload)}", status)


_position_pauses: dict[str, PositionPause] = {}  # per broadcast URL, which settings name


def position_over_http(
    stream: str, settings: CableSettings, since: float | None = None
) -> Position | None:
    """Where ``stream`` stood at ``since`` (this process's ``time.monotonic()``; None:
    now) in the cable at the broadcast URL, for a page rendered in a process without
    the cable (only the time since then crosses, so the clocks need not agree); None
    when it cannot say (and, for a while after a failure, without asking, so a cable
    that is down costs pages nothing)."""
    pause = _position_pauses.get(settings.broadcast_url)
    if pause is None:  # once per URL: a page renders this for every marker
        pause = _position_pauses[settings.broadcast_url] = PositionPause()
    if pause.active():
        return None
    try:
        query = {"stream": stream}
        if since is not None:
            query["age"] = f"{max(0.0, time.monotonic() - since):.6f}"
        status, payload = _request("GET", settings, query=urlencode(query))
        if status != 200:
            raise DeliveryRefused(f"HTTP {status}: {_error_reason(payload)}", status)
        answer = json.loads(payload)
    except (OSError, http.client.HTTPException, DeliveryRefused, ValueError) as exc:
        waited = isinstance(exc, TimeoutError)  # a refusal or an error answer costs no wait
        pause.start(stream, f"the cable at {settings.broadcast_url}", exc, waited=waited)
        return None
    return parse_position(answer.get("position")) if isinstance(answer, dict) else None


def _error_reason(payload: bytes) -> str:
    try:
        return str(json.loads(payload)["error"])
    except (ValueError, KeyError, TypeError):
        return payload[:200].decode("utf-8", "replace") or "no reason given"


_URL_SETTING = "TURBO_CABLE_BROADCAST_URL (or TURBO_CABLE['BROADCAST_URL'])"


def explain_failure(exc: BaseException, url: str | None, settings: CableSettings) -> str:
    """Why a delivery failed, in words, with the URL tried and the setting that changes it."""
    if url is None:  # delivered in process or through Redis: no URL to blame
        if isinstance(exc, DeliveryRefused | TimeoutError):
            return str(exc) or "timed out"
        return f"{type(exc).__name__}: {exc}"
    path = settings.BROADCAST_PATH
    if isinstance(exc, ConnectionRefusedError):
        return (
            f"nothing listens at {url} (connection refused). Start the server that serves "
            f"the cable there, or set {_URL_SETTING} to its {path}, "
            f"e.g. http://127.0.0.1:8001{path} for runserver on port 8001."
        )
    if isinstance(exc, TimeoutError):
        return (
            f"{url} did not answer within {settings.BROADCAST_TIMEOUT:g} s "
            "(TURBO_CABLE['BROADCAST_TIMEOUT']): is that server overloaded or stopped?"
        )
    if isinstance(exc, DeliveryRefused) and exc.status == 404:
        return (
            f"{url} answered 404: that server does not route {path}: is daphne in "
            "INSTALLED_APPS and ASGI_APPLICATION set to an application made by "
            "turbo_cable.asgi.get_asgi_application()? If another server listens there, "
            f"set {_URL_SETTING} to the cable's {path}."
        )
    if isinstance(exc, DeliveryRefused) and exc.status == 403:
        return (
            f"{url} answered 403: the cable takes broadcasts from loopback only, unless "
            "TURBO_CABLE['BROADCAST_TOKEN'] is set to the same value here and on the server."
        )
    if isinstance(exc, DeliveryRefused):
        return f"{exc} (from {url})"
    return f"{type(exc).__name__}: {exc} (sending to {url}; {_URL_SETTING} changes it)"
