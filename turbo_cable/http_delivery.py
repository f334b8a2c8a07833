"""Broadcasting over HTTP: a ``POST`` to the cable's ``BROADCAST_PATH`` from any process.

One kept-alive connection per thread and URL, reconnecting once when the server
closed it while idle; and the words for every way it can fail, with the URL tried
and the setting that changes it, since that is what a user has to act on.
"""

from __future__ import annotations

import http.client
import json
import logging
import threading
from urllib.parse import urlsplit

from turbo_cable.conf import CableSettings

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


def post_broadcast(body: bytes, settings: CableSettings) -> None:
    """POST one broadcast; raises on any failure."""
    url = urlsplit(settings.broadcast_url)
    default_port = 443 if url.scheme == "https" else 80
    host, port = url.hostname or "127.0.0.1", url.port or default_port
    key = (url.scheme, host, port, float(settings.BROADCAST_TIMEOUT))
    path = (url.path or "/") + (f"?{url.query}" if url.query else "")
    headers = {"Content-Type": "application/json"}
    if settings.BROADCAST_TOKEN:
        headers["Authorization"] = f"Bearer {settings.BROADCAST_TOKEN}"
    for attempt in range(2):
        connection = _connection(key)
        reused = connection.sock is not None
        try:
            connection.request("POST", path, body=body, headers=headers)
            response = connection.getresponse()
            payload = response.read()
        except ConnectionError:
            connection.close()
            if reused and attempt == 0:  # the server closed an idle kept-alive connection
                logger.debug("kept-alive connection to %s:%s was closed; reconnecting", host, port)
                continue
            raise
        except BaseException:
            connection.close()
            raise
        if response.status != 200:
            raise DeliveryRefused(
                f"HTTP {response.status}: {_error_reason(payload)}", response.status
            )
        return


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
