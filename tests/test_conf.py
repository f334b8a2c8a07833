"""Settings: defaults, validation naming the key, and the broadcast URL's sources."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.test import override_settings

from turbo_cable.conf import (
    DEFAULTS,
    get_origin_policy,
    get_settings,
    replace_settings,
    validate,
)


def test_every_key_has_a_default_and_an_empty_dict_is_valid() -> None:
    assert validate({}) == []
    assert get_settings().CABLE_PATH == DEFAULTS["CABLE_PATH"] == "/cable"


@pytest.mark.parametrize(
    ("raw", "problem"),
    [
        ({"PING_INTERVAL": "30"}, "TURBO_CABLE['PING_INTERVAL'] must be a number of seconds > 0"),
        ({"PING_INTERVAL": 0}, "TURBO_CABLE['PING_INTERVAL'] must be a number of seconds > 0"),
        ({"MAX_FRAME_SIZE": 1.5}, "TURBO_CABLE['MAX_FRAME_SIZE'] must be a positive integer"),
        ({"MAX_SUBSCRIPTIONS": True}, "TURBO_CABLE['MAX_SUBSCRIPTIONS'] must be a positive"),
        ({"CABLE_PATH": "cable"}, "TURBO_CABLE['CABLE_PATH'] must be a URL path"),
        ({"BROADCAST_URL": "ftp://x"}, "TURBO_CABLE['BROADCAST_URL'] must be None or an http"),
        ({"CABLE_URL": "http://x/cable"}, "TURBO_CABLE['CABLE_URL'] must be None, a path"),
        ({"SIGNED_STREAMS": "yes"}, "TURBO_CABLE['SIGNED_STREAMS'] must be True or False"),
        ({"SIGNED_STREAM_MAX_AGE": 0}, "TURBO_CABLE['SIGNED_STREAM_MAX_AGE'] must be None or a"),
        ({"SIGNED_STREAM_MAX_AGE": "1h"}, "TURBO_CABLE['SIGNED_STREAM_MAX_AGE'] must be None"),
        ({"SESSION_BOUND_STREAMS": 1}, "TURBO_CABLE['SESSION_BOUND_STREAMS'] must be True or"),
        (
            {"SIGNED_STREAMS": False, "SIGNED_STREAM_MAX_AGE": 60},
            "TURBO_CABLE['SIGNED_STREAM_MAX_AGE'] needs TURBO_CABLE['SIGNED_STREAMS']",
        ),
        (
            {"SIGNED_STREAMS": False, "SESSION_BOUND_STREAMS": True},
            "TURBO_CABLE['SESSION_BOUND_STREAMS'] needs TURBO_CABLE['SIGNED_STREAMS']",
        ),
        ({"ALLOWED_ORIGINS": "*"}, "TURBO_CABLE['ALLOWED_ORIGINS'] must be None or a list"),
        ({"BACKEND": "postgres://x"}, "TURBO_CABLE['BACKEND'] must be 'memory' or a redis://"),
        ({"HISTORY_SIZE": -1}, "TURBO_CABLE['HISTORY_SIZE'] must be an integer >= 0"),
        ({"PING_SECONDS": 3}, "TURBO_CABLE['PING_SECONDS'] is not a known setting."),
        (
            {"PING_INTERVAL": 10, "IDLE_TIMEOUT": 5},
            "TURBO_CABLE['IDLE_TIMEOUT'] must be greater than TURBO_CABLE['PING_INTERVAL']",
        ),
        ({"BROADCAST_PATH": "/cable"}, "must differ"),
        ([("PING_INTERVAL", 1)], "TURBO_CABLE must be a dict."),
    ],
)
def test_a_bad_value_is_reported_with_its_key(raw: object, problem: str) -> None:
    problems = validate(raw)
    assert len(problems) == 1
    assert problem in problems[0]


def test_bad_settings_stop_the_app_from_loading() -> None:
    with (
        override_settings(TURBO_CABLE={"SEND_QUEUE_SIZE": 0}),
        pytest.raises(ImproperlyConfigured, match="SEND_QUEUE_SIZE"),
    ):
        get_settings()


def test_the_broadcast_url_is_derived_from_the_port(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("TURBO_CABLE_BROADCAST_URL", raising=False)
    monkeypatch.delenv("TURBO_CABLE_PORT", raising=False)
    monkeypatch.setenv("PORT", "9123")
    assert get_settings().broadcast_url == "http://127.0.0.1:9123/_broadcast"
    monkeypatch.setenv("TURBO_CABLE_PORT", "9124")
    assert get_settings().broadcast_url == "http://127.0.0.1:9124/_broadcast"


def test_the_setting_beats_the_port_and_the_environment_beats_the_setting(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("TURBO_CABLE_BROADCAST_URL", raising=False)
    with override_settings(TURBO_CABLE={"BROADCAST_URL": "http://cable.internal/_b"}):
        assert get_settings().broadcast_url == "http://cable.internal/_b"
        monkeypatch.setenv("TURBO_CABLE_BROADCAST_URL", "http://front:3000/_broadcast")
        assert get_settings().broadcast_url == "http://front:3000/_broadcast"


def test_origins_are_the_sites_own_and_trusted_origins_by_default() -> None:
    with override_settings(
        ALLOWED_HOSTS=["example.com"],
        CSRF_TRUSTED_ORIGINS=["https://a.b"],
        SECURE_PROXY_SSL_HEADER=("HTTP_X_FORWARDED_PROTO", "https"),
        USE_X_FORWARDED_HOST=True,
    ):
        policy = get_origin_policy()
    assert (policy.same_origin, policy.host_patterns) == (True, ())
    assert policy.allowed_hosts == ("example.com",)
    assert policy.trusted_origins == ("https://a.b",)
    assert policy.secure_proxy_ssl_header == ("HTTP_X_FORWARDED_PROTO", "https")
    assert policy.use_x_forwarded_host is True


def test_debug_with_no_allowed_hosts_allows_local_hosts_like_django() -> None:
    with override_settings(DEBUG=True, ALLOWED_HOSTS=[]):
        assert get_origin_policy().allowed_hosts == (".localhost", "127.0.0.1", "[::1]")


def test_the_allowed_origins_setting_replaces_the_derived_policy() -> None:
    with override_settings(TURBO_CABLE={"ALLOWED_ORIGINS": ["https://x.y", ".z.org"]}):
        policy = get_origin_policy()
    assert policy.trusted_origins == ("https://x.y",)
    assert policy.host_patterns == (".z.org",)
    assert policy.same_origin is False


def test_replace_settings_wins_over_the_settings_file_and_is_validated(settings: Any) -> None:
    """As ``runcable --backend`` uses it; the ``settings`` fixture puts everything back."""
    settings.TURBO_CABLE = {"BACKEND": "memory", "PING_INTERVAL": 5.0}
    replaced = replace_settings(BACKEND="redis://127.0.0.1:6379/3")
    assert get_settings() is replaced
    assert (replaced.BACKEND, replaced.PING_INTERVAL) == ("redis://127.0.0.1:6379/3", 5.0)
    with pytest.raises(ImproperlyConfigured, match=r"TURBO_CABLE\['BACKEND'\] must be"):
        replace_settings(BACKEND="mysql://db")
    assert get_settings().BACKEND == "redis://127.0.0.1:6379/3"  # a refusal changes nothing
