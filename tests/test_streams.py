"""Stream names: built from strings, numbers and instances, signed for pages."""

from __future__ import annotations

import pytest
from django.test import override_settings

from tests.testapp.models import Message, Room
from turbo_cable.streams import (
    plain_stream_name,
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


def test_unsigned_wire_names_when_signing_is_off() -> None:
    with override_settings(TURBO_CABLE={"SIGNED_STREAMS": False}):
        assert wire_stream_name("room", 1) == "room:1"
        assert plain_stream_name("room:1") == "room:1"
    assert plain_stream_name(wire_stream_name("room", 1)) == "room:1"
