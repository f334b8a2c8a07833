"""System checks: bad ``TURBO_CABLE`` values, and an ASGI application without the cable."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.checks import CheckMessage, Error, Warning, register
from django.utils.module_loading import import_string

from turbo_cable.conf import raw_settings, validate

_WRAPPER_ATTRIBUTES = ("application", "app", "inner", "wrapped")


@register()
def check_settings(**kwargs: Any) -> list[CheckMessage]:
    return [
        Error(problem, hint="See the settings table in README.rst.", id="turbo_cable.E001")
        for problem in validate(raw_settings())
    ]


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
                hint=hint,
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
