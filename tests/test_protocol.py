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


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        ("{nope", "is not valid JSON"),
        (b"\xff\xfe{}", "is not valid JSON"),
        (b'"\xed\xa0\x80"', "is not valid JSON"),  # a surrogate encoded as UTF-8
        ("NaN", "has NaN or Infinity, which JSON does not allow"),
        ('{"a": [1, -Infinity]}', "has NaN or Infinity, which JSON does not allow"),
        ("[1e400]", "has NaN or Infinity, which JSON does not allow"),  # a float's Infinity
        ('"\\ud800"', "has a lone surrogate, which UTF-8 cannot carry"),
        ('{"\\udc00": 1}', "has a lone surrogate, which UTF-8 cannot carry"),
        ('["\\ude00\\ud83d"]', "has a lone surrogate, which UTF-8 cannot carry"),
        ("[" * 65 + "]" * 65, "is nested deeper than 64 levels"),
        ('{"a":' * 65 + "1" + "}" * 65, "is nested deeper than 64 levels"),
        ("[" * 100_000 + "]" * 100_000, "is nested deeper than 64 levels"),
    ],
)
def test_decode_json_refuses_what_browsers_or_utf8_cannot_take(
    raw: str | bytes, reason: str
) -> None:
    with pytest.raises(protocol.InvalidJSON) as refused:
        protocol.decode_json(raw)
    assert refused.value.reason == reason


@pytest.mark.parametrize(
    ("raw", "value"),
    [
        ('"\\ud83d\\ude00"', "\U0001f600"),
        ("[" * 64 + "]" * 64, json.loads("[" * 64 + "]" * 64)),
        ('"' + "{{{{[[[[" * 20 + '"', "{{{{[[[[" * 20),  # brackets in strings are not nesting
        (b"\xef\xbb\xbf{}", {}),
        ("[1.5, -2e-400, 12345678901234567890]", [1.5, -0.0, 12345678901234567890]),
    ],
)
def test_decode_json_accepts_the_rest(raw: str | bytes, value: object) -> None:
    assert protocol.decode_json(raw) == value
