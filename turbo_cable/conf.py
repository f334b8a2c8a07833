"""Every ``TURBO_CABLE`` setting, its default and its validation, in one place.

Nothing else in the app reads ``django.conf.settings`` or the environment for
cable settings: modules ask :func:`get_settings` instead.
"""

from __future__ import annotations

import dataclasses
import functools
import importlib.util
import os
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings as django_settings
from django.core.exceptions import ImproperlyConfigured
from django.core.signals import setting_changed
from django.dispatch import receiver

MiB = 1024 * 1024


@dataclasses.dataclass(frozen=True)
class CableSettings:
    """The validated ``TURBO_CABLE`` settings; every field has the documented default."""

    CABLE_PATH: str = "/cable"
    BROADCAST_PATH: str = "/_broadcast"
    HEALTH_PATH: str = "/_health"
    METRICS_PATH: str | None = "/_metrics"
    BROADCAST_URL: str | None = None
    BROADCAST_TOKEN: str | None = None
    BROADCAST_TIMEOUT: float = 2.0
    CABLE_URL: str | None = None
    SIGNED_STREAMS: bool = True
    SIGNED_STREAM_MAX_AGE: float | None = None
    SESSION_BOUND_STREAMS: bool = False
    ALLOWED_ORIGINS: tuple[str, ...] | None = None
    PING_INTERVAL: float = 30.0
    IDLE_TIMEOUT: float = 90.0
    MAX_FRAME_SIZE: int = MiB
    MAX_SUBSCRIPTIONS: int = 100
    MAX_STREAM_NAME_LENGTH: int = 1024
    MAX_BROADCAST_SIZE: int = MiB
    SEND_QUEUE_SIZE: int = 256
    SEND_QUEUE_BYTES: int = 4 * MiB
    MAX_CONNECTIONS: int | None = None
    MAX_CONNECTIONS_PER_CLIENT: int | None = None
    BACKEND: str = "memory"
    REDIS_PREFIX: str = "turbo_cable:"
    HISTORY_SIZE: int = 100
    HISTORY_TTL: float = 300.0
    EXIT_SIGNAL_HANDLERS: bool = False
    IDENTIFY: str | None = None
    PRESENCE_INTERVAL: float = 1.0
    PRESENCE_TTL: float = 15.0
    PRESENCE_TEMPLATE: str = "turbo_cable/presence.html"

    @property
    def broadcast_url(self) -> str:
        """Where :mod:`turbo_cable.broadcast` POSTs: env var, then setting, then derived."""
        from_env = os.environ.get("TURBO_CABLE_BROADCAST_URL")
        if from_env:
            return from_env
        if self.BROADCAST_URL:
            return self.BROADCAST_URL
        port = os.environ.get("TURBO_CABLE_PORT") or os.environ.get("PORT") or "8000"
        return f"http://127.0.0.1:{port}{self.BROADCAST_PATH}"

    @property
    def connection_limit(self) -> int | None:
        """``MAX_CONNECTIONS``, or by default what the process's file descriptors allow
        with a tenth (at least 64) kept for page requests, Redis and the database."""
        if self.MAX_CONNECTIONS is not None:
            return self.MAX_CONNECTIONS
        try:
            import resource  # not on Windows, where no limit is derived
        except ImportError:
            return None
        soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
        if soft == resource.RLIM_INFINITY:
            return None
        return max(1, soft - max(64, soft // 10))

    @property
    def broadcast_url_is_explicit(self) -> bool:
        """True when the env var or the setting names the URL, rather than it being derived."""
        return bool(os.environ.get("TURBO_CABLE_BROADCAST_URL") or self.BROADCAST_URL)


def _is_path(value: Any) -> bool:
    return isinstance(value, str) and value.startswith("/") and " " not in value


def _is_http_url(value: Any) -> bool:
    if value is None:
        return True
    if not isinstance(value, str):
        return False
    parts = urlsplit(value)
    return parts.scheme in ("http", "https") and bool(parts.netloc)


def _is_cable_url(value: Any) -> bool:
    if value is None or _is_path(value):
        return True
    if not isinstance(value, str):
        return False
    parts = urlsplit(value)
    return parts.scheme in ("ws", "wss") and bool(parts.netloc)


def _is_backend(value: Any) -> bool:
    if not isinstance(value, str):
        return False
    return value == "memory" or urlsplit(value).scheme in ("redis", "rediss", "unix")


def _positive_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and value > 0


def _positive_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value > 0


def _optional_positive_int(value: Any) -> bool:
    return value is None or _positive_int(value)


def _optional_str(value: Any) -> bool:
    return value is None or (isinstance(value, str) and value != "")


def _origins(value: Any) -> bool:
    return value is None or (
        isinstance(value, list | tuple) and all(isinstance(v, str) and v for v in value)
    )


# key -> (is it valid?, what it must be)
_RULES: dict[str, tuple[Callable[[Any], bool], str]] = {
    "CABLE_PATH": (_is_path, "a URL path starting with '/'"),
    "BROADCAST_PATH": (_is_path, "a URL path starting with '/'"),
    "HEALTH_PATH": (_is_path, "a URL path starting with '/'"),
    "METRICS_PATH": (lambda v: v is None or _is_path(v), "None or a URL path starting with '/'"),
    "BROADCAST_URL": (_is_http_url, "None or an http(s):// URL"),
    "BROADCAST_TOKEN": (_optional_str, "None or a non-empty string"),
    "BROADCAST_TIMEOUT": (_positive_number, "a number of seconds > 0"),
    "CABLE_URL": (_is_cable_url, "None, a path starting with '/', or a ws(s):// URL"),
    "SIGNED_STREAMS": (lambda v: isinstance(v, bool), "True or False"),
    "SIGNED_STREAM_MAX_AGE": (
        lambda v: v is None or _positive_number(v),
        "None or a number of seconds > 0",
    ),
    "SESSION_BOUND_STREAMS": (lambda v: isinstance(v, bool), "True or False"),
    "ALLOWED_ORIGINS": (_origins, "None or a list of origins / host patterns"),
    "PING_INTERVAL": (_positive_number, "a number of seconds > 0"),
    "IDLE_TIMEOUT": (_positive_number, "a number of seconds > 0"),
    "MAX_FRAME_SIZE": (_positive_int, "a positive integer (bytes)"),
    "MAX_SUBSCRIPTIONS": (_positive_int, "a positive integer"),
    "MAX_STREAM_NAME_LENGTH": (_positive_int, "a positive integer (characters)"),
    "MAX_BROADCAST_SIZE": (_positive_int, "a positive integer (bytes)"),
    "SEND_QUEUE_SIZE": (_positive_int, "a positive integer (messages)"),
    "SEND_QUEUE_BYTES": (_positive_int, "a positive integer (bytes)"),
    "MAX_CONNECTIONS": (_optional_positive_int, "None or a positive integer"),
    "MAX_CONNECTIONS_PER_CLIENT": (_optional_positive_int, "None or a positive integer"),
    "BACKEND": (_is_backend, "'memory' or a redis://, rediss:// or unix:// URL"),
    "REDIS_PREFIX": (lambda v: isinstance(v, str), "a string"),
    "HISTORY_SIZE": (
        lambda v: isinstance(v, int) and not isinstance(v, bool) and v >= 0,
        "an integer >= 0 (0 turns history off)",
    ),
    "HISTORY_TTL": (_positive_number, "a number of seconds > 0"),
    "EXIT_SIGNAL_HANDLERS": (lambda v: isinstance(v, bool), "True or False"),
    "IDENTIFY": (
        lambda v: v is None or (isinstance(v, str) and "." in v.strip(".")),
        "None or the dotted path of an async callable",
    ),
    "PRESENCE_INTERVAL": (_positive_number, "a number of seconds > 0"),
    "PRESENCE_TTL": (
        lambda v: _positive_number(v) and v >= 1,
        "a number of seconds >= 1",
    ),
    "PRESENCE_TEMPLATE": (lambda v: isinstance(v, str) and v != "", "a template name"),
}

DEFAULTS: Mapping[str, Any] = {
    field.name: field.default for field in dataclasses.fields(CableSettings)
}


def validate(raw: Any) -> list[str]:
    """Describe every problem in a raw ``TURBO_CABLE`` value, naming the key."""
    if not isinstance(raw, Mapping):
        return ["TURBO_CABLE must be a dict."]
    problems = [f"TURBO_CABLE[{key!r}] is not a known setting." for key in raw if key not in _RULES]
    for key, (is_valid, expected) in _RULES.items():
        if key in raw and not is_valid(raw[key]):
            problems.append(f"TURBO_CABLE[{key!r}] must be {expected}; got {raw[key]!r}.")
    merged = {**DEFAULTS, **raw}
    if (
        _positive_number(merged["PING_INTERVAL"])
        and _positive_number(merged["IDLE_TIMEOUT"])
        and merged["IDLE_TIMEOUT"] <= merged["PING_INTERVAL"]
    ):
        problems.append(
            "TURBO_CABLE['IDLE_TIMEOUT'] must be greater than TURBO_CABLE['PING_INTERVAL'], "
            "or every client is closed before it can answer a ping."
        )
    wanted = {
        "SIGNED_STREAM_MAX_AGE": merged["SIGNED_STREAM_MAX_AGE"] is not None,
        "SESSION_BOUND_STREAMS": merged["SESSION_BOUND_STREAMS"] is True,
    }
    for key, on in wanted.items():
        if on and merged["SIGNED_STREAMS"] is False:
            problems.append(
                f"TURBO_CABLE[{key!r}] needs TURBO_CABLE['SIGNED_STREAMS']: "
                "unsigned names cannot expire or be bound to a session."
            )
    paths = [merged[key] for key in ("CABLE_PATH", "BROADCAST_PATH", "HEALTH_PATH")]
    paths += [merged["METRICS_PATH"]] if merged["METRICS_PATH"] is not None else []
    if len(set(paths)) < len(paths):
        problems.append(
            "TURBO_CABLE['CABLE_PATH'], ['BROADCAST_PATH'], ['HEALTH_PATH'] and "
            "['METRICS_PATH'] must differ."
        )
    return problems


def metrics_enabled(settings: CableSettings) -> bool:
    """Whether the cable counts for ``METRICS_PATH``: it is set and ``prometheus-client``
    (the ``metrics`` extra) is installed; otherwise counting costs nothing at all."""
    return settings.METRICS_PATH is not None and prometheus_installed()


@functools.cache
def prometheus_installed() -> bool:
    """Found, not imported: the cable process imports it only when first scraped."""
    return importlib.util.find_spec("prometheus_client") is not None


def raw_settings() -> Any:
    return getattr(django_settings, "TURBO_CABLE", {})


def debug() -> bool:
    """Django's DEBUG: development-only messages (a partial without its id, ...) follow it."""
    return bool(django_settings.DEBUG)


@functools.cache
def get_settings() -> CableSettings:
    """The validated settings; raises ImproperlyConfigured naming every bad key."""
    raw = raw_settings()
    problems = validate(raw)
    if problems:
        raise ImproperlyConfigured(" ".join(problems))
    values = dict(raw)
    if values.get("ALLOWED_ORIGINS") is not None:
        values["ALLOWED_ORIGINS"] = tuple(values["ALLOWED_ORIGINS"])
    return CableSettings(**values)


def session_cookie_name() -> str:
    """Django's ``SESSION_COOKIE_NAME``: where the cable finds a client's session key."""
    return str(django_settings.SESSION_COOKIE_NAME)


def replace_settings(**values: Any) -> CableSettings:
    """Replace some ``TURBO_CABLE`` keys for the rest of this process, validated.

    For command-line options (``runcable --backend``) that win over the settings file.
    """
    raw = {**raw_settings(), **values}
    problems = validate(raw)
    if problems:
        raise ImproperlyConfigured(" ".join(problems))
    django_settings.TURBO_CABLE = raw
    get_settings.cache_clear()
    get_origin_policy.cache_clear()
    return get_settings()


@dataclasses.dataclass(frozen=True)
class OriginPolicy:
    """Which origins may open the cable and which hosts the site serves.

    See :mod:`turbo_cable.origins`. ``host_patterns`` and ``trusted_origins`` come
    from ``ALLOWED_ORIGINS`` when it is set; otherwise the site's own origin
    (``same_origin``) and ``CSRF_TRUSTED_ORIGINS`` are allowed, as in Django's
    CSRF check. ``allowed_hosts`` is always Django's ``ALLOWED_HOSTS``.
    """

    host_patterns: tuple[str, ...]
    trusted_origins: tuple[str, ...]
    allowed_hosts: tuple[str, ...] = ()
    same_origin: bool = False
    secure_proxy_ssl_header: tuple[str, str] | None = None
    use_x_forwarded_host: bool = False


@functools.cache
def get_origin_policy() -> OriginPolicy:
    """``ALLOWED_ORIGINS`` if set, else the site's own origin and CSRF_TRUSTED_ORIGINS."""
    hosts = list(django_settings.ALLOWED_HOSTS)
    if django_settings.DEBUG and not hosts:  # what Django's HttpRequest.get_host() allows
        hosts = [".localhost", "127.0.0.1", "[::1]"]
    proxy_ssl_header = getattr(django_settings, "SECURE_PROXY_SSL_HEADER", None)
    derived = OriginPolicy(
        host_patterns=(),
        trusted_origins=tuple(getattr(django_settings, "CSRF_TRUSTED_ORIGINS", ())),
        allowed_hosts=tuple(hosts),
        same_origin=True,
        secure_proxy_ssl_header=tuple(proxy_ssl_header) if proxy_ssl_header else None,
        use_x_forwarded_host=bool(getattr(django_settings, "USE_X_FORWARDED_HOST", False)),
    )
    configured = get_settings().ALLOWED_ORIGINS
    if configured is None:
        return derived
    return dataclasses.replace(
        derived,
        host_patterns=tuple(o for o in configured if "://" not in o),
        trusted_origins=tuple(o for o in configured if "://" in o),
        same_origin=False,
    )


_ORIGIN_SETTINGS = (
    "DEBUG",
    "ALLOWED_HOSTS",
    "CSRF_TRUSTED_ORIGINS",
    "SECURE_PROXY_SSL_HEADER",
    "USE_X_FORWARDED_HOST",
)


@receiver(setting_changed)
def _forget_settings(*, setting: str, **kwargs: Any) -> None:
    if setting == "TURBO_CABLE" or setting in _ORIGIN_SETTINGS:
        get_settings.cache_clear()
        get_origin_policy.cache_clear()
