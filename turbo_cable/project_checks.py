"""System checks for what makes pages silently static: no daphne, no client, no partial.

Each of these leaves a page that renders fine and never updates, so ``manage.py
check`` (which ``runserver`` runs at start-up) says what is missing and how to add it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.apps import apps
from django.conf import settings
from django.core.checks import CheckMessage, Error, Warning, register
from django.template import TemplateDoesNotExist
from django.template.loader import select_template

from turbo_cable.management import layout as layouts
from turbo_cable.management.layout_search import find_layout, searched_places
from turbo_cable.rendering import default_template

SHIPPED_CLIENT, CLIENT_PATH = layouts.SHIPPED_CLIENT, layouts.CLIENT_PATH
_STATICFILES = "django.contrib.staticfiles"


@register()
def check_runserver_serves_asgi(**kwargs: Any) -> list[CheckMessage]:
    """In development, ``runserver`` must be daphne's, or the cable is never served."""
    if not settings.DEBUG:
        return []
    installed = list(settings.INSTALLED_APPS)
    hint = (
        "Put \"daphne\" first in INSTALLED_APPS (pip install 'django-turbo-cable[daphne]'), "
        "or serve with uvicorn as README.rst shows."
    )
    if "daphne" not in installed:
        return [
            Warning(
                "daphne is not in INSTALLED_APPS, so runserver serves WSGI: pages render, "
                "but /cable and /_broadcast are not served and nothing updates live.",
                hint=hint,
                id="turbo_cable.W004",
            )
        ]
    if _STATICFILES in installed and installed.index(_STATICFILES) < installed.index("daphne"):
        return [
            Warning(
                "daphne comes after django.contrib.staticfiles in INSTALLED_APPS, so "
                "runserver is staticfiles' WSGI one and nothing updates live.",
                hint=hint,
                id="turbo_cable.W004",
            )
        ]
    return []


@register()
def check_layout_loads_the_client(**kwargs: Any) -> list[CheckMessage]:
    """The base layout that ``turbo_cable_install`` would edit must load the client."""
    layout = find_layout(searched_places(list(settings.TEMPLATES)))
    if layout is None:
        return []
    try:
        text = layout.read_text(encoding="utf-8")
        missing = [
            what
            for what, present in (
                (f"the {layouts.CLIENT} script", layouts.has_script(text)),
                ('data-controller="turbo-streams" on <body>', layouts.has_controller(text)),
            )
            if not present
        ]
    except (OSError, UnicodeDecodeError, layouts.LayoutError):
        return []  # not a layout we can read: turbo_cable_install names the problem
    if not missing:
        return []
    return [
        Warning(
            f"The base layout {layout} lacks {' and '.join(missing)}, so pages that "
            "extend it never connect to the cable.",
            hint="Run manage.py turbo_cable_install (or pass it --layout PATH).",
            id="turbo_cable.W005",
        )
    ]


@register()
def check_no_stale_client_copy(**kwargs: Any) -> list[CheckMessage]:
    """A project copy of the client hides the one shipped with the installed version."""
    if not apps.is_installed(_STATICFILES):
        return []
    from django.contrib.staticfiles import finders

    found = finders.find(CLIENT_PATH)
    if not isinstance(found, str) or Path(found).resolve() == SHIPPED_CLIENT:
        return []
    if Path(found).read_bytes() == SHIPPED_CLIENT.read_bytes():
        return []
    return [
        Warning(
            f"{found} is an out-of-date copy of the turbo_cable client, served instead "
            "of the one shipped with turbo_cable.",
            hint="Run manage.py turbo_cable_install --copy to update it, or delete it to "
            "serve the shipped client.",
            id="turbo_cable.W006",
        )
    ]


@register()
def check_declared_partials_exist(**kwargs: Any) -> list[CheckMessage]:
    """``broadcasts``/``broadcasts_to`` render a partial: it must exist before the first save."""
    messages: list[CheckMessage] = []
    for model in apps.get_models():
        for declaration in getattr(model, "_turbo_cable_declarations", ()):
            if declaration.kind not in ("broadcasts", "broadcasts_to"):
                continue
            rendering = declaration.rendering
            if "html" in rendering or rendering.get("render") is False:
                continue
            names = rendering.get("template") or rendering.get("partial")
            names = names or default_template(model)
            candidates = [names] if isinstance(names, str) else list(names)
            try:
                select_template(candidates)
            except TemplateDoesNotExist:
                messages.append(_missing_partial(model, declaration.kind, candidates))
    return messages


def _missing_partial(model: Any, kind: str, candidates: list[str]) -> Error:
    name = model._meta.model_name
    return Error(
        f"{model._meta.label}.{kind} renders {' or '.join(candidates)}, which no template "
        "folder has, so every broadcast of it fails.",
        hint=f"Create {model._meta.app_label}/templates/{candidates[0]} with one root element "
        f'whose id is the instance\'s DOM id, e.g. <div id="{name}_{{{{ {name}.pk }}}}">'
        f"...</div>, or give the declaration a template or html.",
        id="turbo_cable.E005",
    )
