"""System checks: bad ``TURBO_CABLE`` values, an unusable Redis, an ASGI app without the
cable, and session-bound names that no session can match."""

from __future__ import annotations

from typing import Any

from django.apps import apps
from django.conf import settings
from django.core.checks import CheckMessage, Error, Warning, register
from django.utils.module_loading import import_string

from turbo_cable.conf import raw_settings, validate

_WRAPPER_ATTRIBUTES = ("application", "app", "inner", "wrapped")

# The checks a process that serves only the cable (``runcable``) runs: its settings and
# its backend, not the site's URLconf or ASGI entry point.
CABLE_TAG = "turbo_cable"


@register(CABLE_TAG)
def check_settings(**kwargs: Any) -> list[CheckMessage]:
    return [
        Error(problem, hint="See the settings table in README.rst.", id="turbo_cable.E001")
        for problem in validate(raw_settings())
    ]


@register(CABLE_TAG)
def check_redis_backend(**kwargs: Any) -> list[CheckMessage]:
    """A Redis ``BACKEND`` needs the redis extra and a URL that names a database."""
    raw = raw_settings()
    if validate(raw) or raw.get("BACKEND", "memory") == "memory":
        return []  # bad values are check_settings' to report
    try:
        from turbo_cable.backends.redis import redis_location, redis_url_problem
    except ImportError:
        return [
            Error(
                "TURBO_CABLE['BACKEND'] is a Redis URL but the redis package is not installed.",
                hint="pip install 'django-turbo-cable[redis]'",
                id="turbo_cable.E003",
            )
        ]
    messages: list[CheckMessage] = []
    problem = redis_url_problem(raw["BACKEND"])
    if problem:
        where = redis_location(raw["BACKEND"])
        messages.append(
            Error(
                f"TURBO_CABLE['BACKEND'] {where!r} is not a usable Redis URL: {problem}.",
                hint="e.g. redis://127.0.0.1:6379/0 or unix:///run/redis.sock?db=0",
                id="turbo_cable.E004",
            )
        )
    if raw.get("REDIS_PREFIX") == "":
        messages.append(
            Warning(
                "TURBO_CABLE['REDIS_PREFIX'] is empty, so the cable's channels mix with "
                "those of every other app on the same Redis.",
                hint="Keep the default 'turbo_cable:' or use one prefix per app.",
                id="turbo_cable.W003",
            )
        )
    return messages


def routes_turbo_cable(application: Any, depth: int = 0) -> bool:
    """Whether ``application`` is, or wraps, the cable router."""
    if getattr(application, "routes_turbo_cable", False) is True:
        return True
    if depth > 5:
        return False
    return any(
        routes_turbo_cable(inner, depth + 1)
        for name in _WRAPPER_ATTRIBUTES
        if (inner := getattr(application, name, None)) is not None and inner is not application
    )


@register()
def check_asgi_application(**kwargs: Any) -> list[CheckMessage]:
    path = getattr(settings, "ASGI_APPLICATION", None)
    hint = (
        "Serve turbo_cable.asgi.get_asgi_application() from your asgi.py and point "
        "ASGI_APPLICATION at it (e.g. 'mysite.asgi.application')."
    )
    if not path:
        return [
            Warning(
                "ASGI_APPLICATION is not set, so runserver cannot serve the cable.",
                hint=f"{hint} A WSGI site runs `manage.py runcable` beside its pages "
                "instead and may add 'turbo_cable.W001' to SILENCED_SYSTEM_CHECKS.",
                id="turbo_cable.W001",
            )
        ]
    try:
        application = import_string(path)
    except ImportError as exc:
        return [
            Error(f"ASGI_APPLICATION {path!r} cannot be imported: {exc}", id="turbo_cable.E002")
        ]
    if not routes_turbo_cable(application):
        return [
            Warning(
                f"ASGI_APPLICATION {path!r} does not route the cable or the broadcast endpoint.",
                hint=hint,
                id="turbo_cable.W002",
            )
        ]
    return []


_SIGNED_COOKIES = "django.contrib.sessions.backends.signed_cookies"
_REQUEST_PROCESSOR = "django.template.context_processors.request"


@register()
def check_session_bound_streams(**kwargs: Any) -> list[CheckMessage]:
    """``SESSION_BOUND_STREAMS`` needs a session key that lasts and the request in templates."""
    raw = raw_settings()
    if validate(raw) or raw.get("SESSION_BOUND_STREAMS") is not True:
        return []
    problems = []
    if not apps.is_installed("django.contrib.sessions"):
        problems.append(
            "django.contrib.sessions is not installed, so every page's names are bound to "
            "'no session' and a client with a session cookie is refused."
        )
    elif settings.SESSION_ENGINE == _SIGNED_COOKIES:
        problems.append(
            "the signed_cookies session engine changes the session key whenever the session "
            "changes, so a page's names stop working after any write to the session."
        )
    engines: list[dict[str, Any]] = settings.TEMPLATES
    if not any(
        _REQUEST_PROCESSOR in engine.get("OPTIONS", {}).get("context_processors", ())
        for engine in engines
    ):
        problems.append(
            f"no template engine has the {_REQUEST_PROCESSOR!r} context processor, so "
            "{% turbo_stream_from %} cannot see the session and binds names to 'no session'."
        )
    return [
        Warning(
            f"TURBO_CABLE['SESSION_BOUND_STREAMS'] is on but {problem}",
            hint="See 'Security model' in README.rst.",
            id="turbo_cable.W007",
        )
        for problem in problems
    ]


@register()
def check_identify_hook(**kwargs: Any) -> list[CheckMessage]:
    """``IDENTIFY`` must import now, not fail at the first visitor who asks for presence."""
    raw = raw_settings()
    path = raw.get("IDENTIFY") if not validate(raw) else None
    if not path:
        return []
    try:
        import_string(path)
    except ImportError as exc:
        return [
            Error(
                f"TURBO_CABLE['IDENTIFY'] {path!r} cannot be imported: {exc}",
                hint="Name an async callable that takes the handshake's ASGI scope.",
                id="turbo_cable.E006",
            )
        ]
    return []
