"""Where a project's base layout lives: the template DIRS, then its apps' templates/ folders.

Apps installed from site-packages (Django's admin, third-party apps) are left out:
their ``base.html`` is theirs, not the project's layout.
"""

from __future__ import annotations

import dataclasses
import sysconfig
from pathlib import Path
from typing import Any

from django.apps import apps

LAYOUT_NAMES = (
    "base.html",
    "_base.html",
    "layout.html",
    "layouts/base.html",
    "layouts/application.html",
)
_DJANGO_TEMPLATES = "django.template.backends.django.DjangoTemplates"


@dataclasses.dataclass
class SearchedPlaces:
    """The folders a layout was looked for in, for a message that names them."""

    dirs: list[Path]
    app_dirs: list[tuple[str, Path]]
    app_dirs_enabled: bool

    def folders(self) -> list[Path]:
        return [*self.dirs, *(folder for _, folder in self.app_dirs)]

    def describe(self) -> str:
        dirs = ", ".join(map(str, self.dirs)) if self.dirs else "none are configured"
        if not self.app_dirs_enabled:
            in_apps = "APP_DIRS is off"
        elif self.app_dirs:
            in_apps = ", ".join(f"{label} ({folder})" for label, folder in self.app_dirs)
        else:
            in_apps = "none of your apps has one"
        return f"the template DIRS ({dirs}) or the templates/ folder of an app ({in_apps})"


def _installed_elsewhere(folder: Path) -> bool:
    """Whether ``folder`` belongs to an installed package rather than to the project."""
    roots = {Path(sysconfig.get_paths()[key]).resolve() for key in ("purelib", "platlib")}
    resolved = folder.resolve()
    return any(resolved.is_relative_to(root) for root in roots)


def searched_places(templates: list[dict[str, Any]]) -> SearchedPlaces:
    """The project's template folders, from a ``TEMPLATES`` setting."""
    places = SearchedPlaces([], [], False)
    for engine in templates:
        if engine.get("BACKEND") != _DJANGO_TEMPLATES:
            continue
        places.dirs.extend(Path(directory) for directory in engine.get("DIRS", []))
        if engine.get("APP_DIRS"):
            places.app_dirs_enabled = True
            for config in apps.get_app_configs():
                folder = Path(config.path) / "templates"
                if folder.is_dir() and not _installed_elsewhere(folder):
                    places.app_dirs.append((config.label, folder))
    return places


def find_layout(places: SearchedPlaces) -> Path | None:
    """The first of :data:`LAYOUT_NAMES` in the first folder that has one."""
    for folder in places.folders():
        for name in LAYOUT_NAMES:
            candidate = folder / name
            if candidate.is_file():
                return candidate
    return None
