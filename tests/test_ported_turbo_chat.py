"""turbo-django's chat experiment, ported as docs/migrating.rst says, live in Chromium.

``Broadcastable`` declarations replace its ``ModelStream``s (``Room.broadcasts``,
``Message.broadcasts_to = "room"``), templates use the default DOM ids
(``message_<pk>`` in ``#messages``), frame views answer with ``render``, and
the room page subscribes with one tag per stream: the room's, and the room list's
(what ``{% turbo_subscribe room "rooms" %}`` would have said).
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest

from tests.browser_support import OpenTab, Tab
from tests.servers import LiveServer, live_server
from tests.test_broadcast_full_path import migrated_database

pytestmark = [pytest.mark.browser, pytest.mark.asyncio(loop_scope="session")]


@pytest.fixture(scope="module")
def uvicorn(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    database = migrated_database(tmp_path_factory.mktemp("turbo-chat"))
    with live_server("uvicorn", env={"TURBO_CABLE_TEST_DB": database}) as running:
        yield running


async def add_room(tab: Tab, name: str) -> None:
    await tab.page.fill("#create-room-form input[name=name]", name)
    await tab.page.click("#create-room-form input[type=submit]")
    await tab.wait_for_text("#rooms", name)


async def enter_room(tab: Tab, name: str) -> None:
    await tab.page.click(f"#rooms a:text-is('{name}')")
    await tab.page.wait_for_selector(f"h1:text-is('{name}')")
    await tab.wait_connected(2)  # the room's stream and the room list's
    await tab.page.wait_for_selector("#send-message input[name=text]")


async def send(tab: Tab, text: str) -> None:
    """Submit the frame's form; the frame comes back with an empty message form."""
    await tab.page.fill("#send-message input[name=text]", text)
    await tab.page.click("#send-message input[type=submit]")
    await tab.page.wait_for_function(
        "() => document.querySelector('#send-message input[name=text]')?.value === ''"
    )


async def test_rooms_and_messages_reach_the_other_tab(
    uvicorn: LiveServer, open_tab: OpenTab
) -> None:
    home = f"{uvicorn.http_url}/turbo-chat/"
    alice = await open_tab(home, wait_connected=1)
    bob = await open_tab(home, wait_connected=1)

    # A room created in one tab appears in the other's list (Room.broadcasts).
    await add_room(alice, "lobby")
    await bob.wait_for_text("#rooms", "lobby")
    # The form's own response empties it; the broadcast may have come first.
    await alice.page.wait_for_function(
        "() => document.querySelector('#create-room-form input[name=name]').value === ''"
    )
    await enter_room(alice, "lobby")
    await enter_room(bob, "lobby")

    # The room page's second stream: a room created elsewhere reaches its list.
    carol = await open_tab(home, wait_connected=1)
    await add_room(carol, "kitchen")
    await alice.wait_for_text("#rooms", "kitchen")

    # Create (Message.broadcasts_to = "room": append to #messages).
    await send(alice, "hello")
    await bob.wait_for_text("#messages .text", "hello")
    item = bob.page.locator("#messages li")
    message_id = await item.get_attribute("id")
    assert re.fullmatch(r"message_\d+", message_id or ""), message_id
    assert await alice.page.locator(f"#{message_id}").count() == 1

    # Update: the edit form loads into the same frame; replace #message_<pk>.
    await bob.page.click(f"#{message_id} a:text-is('[Edit]')")
    await bob.page.wait_for_function(
        "() => document.querySelector('#send-message input[name=text]')?.value === 'hello'"
    )
    await send(bob, "hello, edited")
    await alice.wait_for_text(f"#{message_id} .text", "hello, edited")
    await bob.wait_for_text(f"#{message_id} .text", "hello, edited")

    # Delete: a button of the broadcast partial submits the page's form; remove #message_<pk>.
    await alice.page.click(f"#{message_id} button")
    for tab in (alice, bob):
        await tab.page.wait_for_selector(f"#{message_id}", state="detached")
        assert await tab.page.locator("#messages li").count() == 0

    assert await carol.texts("#messages li") == []  # the room list page has no messages
    for tab in (alice, bob, carol):
        assert tab.messages("error") == []
