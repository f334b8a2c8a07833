"""``manage.py turbo_cable_install`` on a fresh project, twice, with --check, and on odd layouts."""

from __future__ import annotations

import os
import subprocess
import sys
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from django.core.management import CommandError, call_command
from django.test import override_settings

from turbo_cable.management import layout as layouts
from turbo_cable.management.commands.turbo_cable_install import SHIPPED_CLIENT

SCRIPT = layouts.script_tag("turbo_cable/turbo_streams_controller.js")
LAYOUT = """<!DOCTYPE html>
<html lang="en">
  <head>
    <meta charset="utf-8">
    <title>{% block title %}Site{% endblock %}</title>
  </head>
  <body class="site {% if dark %}dark{% endif %}" {{ body_attributes }}>
    {% block content %}{% endblock %}
  </body>
</html>
"""


def run(project: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "TURBO_CABLE"))}
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An untouched ``startproject`` with one app whose templates/ holds the base layout."""
    root = tmp_path_factory.mktemp("fresh")
    env = {k: v for k, v in os.environ.items() if not k.startswith("DJANGO_")}
    subprocess.run(
        [sys.executable, "-m", "django", "startproject", "mysite", str(root)], check=True, env=env
    )
    subprocess.run([sys.executable, "manage.py", "startapp", "chat"], cwd=root, check=True, env=env)
    with (root / "mysite" / "settings.py").open("a") as settings:
        settings.write('\nINSTALLED_APPS += ["turbo_cable", "chat"]\n')
    (root / "chat" / "templates").mkdir()
    (root / "chat" / "templates" / "base.html").write_text(LAYOUT)
    return root


def test_a_fresh_project_is_installed_then_a_second_run_changes_nothing(project: Path) -> None:
    layout_path = project / "chat" / "templates" / "base.html"
    before = run(project, "turbo_cable_install", "--check")
    assert (before.returncode, before.stderr.splitlines()[0]) == (
        1,
        "turbo_cable is not fully installed:",
    )

    first = run(project, "turbo_cable_install")
    assert first.returncode == 0, first.stderr
    layout = layout_path.read_text()
    assert layout.startswith("{% load static %}\n<!DOCTYPE html>")
    assert '<body class="site {% if dark %}dark{% endif %}" {{ body_attributes }} ' in layout
    assert 'data-controller="turbo-streams">' in layout
    assert f"    {SCRIPT}\n  </head>" in layout
    assert first.stdout.splitlines() == [
        f'Added data-controller="turbo-streams" to the <body> of {layout_path}',
        f"Added {SCRIPT} to {layout_path}",
    ]
    assert not (project / "static").exists(), "nothing is copied unless asked"

    second = run(project, "turbo_cable_install")
    assert second.returncode == 0, second.stderr
    assert second.stdout == (
        f"Nothing to change: {layout_path} loads the client from turbo_cable's static files.\n"
    )
    assert layout_path.read_text() == layout

    check = run(project, "turbo_cable_install", "--check")
    assert (check.returncode, check.stdout.split(":")[0]) == (0, "turbo_cable is installed")


def test_the_installed_layout_serves_the_client_shipped_with_the_app(project: Path) -> None:
    run(project, "turbo_cable_install")
    rendered = run(
        project,
        "shell",
        "-c",
        "from django.template.loader import render_to_string; print(render_to_string('base.html'))",
    )
    assert rendered.returncode == 0, rendered.stderr
    assert (
        '<script type="module" src="/static/turbo_cable/turbo_streams_controller.js">'
        in rendered.stdout
    )
    found = run(project, "findstatic", "--first", "turbo_cable/turbo_streams_controller.js")
    assert found.stdout.strip().endswith(str(SHIPPED_CLIENT)), found.stdout


def test_check_names_what_is_missing_and_changes_nothing(project: Path) -> None:
    run(project, "turbo_cable_install")
    layout_path = project / "chat" / "templates" / "base.html"
    without_script = layout_path.read_text().replace(SCRIPT, "")
    layout_path.write_text(without_script)

    check = run(project, "turbo_cable_install", "--check")

    assert check.returncode == 1
    assert f"{SCRIPT} in {layout_path}" in check.stderr
    assert "Run manage.py turbo_cable_install" in check.stderr
    assert layout_path.read_text() == without_script


def test_copy_on_a_fresh_project_says_which_setting_to_add(project: Path) -> None:
    refused = run(project, "turbo_cable_install", "--copy")

    assert refused.returncode == 1
    assert refused.stderr.strip() == (
        "CommandError: --copy needs a project static directory to copy the client into, and "
        'STATICFILES_DIRS is empty: add one (e.g. STATICFILES_DIRS = [BASE_DIR / "static"]) '
        "or pass --static-dir DIR. Without --copy the client is served from "
        "turbo_cable's own static files."
    )


# -- merging into existing layouts (pure text) ------------------------------------------


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ("<body>", '<body data-controller="turbo-streams">'),
        ('<body class="a" >', '<body class="a" data-controller="turbo-streams" >'),
        ('<body data-controller="menu">', '<body data-controller="menu turbo-streams">'),
        ("<body data-controller='menu'>", "<body data-controller='menu turbo-streams'>"),
        ("<body data-controller=menu>", '<body data-controller="menu turbo-streams">'),
        ("<body data-controller>", '<body data-controller="turbo-streams">'),
        (
            '<body data-controller="{% block controllers %}{% endblock %}" id="x">',
            '<body data-controller="{% block controllers %}{% endblock %} turbo-streams" id="x">',
        ),
        (
            '<BODY data-controller-extra="1">',
            '<body data-controller-extra="1" data-controller="turbo-streams">',
        ),
        (
            '<body {% if a > b %}class="x"{% endif %}>',
            '<body {% if a > b %}class="x"{% endif %} data-controller="turbo-streams">',
        ),
    ],
)
def test_the_controller_is_merged_into_the_body_keeping_its_attributes(
    body: str, expected: str
) -> None:
    assert layouts.add_controller(f"<html>{body}</body>") == f"<html>{expected}</body>"


@pytest.mark.parametrize(
    "body", ['<body data-controller="turbo-streams">', "<body data-controller='a turbo-streams b'>"]
)
def test_a_body_that_has_the_controller_is_left_alone(body: str) -> None:
    assert layouts.has_controller(body)
    assert layouts.add_controller(body) == body


def test_the_script_goes_on_its_own_line_before_head_ends() -> None:
    edited = layouts.add_script("<head>\n\t\t<title>x</title>\n\t</head><body>", "c.js")
    assert edited == (
        "{% load static %}\n<head>\n\t\t<title>x</title>\n\t\t"
        + layouts.script_tag("c.js")
        + "\n\t</head><body>"
    )


def test_the_script_goes_into_the_body_when_the_layout_has_no_head() -> None:
    edited = layouts.add_script("{% load i18n static %}<body class='a'><main>", "c.js")
    assert (
        edited == "{% load i18n static %}<body class='a'>\n" + layouts.script_tag("c.js") + "<main>"
    )


def test_static_is_loaded_after_extends_which_must_stay_first() -> None:
    edited = layouts.add_script('{% extends "root.html" %}\n<head></head>', "c.js")
    assert edited.startswith('{% extends "root.html" %}\n{% load static %}\n<head>')


def test_a_layout_that_already_loads_the_client_keeps_its_own_script_tag() -> None:
    layout = '<head><script src="/assets/turbo_streams_controller.js" defer></script></head>'
    assert layouts.has_script(layout)
    assert layouts.add_script(layout, "c.js") == layout


# -- the command on odd setups ------------------------------------------------------------


def install(*args: str, **settings: Any) -> tuple[str, str]:
    out, err = StringIO(), StringIO()
    with override_settings(**settings):
        call_command("turbo_cable_install", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def templates(directory: Path) -> list[dict[str, Any]]:
    return [
        {
            "BACKEND": "django.template.backends.django.DjangoTemplates",
            "DIRS": [directory],
            "APP_DIRS": True,
        }
    ]


def test_a_prefixed_static_dir_and_a_nested_layout_are_found(tmp_path: Path) -> None:
    (tmp_path / "templates" / "layouts").mkdir(parents=True)
    layout = tmp_path / "templates" / "layouts" / "application.html"
    layout.write_text("<html><head></head><body></body></html>")

    out, _ = install(
        "--copy",
        STATICFILES_DIRS=[("vendor", str(tmp_path / "assets"))],
        TEMPLATES=templates(tmp_path / "templates"),
    )

    assert (tmp_path / "assets" / "turbo_cable" / "turbo_streams_controller.js").is_file()
    assert "{% static 'vendor/turbo_cable/turbo_streams_controller.js' %}" in layout.read_text()
    assert str(layout) in out


def test_an_out_of_date_copy_of_the_client_is_reported_and_updated(tmp_path: Path) -> None:
    layout = tmp_path / "base.html"
    layout.write_text(LAYOUT)
    install("--layout", str(layout), "--static-dir", str(tmp_path))
    client = tmp_path / "turbo_cable" / "turbo_streams_controller.js"
    client.write_text("// an old client\n")

    with pytest.raises(CommandError) as refused:
        install("--check", "--layout", str(layout), "--static-dir", str(tmp_path))
    assert refused.value.returncode == 1
    out, _ = install("--layout", str(layout), "--static-dir", str(tmp_path))

    assert out.startswith(f"Updated {client}")
    assert client.read_bytes() == SHIPPED_CLIENT.read_bytes()


def test_a_stale_project_copy_that_hides_the_shipped_client_is_updated(tmp_path: Path) -> None:
    layout = tmp_path / "base.html"
    layout.write_text(LAYOUT)
    stale = tmp_path / "static" / "turbo_cable" / "turbo_streams_controller.js"
    stale.parent.mkdir(parents=True)
    stale.write_text("// a client copied before an upgrade\n")

    out, _ = install("--layout", str(layout), STATICFILES_DIRS=[tmp_path / "static"])

    assert out.splitlines()[0] == f"Updated {stale} to the client shipped with turbo_cable"
    assert stale.read_bytes() == SHIPPED_CLIENT.read_bytes()


def test_a_layout_in_the_template_dirs_wins_over_one_in_an_app(tmp_path: Path) -> None:
    (tmp_path / "base.html").write_text(LAYOUT)

    out, _ = install(TEMPLATES=templates(tmp_path))

    assert f"to the <body> of {tmp_path / 'base.html'}" in out


def test_without_a_layout_the_error_names_every_place_searched_and_the_fix(
    tmp_path: Path,
) -> None:
    with pytest.raises(CommandError) as refused:
        install(TEMPLATES=templates(tmp_path))
    message = str(refused.value)
    assert message.startswith(
        "No base layout found: looked for base.html, _base.html, layout.html, "
        "layouts/base.html, layouts/application.html in the template DIRS "
        f"({tmp_path}) or the templates/ folder of an app ("
    )
    assert "Pass --layout PATH to name yours." in message
    assert 'data-controller="turbo-streams"' in message
    assert SCRIPT in message


@pytest.mark.parametrize(
    ("make", "reason"),
    [
        (lambda p: p.mkdir(), "Cannot read the layout"),
        (lambda p: p.write_bytes(b"<body>\xff\xfe</body>"), "Cannot read the layout"),
        (lambda p: p.write_text("<html><main></main></html>"), "it has no <body> tag"),
        (lambda p: None, "Cannot read the layout"),
    ],
    ids=["a-directory", "not-utf8", "no-body", "missing"],
)
def test_a_layout_that_cannot_be_edited_is_named_and_left_as_it_was(
    tmp_path: Path, make: Any, reason: str
) -> None:
    layout = tmp_path / "base.html"
    make(layout)
    before = layout.read_bytes() if layout.is_file() else None

    with pytest.raises(CommandError) as refused:
        install("--layout", str(layout), "--static-dir", str(tmp_path / "static"))

    assert reason in str(refused.value)
    assert str(layout) in str(refused.value)
    assert SCRIPT in str(refused.value)
    assert (layout.read_bytes() if layout.is_file() else None) == before
    assert not (tmp_path / "static").exists()


def test_without_template_folders_the_error_reads_as_a_sentence() -> None:
    engine = {"BACKEND": "django.template.backends.django.DjangoTemplates", "DIRS": []}

    with pytest.raises(CommandError) as refused:
        install(TEMPLATES=[engine])

    assert str(refused.value).startswith(
        "No base layout found: looked for base.html, _base.html, layout.html, "
        "layouts/base.html, layouts/application.html in the template DIRS (none are "
        "configured) or the templates/ folder of an app (APP_DIRS is off). "
        "Pass --layout PATH to name yours. To install by hand, add "
    )
