"""Stream names: built from strings, numbers and instances, signed for pages."""

from __future__ import annotations

import time

import pytest
from django.core import signing
from django.test import override_settings

from tests.testapp.models import Message, Room
from turbo_cable.streams import (
    RejectedStreamName,
    plain_stream_name,
    session_binding,
    session_key_from_cookies,
    signed_stream_name,
    stream_name,
    verify_signed_stream_name,
    wire_stream_name,
)


def test_parts_are_joined_with_colons() -> None:
    assert stream_name("room", 7, "messages") == "room:7:messages"


@pytest.mark.django_db
def test_a_saved_instance_is_its_app_label_model_name_and_pk() -> None:
    room = Room.objects.create(name="lobby")
    assert stream_name(room, "messages") == f"testapp.room:{room.pk}:messages"


def test_an_unsaved_instance_is_refused() -> None:
    with pytest.raises(ValueError, match="unsaved Room"):
        stream_name(Room(name="x"))


@pytest.mark.django_db
def test_a_queryset_is_refused_with_a_hint() -> None:
    with pytest.raises(TypeError, match="separate arguments"):
        stream_name(Message.objects.all())


@pytest.mark.parametrize("bad", ["", "   ", None, True])
def test_blank_or_meaningless_parts_are_refused(bad: object) -> None:
    with pytest.raises((ValueError, TypeError)):
        stream_name("room", bad)


def test_no_parts_at_all_is_refused() -> None:
    with pytest.raises(ValueError, match="at least one part"):
        stream_name()


def test_objects_can_name_their_own_stream() -> None:
    class Channel:
        def to_stream_name(self) -> str:
            return "channel-9"

    assert stream_name(Channel(), "x") == "channel-9:x"


def test_a_signed_name_verifies_to_the_plain_name() -> None:
    signed = signed_stream_name("room", 1)
    assert signed != "room:1"
    assert verify_signed_stream_name(signed) == "room:1"


def test_a_forged_signature_does_not_verify() -> None:
    signed = signed_stream_name("room", 1)
    assert verify_signed_stream_name(signed.replace("room:1", "room:2")) is None


@pytest.mark.parametrize("wire", ["\ud800:abc", "room:1:\udfff"])
def test_a_name_with_a_lone_surrogate_does_not_verify(wire: str) -> None:
    assert verify_signed_stream_name(wire) is None


def test_a_forged_name_is_rejected_with_a_reason() -> None:
    signed = signed_stream_name("room", 1)
    with pytest.raises(RejectedStreamName, match=r"^invalid stream signature$"):
        plain_stream_name(signed.replace("room:1", "room:2"))


def test_unsigned_wire_names_when_signing_is_off() -> None:
    with override_settings(TURBO_CABLE={"SIGNED_STREAMS": False}):
        assert wire_stream_name("room", 1) == "room:1"
        assert plain_stream_name("room:1") == "room:1"
    assert plain_stream_name(wire_stream_name("room", 1)) == "room:1"


def test_a_name_with_a_max_age_verifies_while_it_is_young() -> None:
    with override_settings(TURBO_CABLE={"SIGNED_STREAM_MAX_AGE": 60}):
        signed = signed_stream_name("room", 1)
        assert plain_stream_name(signed) == "room:1"
    # Turning the setting off again keeps such names working.
    assert plain_stream_name(signed) == "room:1"


def test_a_name_older_than_the_max_age_is_expired() -> None:
    with override_settings(TURBO_CABLE={"SIGNED_STREAM_MAX_AGE": 60}):
        signed = signed_stream_name("room", 1)
    old = signed_at(signed, int(time.time()) - 3600)
    with override_settings(TURBO_CABLE={"SIGNED_STREAM_MAX_AGE": 60}):
        with pytest.raises(RejectedStreamName, match=r"^expired$"):
            plain_stream_name(old)
        assert verify_signed_stream_name(old) is None


