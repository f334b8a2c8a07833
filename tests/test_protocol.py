"""The wire protocol, without a server."""

from __future__ import annotations

import json

import pytest

from turbo_cable import protocol
from turbo_cable.protocol import ClientMessage, ProtocolError, decode_client_message


def test_subscribe_unsubscribe_and_pong_decode() -> None:
    assert decode_client_message('{"type":"subscribe","stream":"s"}') == ClientMessage(
        "subscribe", "s"
    )
    assert decode_client_message('{"type":"unsubscribe","stream":"s"}').type == "unsubscribe"
    assert decode_client_message('{"type":"pong"}') == ClientMessage("pong")


def test_extension_fields_are_kept_for_later_use() -> None:
    message = decode_client_message('{"type":"subscribe","stream":"s","offset":3}')
    assert message.extra == {"offset": 3}


@pytest.mark.parametrize(
    ("text", "close_code"),
    [("nope", 1007), ("[]", 1007), ('"s"', 1007), ('{"type":"x"}', None), ("{}", None)],
)
def test_bad_frames_raise_with_the_close_code_they_deserve(
    text: str, close_code: int | None
) -> None:
    with pytest.raises(ProtocolError) as error:
        decode_client_message(text)
    assert error.value.close_code == close_code


def test_server_frames_are_compact_json_with_the_contract_fields() -> None:
    assert protocol.PING == '{"type":"ping"}'
    assert json.loads(protocol.encode_subscribed("s")) == {"type": "subscribed", "stream": "s"}
    assert json.loads(protocol.encode_message("s", "<p>é</p>")) == {
        "type": "message",
        "stream": "s",
        "data": "<p>é</p>",
    }
    assert "é" in protocol.encode_message("s", "é"), "no needless \\u escapes"


def test_message_extensions_ride_along() -> None:
    frame = json.loads(protocol.encode_message("s", 1, offset=7))
    assert frame == {"type": "message", "stream": "s", "data": 1, "offset": 7}
