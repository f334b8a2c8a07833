"""What leaves a page static without a word: each is now a check, a warning or a comment."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth.models import AnonymousUser
from django.core.checks import run_checks
from django.template import Context, Template
from django.test import override_settings

from tests.testapp.models import Comment, Message
from turbo_cable import rendering
from turbo_cable.management import layout as layouts
from turbo_cable.testing import capture_broadcasts

CHECKED = ("W004", "W005", "W006", "E005")


def messages(**settings: Any) -> list[tuple[str, str, str]]:
    with override_settings(**settings):
        found = run_checks()
    return [
        (m.id.split(".")[1], m.msg, str(m.hint))
        for m in found
        if m.id and m.id.startswith("turbo_cable.") and m.id.split(".")[1] in CHECKED
    ]


def templates(*dirs: Path, app_dirs: bool = True) -> list[dict[str, Any]]:
    return [
        {
            "BACKEND": "django.template.backends.django.DjangoTemplates",
            "DIRS": list(dirs),
            "APP_DIRS": app_dirs,
        }
    ]


APPS_WITHOUT_DAPHNE = [
    "django.contrib.contenttypes",
    "django.contrib.auth",
    "django.contrib.staticfiles",
    "turbo_cable",
    "tests.testapp",
    "tests.browserapp",
]
RUNSERVER_HINT = (
    "Put \"daphne\" first in INSTALLED_APPS (pip install 'django-turbo-cable[daphne]'), "
    "or serve with uvicorn as README.rst shows."
)


def test_a_wsgi_runserver_in_development_is_a_warning_naming_daphne() -> None:
    assert messages(DEBUG=True, INSTALLED_APPS=APPS_WITHOUT_DAPHNE) == [
        (
            "W004",
            "daphne is not in INSTALLED_APPS, so runserver serves WSGI: pages render, "
            "but /cable and /_broadcast are not served and nothing updates live.",
            RUNSERVER_HINT,
        )
    ]


def test_daphne_after_staticfiles_is_a_warning_too() -> None:
    [(check, message, hint)] = messages(DEBUG=True, INSTALLED_APPS=[*APPS_WITHOUT_DAPHNE, "daphne"])
    assert (check, hint) == ("W004", RUNSERVER_HINT)
    assert message.startswith("daphne comes after django.contrib.staticfiles")


def test_daphne_first_or_production_settings_are_quiet() -> None:
    assert messages(DEBUG=True, INSTALLED_APPS=["daphne", *APPS_WITHOUT_DAPHNE]) == []
    assert messages(DEBUG=False, INSTALLED_APPS=APPS_WITHOUT_DAPHNE) == []


def test_a_layout_without_the_client_is_a_warning_until_installed(tmp_path: Path) -> None:
    layout = tmp_path / "base.html"
    layout.write_text("<html><head></head><body>{% block content %}{% endblock %}</body></html>")

    assert messages(TEMPLATES=templates(tmp_path)) == [
        (
            "W005",
            f"The base layout {layout} lacks the turbo_streams_controller.js script and "
            'data-controller="turbo-streams" on <body>, so pages that extend it never '
            "connect to the cable.",
            "Run manage.py turbo_cable_install (or pass it --layout PATH).",
        )
    ]
    text = layouts.add_script(layouts.add_controller(layout.read_text()), layouts.CLIENT_PATH)
    layout.write_text(text)
    assert messages(TEMPLATES=templates(tmp_path)) == []


def test_an_out_of_date_copy_of_the_client_is_a_warning(tmp_path: Path) -> None:
    copy = tmp_path / layouts.CLIENT_PATH
    copy.parent.mkdir(parents=True)
    copy.write_text("// copied two releases ago\n")

    assert messages(STATICFILES_DIRS=[tmp_path]) == [
        (
            "W006",
            f"{copy} is an out-of-date copy of the turbo_cable client, served instead of the "
            "one shipped with turbo_cable.",
            "Run manage.py turbo_cable_install --copy to update it, or delete it to serve "
            "the shipped client.",
        )
    ]
    copy.write_bytes(layouts.SHIPPED_CLIENT.read_bytes())
    assert messages(STATICFILES_DIRS=[tmp_path]) == []


def test_a_declared_broadcast_without_its_partial_is_an_error(tmp_path: Path) -> None:
    found = messages(TEMPLATES=templates(tmp_path, app_dirs=False))

    assert (
        "E005",
        "testapp.Comment.broadcasts renders testapp/_comment.html, which no template folder "
        "has, so every broadcast of it fails.",
        "Create testapp/templates/testapp/_comment.html with one root element whose id is "
        'the instance\'s DOM id, e.g. <div id="comment_{{ comment.pk }}">...</div>, or give '
        "the declaration a template or html.",
    ) in found
    assert {check for check, _, _ in found} == {"E005"}
    assert messages() == []  # with the app's templates, every partial is there


# -- a partial that renders without its id ------------------------------------------------


@pytest.fixture
def fresh_warnings() -> Iterator[None]:
    rendering._warned_partials.clear()
    yield
    rendering._warned_partials.clear()


def warnings_of(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]


@pytest.mark.django_db
@pytest.mark.usefixtures("fresh_warnings")
def test_a_replace_whose_partial_lacks_the_target_id_warns_once_in_debug(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with capture_broadcasts(), override_settings(DEBUG=True):
        comment = Comment.objects.create(body="no id in my partial")
        with caplog.at_level(logging.WARNING, "turbo_cable"):
            comment.broadcast_replace_to("comments")
            comment.broadcast_replace_to("comments")

    assert warnings_of(caplog) == [
        f'testapp/_comment.html rendered for a replace has no element with id="comment_'
        f'{comment.pk}", so later replaces and removes of it find nothing on the page. Give '
        f'the partial\'s root element id="comment_{comment.pk}" (shown once per partial, '
        "with DEBUG on)."
    ]


@pytest.mark.django_db
@pytest.mark.usefixtures("fresh_warnings")
def test_an_append_whose_partial_lacks_the_instance_id_warns_in_debug_only(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with capture_broadcasts(), caplog.at_level(logging.WARNING, "turbo_cable"):
        with override_settings(DEBUG=False):
            Comment.objects.create(body="quiet in production").broadcast_append_to("comments")
        assert warnings_of(caplog) == []
        with override_settings(DEBUG=True):
            message = Message.objects.create(body="has its id")
            message.broadcast_append_to("messages")
            message.broadcast_replace_to("messages")
            assert warnings_of(caplog) == []
            Comment.objects.create(body="loud in development").broadcast_append_to("comments")

    [warning] = warnings_of(caplog)
    assert warning.startswith("testapp/_comment.html rendered for a append has no element")


# -- anonymous visitors -------------------------------------------------------------------


def render(source: str, **context: Any) -> str:
    return Template("{% load turbo_cable %}" + source).render(Context(context))


def test_an_anonymous_user_subscribes_to_nothing_and_debug_says_why(
    caplog: pytest.LogCaptureFixture,
) -> None:
    source = '{% turbo_stream_from user "notes" %}'
    explanation = (
        '{% turbo_stream_from user "notes" %} subscribes to nothing for an anonymous '
        "user. Wrap it in {% if request.user.is_authenticated %} to say so, or build the "
        "stream from something an anonymous visitor has."
    )
    with override_settings(DEBUG=False):
        assert render(source, user=AnonymousUser()) == ""
    with override_settings(DEBUG=True), caplog.at_level(logging.WARNING, "turbo_cable"):
        rendered = render(source, user=AnonymousUser())

    assert rendered == "<!-- " + explanation.replace('"', "&quot;") + " -->"
    assert warnings_of(caplog) == [explanation]
