"""The Channels tutorial's chat, ported as docs/migrating.rst says, live in Chromium.

No consumer and no channel layer: the room page renders
``{% turbo_stream_from "chat" room_name %}``, the form posts to a view that
calls ``broadcast_append_to("chat", room_name, ...)`` and answers Turbo with a
``TurboStreamResponse`` that resets the form. Served by daphne's ``runserver``,
as in the tutorial.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.browser_support import OpenTab, Tab
from tests.servers import LiveServer, live_server

pytestmark = [pytest.mark.browser, pytest.mark.asyncio(loop_scope="session")]


@pytest.fixture(scope="module")
def runserver() -> Iterator[LiveServer]:
    with live_server("runserver") as running:
        yield running


async def say(tab: Tab, text: str) -> None:
    """Type a message and press Enter, as the tutorial's page is used."""
    await tab.page.fill("#chat-message-input", text)
    await tab.page.press("#chat-message-input", "Enter")
    await tab.wait_for_text("#chat-log", text)
    # The view's Turbo Stream answer replaced the form with an empty one.
    await tab.page.wait_for_function(
        "() => document.querySelector('#chat-message-input').value === ''"
    )


async def test_the_index_page_takes_you_to_the_room_you_type(
    runserver: LiveServer, open_tab: OpenTab
) -> None:
    tab = await open_tab(f"{runserver.http_url}/chat/")
    await tab.page.fill("#room-name-input", "lobby")
    await tab.page.press("#room-name-input", "Enter")
    await tab.page.wait_for_url(f"{runserver.http_url}/chat/lobby/")
    await tab.wait_connected(1)


async def test_messages_reach_everyone_in_the_room_in_order_and_no_other_room(
    runserver: LiveServer, open_tab: OpenTab
) -> None:
    alice = await open_tab(f"{runserver.http_url}/chat/lobby/", wait_connected=1)
    bob = await open_tab(f"{runserver.http_url}/chat/lobby/", wait_connected=1)
    carol = await open_tab(f"{runserver.http_url}/chat/kitchen/", wait_connected=1)

    await say(alice, "hello")
    await say(bob, "hi alice")
    await say(alice, "<b>not bold</b> & fine")
    await say(carol, "in the kitchen")
    await say(bob, "last in the lobby")

    lobby = ["hello", "hi alice", "<b>not bold</b> & fine", "last in the lobby"]
    await alice.wait_for_text("#chat-log", "last in the lobby")
    for tab in (alice, bob):
        assert await tab.texts("#chat-log .chat-message") == lobby
        assert await tab.page.locator("#chat-log b").count() == 0  # escaped, not rendered
    assert await carol.texts("#chat-log .chat-message") == ["in the kitchen"]
    for tab in (alice, bob, carol):
        assert tab.messages("error") == []
