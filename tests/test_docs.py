"""README.rst documents every setting with its real default, and nothing else."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from turbo_cable.conf import DEFAULTS

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.rst").read_text()


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


def test_the_two_commands_the_readme_names_are_the_ones_that_exist() -> None:
    """``make run`` and ``make test`` as README.rst says, and CI runs what the README says."""
    makefile = (ROOT / "Makefile").read_text()
    for command in ("run", "test"):
        assert f"``make {command}``" in README
        assert re.search(rf"^{command}:", makefile, re.MULTILINE), f"no '{command}' target"
    ci = (ROOT / ".ci" / "run").read_text().splitlines()
    assert "make test" in [line.strip() for line in ci]


@pytest.mark.parametrize(
    "document",
    sorted(
        path.relative_to(ROOT).as_posix()
        for path in [ROOT / "README.rst", *ROOT.glob("docs/*.rst")]
    ),
)
def test_every_document_renders_without_warnings(document: str) -> None:
    from docutils.core import publish_doctree
    from docutils.utils import SystemMessage

    try:
        publish_doctree(
            (ROOT / document).read_text(),
            source_path=document,
            settings_overrides={"halt_level": 2, "report_level": 5},
        )
    except SystemMessage as problem:
        pytest.fail(f"{document}: {problem}")


def test_links_to_docs_point_at_files_that_exist() -> None:
    for target in re.findall(r"<(docs/[^>]+\.rst)>`_", README):
        assert (ROOT / target).is_file(), target
