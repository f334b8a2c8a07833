"""One import for the public API, loaded lazily so settings can import ``turbo_cable``."""

from __future__ import annotations

import ast
import importlib
import subprocess
import sys

import pytest

import turbo_cable
from tests.servers import ROOT


def test_every_public_name_is_the_object_its_module_defines() -> None:
    for name in turbo_cable.__all__:
        value = getattr(turbo_cable, name)
        if name in ("broadcast", "stream_actions"):
            assert value is importlib.import_module(f"turbo_cable.{name}")
        elif name != "__version__":
            module = turbo_cable._MODULE_OF[name]
            assert value is getattr(importlib.import_module(module), name), name


def test_type_checkers_see_every_public_name_as_what_it_is() -> None:
    """A lazy name is ``Any`` to mypy: ``class M(Broadcastable, Model)`` fails ``--strict``."""
    tree = ast.parse((ROOT / "turbo_cable" / "__init__.py").read_text())
    block = next(
        node
        for node in tree.body
        if isinstance(node, ast.If) and ast.unparse(node.test) == "TYPE_CHECKING"
    )
    seen = {alias.asname for node in block.body for alias in node.names}  # type: ignore[attr-defined]
    assert seen == set(turbo_cable.__all__) - {"__version__"}


def test_the_broadcast_module_is_callable_as_broadcast() -> None:
    from turbo_cable import broadcast, capture_broadcasts

    with capture_broadcasts() as sent:
        assert broadcast("room", "<p>") is True
    assert sent == [("room", "<p>")]


def test_importing_turbo_cable_loads_no_models_and_no_django_app_code() -> None:
    code = (
        "import sys, turbo_cable\n"
        "assert turbo_cable.__version__\n"
        "loaded = sorted(m for m in sys.modules if m.startswith(('turbo_cable.', 'django')))\n"
        "print(loaded)\n"
    )
    # No DJANGO_SETTINGS_MODULE: as a settings module imports it, before Django is set up.
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True,
        env={"PATH": "/usr/bin:/bin"},
    )  # fmt: skip
    assert result.stdout.strip() == "[]"


def test_an_unknown_name_is_an_attribute_error() -> None:
    with pytest.raises(AttributeError, match="no_such_thing"):
        turbo_cable.no_such_thing  # noqa: B018
