"""README.rst documents every setting with its real default, and nothing else; every
document renders, and nothing docutils would accept silently slips through."""

from __future__ import annotations

import itertools
import re
from pathlib import Path

import pytest

from turbo_cable.conf import DEFAULTS

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.rst").read_text()
DOCUMENTS = sorted(
    path.relative_to(ROOT).as_posix() for path in [ROOT / "README.rst", *ROOT.glob("docs/*.rst")]
)
ADORNMENT = re.compile(r"""([!"#$%&'()*+,\-./:;<=>?@\[\\\]^_`{|}~])\1*""")
MERGE_MARKER = re.compile(r"(<{7}|>{7})( .*)?|={7}|\|{7}( .*)?")


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


@pytest.mark.parametrize("document", DOCUMENTS)
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


def short_underlines(text: str) -> list[str]:
    """Section titles whose underline is shorter than the title.

    docutils warns about most, but takes an underline of one to three characters
    under a longer line for ordinary text, and the section silently disappears.
    """
    lines = text.splitlines()
    found = []
    for number, (title, underline) in enumerate(itertools.pairwise(lines), start=1):
        if not title.strip() or title[0].isspace() or ADORNMENT.fullmatch(title.rstrip()):
            continue
        if ADORNMENT.fullmatch(underline) and len(underline) < len(title.rstrip()):
            found.append(f"line {number}: {title!r} is underlined by {underline!r}")
    return found


def merge_markers(text: str) -> list[str]:
    """Lines a merge left behind; ``=======`` alone even renders, as a section underline."""
    return [
        f"line {number}: {line!r}"
        for number, line in enumerate(text.splitlines(), start=1)
        if MERGE_MARKER.fullmatch(line)
    ]


@pytest.mark.parametrize("document", DOCUMENTS)
def test_every_section_underline_is_as_long_as_its_title(document: str) -> None:
    assert short_underlines((ROOT / document).read_text()) == []


@pytest.mark.parametrize("document", DOCUMENTS)
def test_no_document_holds_a_merge_conflict_marker(document: str) -> None:
    found = merge_markers((ROOT / document).read_text())
    assert found == [], (
        f"{document} holds merge conflict markers {found}; a seven-letter title takes "
        "an underline of eight '=' so that it cannot be mistaken for one"
    )


def test_the_checks_find_what_docutils_lets_through() -> None:
    """The two checks above against text docutils renders without a warning."""
    assert short_underlines("Intro\n\nInstallation\n---\n\nText.\n") == [
        "line 3: 'Installation' is underlined by '---'"
    ]
    assert short_underlines("Title\n=====\n\n=========\nOverlined\n=========\n") == []
    assert short_underlines("Text\n\n----\n\nA transition, not a title.\n") == []
    assert short_underlines("Example::\n\n    code\n    --\n") == []
    conflict = "Usage\n=====\n<<<<<<< HEAD\nOurs.\n=======\nTheirs.\n>>>>>>> branch\n"
    assert merge_markers(conflict) == [
        "line 3: '<<<<<<< HEAD'",
        "line 5: '======='",
        "line 7: '>>>>>>> branch'",
    ]
    assert merge_markers("Metrics\n========\n\n======  ======\n=======x\n") == []
