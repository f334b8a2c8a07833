"""README.rst documents every setting with its real default, and nothing else."""

from __future__ import annotations

import re
from pathlib import Path

from turbo_cable.conf import DEFAULTS

README = (Path(__file__).resolve().parent.parent / "README.rst").read_text()


def documented_settings() -> dict[str, str]:
    """Key -> default, from the settings table (rows of ``* - ``KEY`` / ``- default``)."""
    table = README.split("Settings\n========", 1)[1]
    rows = re.findall(r"\* - ``([A-Z_]+)``\n\s+- ``([^`]*)``", table)
    return dict(rows)


def test_every_setting_is_documented_with_its_default() -> None:
    documented = documented_settings()
    assert set(documented) == set(DEFAULTS), (
        f"missing from README: {sorted(set(DEFAULTS) - set(documented))}; "
        f"not settings: {sorted(set(documented) - set(DEFAULTS))}"
    )
    for key, default in DEFAULTS.items():
        assert documented[key] == repr(default).replace("'", '"'), key


def test_the_readme_names_the_two_commands() -> None:
    assert "``make run``" in README
    assert "``make test``" in README
