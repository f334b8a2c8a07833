"""``manage.py turbo_cable_install``: load the JS client from the project's base layout.

It adds ``data-controller="turbo-streams"`` to the base layout's ``<body>`` and the
``<script>`` that loads the client from turbo_cable's own static files, so an
upgrade of the app upgrades the client with nothing to copy. ``--copy`` puts a
copy into the project's static files instead (for bundlers and import maps).
A second run changes nothing; ``--check`` changes nothing either and exits 1
when something is missing.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

from django.conf import settings
from django.contrib.staticfiles import finders
from django.core.management.base import BaseCommand, CommandError, CommandParser

from turbo_cable.management import layout as layouts
from turbo_cable.management.layout_search import LAYOUT_NAMES, find_layout, searched_places

SHIPPED_CLIENT, CLIENT_PATH = layouts.SHIPPED_CLIENT, layouts.CLIENT_PATH


@dataclasses.dataclass
class Plan:
    """What an install would change; empty when everything is in place."""

    client: Path | None  # a project copy to write, None when the app's own file is served
    layout: Path
    layout_text: str
    new_layout_text: str
    # (what is missing, what the install did about it)
    changes: list[tuple[str, str]] = dataclasses.field(default_factory=list)

    def source(self) -> str:
        return f"the copy at {self.client}" if self.client else "turbo_cable's static files"


class Command(BaseCommand):
    help = (
        "Load the turbo_cable JS client (from turbo_cable's static files) in your base "
        'layout, with data-controller="turbo-streams" on its <body>.'
    )
    # Installing is part of setting a project up: an unrelated check must not block it.
    requires_system_checks: list[str] = []

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--copy",
            action="store_true",
            help="Copy the client into the project's static files (first STATICFILES_DIRS "
            "entry) and load that copy; for bundlers and import maps. Rerun after upgrades.",
        )
        parser.add_argument(
            "--static-dir",
            type=Path,
            help="With --copy: the static directory to copy the client into.",
        )
        parser.add_argument(
            "--layout",
            type=Path,
            help=f"Base layout to edit (default: the first of {', '.join(LAYOUT_NAMES)} "
            "in the template DIRS, then in your apps' templates/ folders).",
        )
        parser.add_argument(
            "--check",
            action="store_true",
            help="Change nothing; exit with status 1 when something is missing.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        copy = options["copy"] or options["static_dir"] is not None
        client, static_path = self._client_destination(copy, options["static_dir"])
        layout = options["layout"] or self._find_layout(static_path)
        plan = self._plan(client, static_path, layout)
        if options["check"]:
            self._check(plan)
            return
        if not plan.changes:
            self.stdout.write(
                f"Nothing to change: {plan.layout} loads the client from {plan.source()}."
            )
            return
        if plan.client is not None and not _same_file(plan.client, SHIPPED_CLIENT):
            plan.client.parent.mkdir(parents=True, exist_ok=True)
            plan.client.write_bytes(SHIPPED_CLIENT.read_bytes())
        if plan.new_layout_text != plan.layout_text:
            with plan.layout.open("w", encoding="utf-8", newline="") as file:
                file.write(plan.new_layout_text)
        for _, done in plan.changes:
            self.stdout.write(self.style.SUCCESS(done))

    def _check(self, plan: Plan) -> None:
        if not plan.changes:
            self.stdout.write(
                f"turbo_cable is installed: {plan.layout} loads the client from {plan.source()}."
            )
            return
        self.stderr.write("turbo_cable is not fully installed:")
        for missing, _ in plan.changes:
            self.stderr.write(f"  - {missing}")
        raise CommandError("Run manage.py turbo_cable_install to fix it.", returncode=1)

    def _plan(self, client: Path | None, static_path: str, layout: Path) -> Plan:
        try:
            with layout.open(encoding="utf-8", newline="") as file:
                text = file.read()
        except (OSError, UnicodeDecodeError) as error:
            raise CommandError(
                f"Cannot read the layout {layout}: {error}. {_by_hand(static_path)}"
            ) from None
        plan = Plan(client, layout, text, text)
        if client is not None and not client.exists():
            plan.changes.append((f"no client at {client}", f"Copied the client to {client}"))
        elif client is not None and not _same_file(client, SHIPPED_CLIENT):
            plan.changes.append(
                (
                    f"{client} differs from the client shipped with turbo_cable",
                    f"Updated {client} to the client shipped with turbo_cable",
                )
            )
        controller = 'data-controller="turbo-streams"'
        script = layouts.script_tag(static_path)
        try:
            if not layouts.has_controller(text):
                plan.new_layout_text = layouts.add_controller(plan.new_layout_text)
                plan.changes.append(
                    (
                        f"{controller} on the <body> of {layout}",
                        f"Added {controller} to the <body> of {layout}",
                    )
                )
            if not layouts.has_script(text):
                plan.new_layout_text = layouts.add_script(plan.new_layout_text, static_path)
                plan.changes.append((f"{script} in {layout}", f"Added {script} to {layout}"))
        except layouts.LayoutError as error:
            raise CommandError(
                f"Cannot edit the layout {layout}: {error}. {_by_hand(static_path)}"
            ) from None
        return plan

    def _client_destination(self, copy: bool, static_dir: Path | None) -> tuple[Path | None, str]:
        """Where a copy of the client goes (None: nowhere), and its path for ``{% static %}``."""
        if not copy:
            return _shadowing_copy(), CLIENT_PATH
        if static_dir is not None:
            return static_dir / CLIENT_PATH, CLIENT_PATH
        dirs = list(getattr(settings, "STATICFILES_DIRS", []))
        if not dirs:
            raise CommandError(
                "--copy needs a project static directory to copy the client into, and "
                "STATICFILES_DIRS is empty: add one "
                '(e.g. STATICFILES_DIRS = [BASE_DIR / "static"]) '
                "or pass --static-dir DIR. Without --copy the client is served from "
                "turbo_cable's own static files."
            )
        first = dirs[0]
        if isinstance(first, list | tuple):  # (prefix, directory)
            prefix, directory = first
            return Path(directory) / CLIENT_PATH, f"{prefix.strip('/')}/{CLIENT_PATH}"
        return Path(first) / CLIENT_PATH, CLIENT_PATH

    def _find_layout(self, static_path: str) -> Path:
        places = searched_places(list(settings.TEMPLATES))
        found = find_layout(places)
        if found is not None:
            return found
        raise CommandError(
            f"No base layout found: looked for {', '.join(LAYOUT_NAMES)} in "
            f"{places.describe()}. Pass --layout PATH to name yours. {_by_hand(static_path)}"
        )


def _shadowing_copy() -> Path | None:
    """A project copy of the client that ``{% static %}`` would serve instead of the app's."""
    found = finders.find(CLIENT_PATH)
    if not isinstance(found, str) or Path(found).resolve() == SHIPPED_CLIENT:
        return None
    return Path(found)


def _same_file(path: Path, other: Path) -> bool:
    return path.is_file() and path.read_bytes() == other.read_bytes()


def _by_hand(static_path: str) -> str:
    return (
        'To install by hand, add data-controller="turbo-streams" to your layout\'s <body> and '
        f"{layouts.script_tag(static_path)} to its <head>, with {{% load static %}} at the top."
    )
