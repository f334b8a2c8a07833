"""Names that expire and names bound to a session.

The cable decides from the name and the handshake's cookie alone, so the cases run
in-process through ASGI; through daphne and uvicorn, a bound name subscribes with
the cookie the server passes on and receives.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest
from django.test import override_settings

from tests.asgi_client import InProcessCable, in_process_cable
from tests.cable_client import CableClient
from tests.servers import SERVERS, LiveServer, live_server
from turbo_cable.streams import signed_stream_name

MAX_AGE = 3
GUARDED = {"SIGNED_STREAM_MAX_AGE": MAX_AGE, "SESSION_BOUND_STREAMS": True}
ALICE, MALLORY = "alice0123456789abcdefghijklmnop", "mallory0123456789abcdefghijklmn"


@pytest.fixture(scope="module", params=SERVERS)
def guarded(request: pytest.FixtureRequest) -> Iterator[LiveServer]:
    """A server whose names expire after MAX_AGE seconds and are bound to a session."""
    with live_server(request.param, settings=GUARDED) as running:
        yield running


def page_name(*parts: Any, session_key: str | None) -> str:
    """The name a page rendered now, for ``session_key``, would carry."""
    with override_settings(TURBO_CABLE=GUARDED):
        return signed_stream_name(*parts, session_key=session_key)


@pytest.fixture
async def cable() -> AsyncIterator[InProcessCable]:
    async with in_process_cable(**GUARDED) as running:
        yield running


async def subscribe(cable: InProcessCable, wire: str, session_key: str | None) -> dict[str, Any]:
    headers = {"Cookie": f"csrftoken=x; sessionid={session_key}"} if session_key else {}
    async with await cable.connect(headers=headers) as client:
        return await client.subscribe(wire)


def reject(wire: str, reason: str) -> dict[str, Any]:
    return {"type": "reject", "stream": wire, "reason": reason}


async def test_a_name_is_accepted_while_young_and_expired_after_the_max_age(
    cable: InProcessCable,
) -> None:
    signed_at = int(time.time())  # what the signature records: whole seconds
    wire = page_name("ageing", session_key=ALICE)
    assert (await subscribe(cable, wire, ALICE))["type"] == "subscribed"
    await asyncio.sleep(signed_at + MAX_AGE + 0.2 - time.time())  # the page grows old
    assert await subscribe(cable, wire, ALICE) == reject(wire, "expired")
    fresh = page_name("ageing", session_key=ALICE)  # what a refreshed page carries
    assert (await subscribe(cable, fresh, ALICE))["type"] == "subscribed"


async def test_a_name_rendered_before_the_settings_were_on_is_expired_not_forged(
    cable: InProcessCable,
) -> None:
    with override_settings(TURBO_CABLE={}):  # default settings: no age, no session
        before = signed_stream_name("rolled-out")
    assert await subscribe(cable, before, ALICE) == reject(before, "expired")
    forged = before.replace("rolled-out", "rolled-in")
    assert await subscribe(cable, forged, ALICE) == reject(forged, "invalid stream signature")


async def test_a_session_bound_name_subscribes_only_with_its_sessions_cookie(
    cable: InProcessCable,
) -> None:
    wire = page_name("inbox", session_key=ALICE)
    assert (await subscribe(cable, wire, ALICE))["type"] == "subscribed"
    for holder in (None, MALLORY):  # copied into a cookie-less client, or another session
        assert await subscribe(cable, wire, holder) == reject(wire, "invalid stream signature")


async def test_a_name_rendered_without_a_session_is_refused_to_a_client_with_one(
    cable: InProcessCable,
) -> None:
    wire = page_name("news", session_key=None)
    assert (await subscribe(cable, wire, None))["type"] == "subscribed"
    assert await subscribe(cable, wire, MALLORY) == reject(wire, "invalid stream signature")


async def test_a_bound_name_still_receives_what_is_broadcast(guarded: LiveServer) -> None:
    wire = page_name("delivered", session_key=ALICE)
    cookie = {"Cookie": f"sessionid={ALICE}"}
    async with await CableClient.connect(guarded.cable_url, additional_headers=cookie) as client:
        assert (await client.subscribe(wire))["type"] == "subscribed"
        assert guarded.broadcast("delivered", "hello")[0] == 200
        assert (await client.receive())["data"] == "hello"