def test_a_name_made_before_the_max_age_was_set_is_expired_not_forged() -> None:
    untimed = signed_stream_name("room", 1)
    with override_settings(TURBO_CABLE={"SIGNED_STREAM_MAX_AGE": 60}):
        with pytest.raises(RejectedStreamName, match=r"^expired$"):
            plain_stream_name(untimed)
        with pytest.raises(RejectedStreamName, match=r"^invalid stream signature$"):
            plain_stream_name(untimed.replace("room:1", "room:2"))


def test_a_session_bound_name_verifies_only_for_its_session() -> None:
    with override_settings(TURBO_CABLE={"SESSION_BOUND_STREAMS": True}):
        signed = signed_stream_name("inbox", session_key="k" * 32)
        assert plain_stream_name(signed, session_key="k" * 32) == "inbox"
        for other in ("j" * 32, None):
            with pytest.raises(RejectedStreamName, match=r"^invalid stream signature$"):
                plain_stream_name(signed, session_key=other)


def test_a_name_rendered_without_a_session_is_refused_to_a_client_with_one() -> None:
    with override_settings(TURBO_CABLE={"SESSION_BOUND_STREAMS": True}):
        anonymous = signed_stream_name("news", session_key=None)
        assert plain_stream_name(anonymous) == "news"
        with pytest.raises(RejectedStreamName, match=r"^invalid stream signature$"):
            plain_stream_name(anonymous, session_key="k" * 32)


def test_a_name_made_before_session_binding_was_on_is_expired() -> None:
    unbound = signed_stream_name("inbox")
    with (
        override_settings(TURBO_CABLE={"SESSION_BOUND_STREAMS": True}),
        pytest.raises(RejectedStreamName, match=r"^expired$"),
    ):
        plain_stream_name(unbound, session_key="k" * 32)


def test_both_settings_together_bind_and_expire() -> None:
    both = {"SESSION_BOUND_STREAMS": True, "SIGNED_STREAM_MAX_AGE": 60}
    with override_settings(TURBO_CABLE=both):
        signed = signed_stream_name("inbox", session_key="k" * 32)
        assert plain_stream_name(signed, session_key="k" * 32) == "inbox"
        with pytest.raises(RejectedStreamName, match=r"^invalid stream signature$"):
            plain_stream_name(signed, session_key="j" * 32)


def test_the_binding_is_a_keyed_hash_that_never_contains_the_session_key() -> None:
    key = "abcdefghijklmnopqrstuvwxyz012345"
    binding = session_binding(key)
    assert key not in binding
    assert binding == session_binding(key) != session_binding(key[::-1])
    assert session_binding(None) == session_binding("") != binding
    with override_settings(TURBO_CABLE={"SESSION_BOUND_STREAMS": True}):
        assert key not in signed_stream_name("inbox", session_key=key)


def test_the_session_key_is_read_from_the_session_cookie() -> None:
    assert session_key_from_cookies("csrftoken=x; sessionid=abc123; theme=dark") == "abc123"
    assert session_key_from_cookies("csrftoken=x") is None
    assert session_key_from_cookies("sessionid=") is None
    assert session_key_from_cookies(None) is None
    with override_settings(SESSION_COOKIE_NAME="site_session"):
        assert session_key_from_cookies("sessionid=a; site_session=b") == "b"


@pytest.mark.parametrize(
    "header",
    [
        "sessionid=abc; sessionid=def",
        ' sessionid = "abc123" ; x=1',
        'sessionid="',
        "sessionid=a=b",
        "theme; sessionid=abc",
        "sessionid",
        ";;sessionid=abc;;",
        "SessionId=abc",
    ],
)
def test_the_session_cookie_is_read_as_django_reads_it(header: str) -> None:
    """The cable reads the cookie itself (django.http would load the ORM into runcable)."""
    from django.http.cookie import parse_cookie

    assert session_key_from_cookies(header) == (parse_cookie(header).get("sessionid") or None)


def signed_at(signed: str, timestamp: int) -> str:
    """``signed`` re-signed as if it had been made at ``timestamp`` (the timed format's salt)."""
    signer = signing.TimestampSigner(salt="turbo_cable.streams.timed")
    value = signer.unsign(signed)
    signer.timestamp = lambda: signing.b62_encode(timestamp)  # type: ignore[method-assign]
    return signer.sign(value)
