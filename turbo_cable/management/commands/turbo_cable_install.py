"""``manage.py turbo_cable_install``: copy the JS client into the project and load it.

It copies the client into the project's static files, adds
``data-controller="turbo-streams"`` to the base layout's ``<body>`` and the
``<script>`` that loads the client. A second run changes nothing; ``--check``
changes nothing either and exits 1 when something is missing.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any, cast

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from turbo_cable.management import layout as layouts

SHIPPED_CLIENT = Path(__file__).resolve().parents[2] / "static" / "turbo_cable" / layouts.CLIENT
CLIENT_PATH = f"turbo_cable/{layouts.CLIENT}"
LAYOUT_NAMES = (
    "base.html",
    "_base.html",
    "layout.html",
    "layouts/base.html",
    "layouts/application.html",
)


@dataclasses.dataclass
class Plan:
    """What an install would change; empty when everything is in place."""

    client: Path
    layout: Path
    layout_text: str
    new_layout_text: str
    # (what is missing, what the install did about it)
    changes: list[tuple[str, str]] = dataclasses.field(default_factory=list)


class Command(BaseCommand):
    help = (
        "Copy the turbo_cable JS client into your static files and load it from your base "
        'layout, with data-controller="turbo-streams" on its <body>.'
    )
    # Installing is part of setting a project up: an unrelated check must not block it.
    requires_system_checks: list[str] = []

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--static-dir",
            type=Path,
            help="Static directory to copy the client into (default: first STATICFILES_DIRS).",
        )
        parser.add_argument(
            "--layout",
            type=Path,
            help=f"Base layout to edit (default: the first of {', '.join(LAYOUT_NAMES)} "
            "found in the template DIRS).",
        )
        parser.add_argument(
            "--check",
            action="store_true",
            help="Change nothing; exit with status 1 when something is missing.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        client, static_path = self._client_destination(options["static_dir"])
        plan = self._plan(client, static_path, options["layout"] or self._find_layout(static_path))
        if options["check"]:
            self._check(plan)
            return
        if not plan.changes:
            self.stdout.write(
                f"Nothing to change: {plan.client} is in place and {plan.layout} loads it."
            )
            return
        if not _same_file(plan.client, SHIPPED_CLIENT):
            plan.client.parent.mkdir(parents=True, exist_ok=True)
            plan.client.write_bytes(SHIPPED_CLIENT.read_bytes())
        if plan.new_layout_text != plan.layout_text:
            with plan.layout.open("w", encoding="utf-8", newline="") as file:
                file.write(plan.new_layout_text)
        for _, done in plan.changes:
            self.stdout.write(self.style.SUCCESS(done))

    def _check(self, plan: Plan) -> None:
        if not plan.changes:
            self.stdout.write(f"turbo_cable is installed: {plan.layout} loads {plan.client}.")
            return
        self.stderr.write("turbo_cable is not fully installed:")
        for missing, _ in plan.changes:
            self.stderr.write(f"  - {missing}")
        raise CommandError("Run manage.py turbo_cable_install to fix it.", returncode=1)

    def _plan(self, client: Path, static_path: str, layout: Path) -> Plan:
        try:
            with layout.open(encoding="utf-8", newline="") as file:
                text = file.read()
        except (OSError, UnicodeDecodeError) as error:
            raise CommandError(
                f"Cannot read the layout {layout}: {error}. {_by_hand(static_path)}"
            ) from None
        plan = Plan(client, layout, text, text)
        if not client.exists():
            plan.changes.append((f"no client at {client}", f"Copied the client to {client}"))
        elif not _same_file(client, SHIPPED_CLIENT):
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

    def _client_destination(self, static_dir: Path | None) -> tuple[Path, str]:
        """Where the client goes on disk, and its path for ``{% static %}``."""
        if static_dir is not None:
            return static_dir / CLIENT_PATH, CLIENT_PATH
        dirs = list(getattr(settings, "STATICFILES_DIRS", []))
        if not dirs:
            raise CommandError(
                "STATICFILES_DIRS is empty, so there is no project static directory to copy "
                'the client into: add one (e.g. BASE_DIR / "static") or pass --static-dir.'
            )
        first = dirs[0]
        if isinstance(first, list | tuple):  # (prefix, directory)
            prefix, directory = first
            return Path(directory) / CLIENT_PATH, f"{prefix.strip('/')}/{CLIENT_PATH}"
        return Path(first) / CLIENT_PATH, CLIENT_PATH

    def _find_layout(self, static_path: str) -> Path:
        searched: list[str] = []
        for engine in settings.TEMPLATES:
            if engine["BACKEND"] != "django.template.backends.django.DjangoTemplates":
                continue
            for directory in cast("list[Any]", engine.get("DIRS", [])):
                searched.append(str(directory))
                for name in LAYOUT_NAMES:
                    candidate = Path(directory) / name
                    if candidate.is_file():
                        return candidate
        where = ", ".join(searched) if searched else "no template DIRS are configured"
        raise CommandError(
            f"No base layout ({', '.join(LAYOUT_NAMES)}) found in {where}. "
            f"Pass --layout PATH. {_by_hand(static_path)}"
        )


def _same_file(path: Path, other: Path) -> bool:
    return path.is_file() and path.read_bytes() == other.read_bytes()


def _by_hand(static_path: str) -> str:
    return (
        'To install by hand, add data-controller="turbo-streams" to your layout\'s <body> and '
        f"{layouts.script_tag(static_path)} to its <head>, with {{% load static %}} at the top."
    )
