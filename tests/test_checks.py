"""System checks name the bad key, and warn when the ASGI app lacks the cable."""

from __future__ import annotations

from django.core.checks import run_checks
from django.test import override_settings

from turbo_cable.checks import CABLE_TAG


def check_ids() -> list[str]:
    return [message.id for message in run_checks() if message.id and "turbo_cable" in message.id]


def test_the_test_project_passes_every_check() -> None:
    assert check_ids() == []


def test_a_bad_setting_is_an_error_naming_the_key() -> None:
    with override_settings(TURBO_CABLE={"PING_INTERVAL": -1}):
        errors = [m for m in run_checks() if m.id == "turbo_cable.E001"]
    assert len(errors) == 1
    assert "TURBO_CABLE['PING_INTERVAL']" in errors[0].msg


def test_no_asgi_application_setting_is_a_warning() -> None:
    with override_settings(ASGI_APPLICATION=None):
        assert check_ids() == ["turbo_cable.W001"]


def test_the_warning_tells_a_wsgi_site_about_runcable() -> None:
    with override_settings(ASGI_APPLICATION=None):
        (warning,) = [m for m in run_checks() if m.id == "turbo_cable.W001"]
    assert warning.hint is not None
    assert "manage.py runcable" in warning.hint
    assert "SILENCED_SYSTEM_CHECKS" in warning.hint


def test_the_cable_tag_selects_the_checks_a_cable_process_needs() -> None:
    """What ``runcable`` runs: the settings and the backend, not the ASGI entry point."""
    with override_settings(ASGI_APPLICATION=None, TURBO_CABLE={"PING_INTERVAL": -1}):
        assert [m.id for m in run_checks(tags=[CABLE_TAG])] == ["turbo_cable.E001"]
    with override_settings(
        ASGI_APPLICATION=None,
        TURBO_CABLE={"BACKEND": "redis://127.0.0.1:6379/0", "REDIS_PREFIX": ""},
    ):
        assert [m.id for m in run_checks(tags=[CABLE_TAG])] == ["turbo_cable.W003"]


def test_an_asgi_application_without_the_cable_is_a_warning() -> None:
    with override_settings(ASGI_APPLICATION="django.core.asgi.get_asgi_application"):
        assert check_ids() == ["turbo_cable.W002"]


def test_an_asgi_application_that_cannot_be_imported_is_an_error() -> None:
    with override_settings(ASGI_APPLICATION="nowhere.asgi.application"):
        assert check_ids() == ["turbo_cable.E002"]


class Middleware:
    def __init__(self, app: object) -> None:
        self.app = app


def test_middleware_wrapped_around_the_cable_router_is_recognised() -> None:
    from turbo_cable.asgi import get_asgi_application
    from turbo_cable.checks import routes_turbo_cable

    assert routes_turbo_cable(Middleware(Middleware(get_asgi_application())))
    assert not routes_turbo_cable(Middleware(object()))


def test_session_bound_streams_pass_the_checks_with_a_server_side_session() -> None:
    with override_settings(TURBO_CABLE={"SESSION_BOUND_STREAMS": True}):
        assert check_ids() == []


def test_session_bound_streams_warn_when_no_session_key_can_match() -> None:
    signed_cookies = "django.contrib.sessions.backends.signed_cookies"
    with override_settings(
        TURBO_CABLE={"SESSION_BOUND_STREAMS": True},
        SESSION_ENGINE=signed_cookies,
        TEMPLATES=[{"BACKEND": "django.template.backends.django.DjangoTemplates"}],
    ):
        warnings = [m.msg for m in run_checks() if m.id == "turbo_cable.W007"]
    assert len(warnings) == 2
    assert "signed_cookies session engine" in warnings[0]
    assert "context_processors.request" in warnings[1]
