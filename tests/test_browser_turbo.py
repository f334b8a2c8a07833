"""The client alongside Turbo Drive, Turbo Frames, morphing refreshes and Stimulus."""

from __future__ import annotations

import asyncio
import contextlib
import threading
import time
from collections.abc import Iterator

import pytest
from playwright.async_api import TimeoutError as PlaywrightTimeout

from tests.browser_support import OpenTab, Tab
from tests.servers import LiveServer, live_server

pytestmark = [pytest.mark.browser, pytest.mark.asyncio(loop_scope="session")]


@pytest.fixture(scope="module")
def uvicorn() -> Iterator[LiveServer]:
    with live_server("uvicorn") as running:
        yield running


def log_entry(n: int) -> str:
    return (
        '<turbo-stream action="append" target="log">'
        f'<template><p class="entry">{n}</p></template></turbo-stream>'
    )


async def navigate(tab: Tab, link: str, title: str) -> None:
    """Follow a link and wait until Turbo has finished the visit, not only shown a preview.

    A cached page's preview already carries its title while the visit still fetches. A
    click then cancels that fetch, and Turbo 8 lets an abort in the middle of the body
    escape as an uncaught error ("signal is aborted without reason")."""
    await tab.page.click(link)
    await tab.page.wait_for_function(
        "title => document.title === title && !document.documentElement.hasAttribute('aria-busy')",
        arg=title,
    )


async def test_turbo_drive_visits_between_pages_on_one_stream_lose_no_message(
    uvicorn: LiveServer, open_tab: OpenTab
) -> None:
    tab = await open_tab(f"{uvicorn.http_url}/browser/nav/a/", wait_connected=1)
    await tab.page.evaluate("window.sameWindow = true; window.socket = TurboCable.cable.socket")
    subscribes = uvicorn.output().count("subscribes to 'nav'")
    assert subscribes >= 1  # the server logs each subscription
    navigating = threading.Event()
    sent: list[int] = []

    def broadcast_until_done() -> None:
        while navigating.is_set() or not sent:
            sent.append(len(sent) + 1)
            uvicorn.broadcast("nav", log_entry(len(sent)))
            time.sleep(0.01)

    navigating.set()
    sending = asyncio.create_task(asyncio.to_thread(broadcast_until_done))
    try:
        await tab.wait_for_text("#log .entry", "1")
        for link, title in [("#to-b", "page b"), ("#to-a", "page a"), ("#to-b", "page b")]:
            await navigate(tab, link, title)
    finally:
        navigating.clear()
        await sending

    expected = [str(n) for n in sent]
    with contextlib.suppress(PlaywrightTimeout):  # the comparison below shows what is missing
        await tab.page.wait_for_function(
            "n => document.querySelectorAll('.entry').length >= n", arg=len(expected), timeout=5000
        )
    assert await tab.texts("#log .entry") == expected
    # Turbo Drive swapped the bodies under one socket.
    assert await tab.page.evaluate("window.sameWindow && TurboCable.cable.socket === window.socket")


def board_entry(n: int) -> str:
    return (
        '<turbo-stream action="append" target="board">'
        f'<template><p class="item">{n}</p></template></turbo-stream>'
    )


async def test_a_page_rendered_before_messages_that_overtook_it_gets_them_replayed(
    uvicorn: LiveServer, open_tab: OpenTab
) -> None:
    """A form's redirect renders the next page; a message sent meanwhile reaches the old
    page first. The new page must not lose it, and what Turbo carries over from the old
    page (data-turbo-permanent) must not get it twice."""
    tab = await open_tab(f"{uvicorn.http_url}/browser/nav/a/", wait_connected=1)
    await tab.page.context.add_cookies([{"name": "late", "value": "2", "url": uvicorn.http_url}])
    rendered = uvicorn.output().count("rendered page b, delivering it late")
    await tab.page.click("#to-b")
    deadline = time.monotonic() + 10
    while uvicorn.output().count("rendered page b, delivering it late") == rendered:
        assert time.monotonic() < deadline, "page b was never rendered"
        await asyncio.sleep(0.05)
    uvicorn.broadcast("nav", board_entry(1) + log_entry(1))
    await tab.wait_for_text("#log .entry", "1")  # applied to page a, still on screen
    await tab.page.wait_for_function("() => document.title === 'page b'")
    await tab.wait_for_text("#board .item", "1")
    assert await tab.texts("#board .item") == ["1"]
    assert await tab.texts("#log .entry") == ["1"]


async def test_leaving_every_page_on_a_stream_unsubscribes_and_returning_resubscribes(
    uvicorn: LiveServer, open_tab: OpenTab
) -> None:
    tab = await open_tab(f"{uvicorn.http_url}/browser/nav/a/", wait_connected=1)
    await navigate(tab, "#to-c", "page c")
    for _ in range(100):
        if uvicorn.broadcast("nav", log_entry(1))[1] == {"recipients": 0}:
            break
        await asyncio.sleep(0.05)
    assert uvicorn.broadcast("nav", log_entry(1))[1] == {"recipients": 0}
    assert await tab.page.evaluate("TurboCable.cable.socket") is None  # no stream, no socket

    await tab.page.go_back()  # a restoration visit from Turbo's cache
    await tab.page.wait_for_function("() => document.title === 'page a'")
    await tab.wait_connected(1)
    uvicorn.broadcast("nav", log_entry(2))
    await tab.wait_for_text("#log", "2")


async def test_a_marker_in_a_turbo_frame_subscribes_when_the_frame_loads(
    uvicorn: LiveServer, open_tab: OpenTab
) -> None:
    tab = await open_tab(f"{uvicorn.http_url}/browser/page/?streams=page&turbo=1", wait_connected=1)
    await tab.page.evaluate("document.getElementById('frame').src = '/browser/frame/'")
    await tab.wait_connected(2)
    uvicorn.broadcast(
        "framed",
        '<turbo-stream action="update" target="frame-box"><template>live</template></turbo-stream>',
    )
    await tab.wait_for_text("#frame-box", "live")


async def test_a_morphing_refresh_keeps_the_page_subscribed(
    uvicorn: LiveServer, open_tab: OpenTab
) -> None:
    tab = await open_tab(
        f"{uvicorn.http_url}/browser/page/?streams=morphed&turbo=1&morph=1", wait_connected=1
    )
    await tab.page.evaluate("window.sameWindow = true")
    await tab.page.evaluate("document.getElementById('messages').textContent = 'local only'")

    uvicorn.broadcast("morphed", '<turbo-stream action="refresh"></turbo-stream>')

    await tab.page.wait_for_function("() => !document.body.textContent.includes('local only')")
    assert await tab.page.evaluate("window.sameWindow")
    await tab.wait_connected(1)
    uvicorn.broadcast(
        "morphed",
        '<turbo-stream action="append" target="messages"><template>after</template></turbo-stream>',
    )
    await tab.wait_for_text("#messages", "after")


async def test_with_stimulus_the_turbo_streams_controller_connects_to_the_body(
    uvicorn: LiveServer, open_tab: OpenTab
) -> None:
    tab = await open_tab(
        f"{uvicorn.http_url}/browser/page/?streams=stim&stimulus=1", wait_connected=1
    )
    await tab.page.wait_for_function(
        "() => window.Stimulus?.getControllerForElementAndIdentifier("
        "document.body, 'turbo-streams') != null"
    )
    uvicorn.broadcast(
        "stim",
        '<turbo-stream action="update" target="box"><template>stimulated</template></turbo-stream>',
    )
    await tab.wait_for_text("#box", "stimulated")
    assert tab.messages("error") == []


async def test_a_turbo_preview_of_a_cached_page_starts_no_subscription(
    uvicorn: LiveServer, open_tab: OpenTab
) -> None:
    tab = await open_tab(f"{uvicorn.http_url}/browser/nav/a/", wait_connected=1)
    await navigate(tab, "#to-c", "page c")
    await tab.page.wait_for_function("() => TurboCable.cable.socket === null")
    subscribes = uvicorn.output().count("subscribes to 'nav'")
    assert subscribes >= 1
    await tab.page.evaluate("document.cookie = 'slow=1.5; path=/'")

    await tab.page.click("#to-a")  # page a is in Turbo's cache: a preview shows first
    await tab.page.wait_for_selector(
        "html[data-turbo-preview] turbo-cable-stream", state="attached"
    )
    await asyncio.sleep(0.5)
    assert await tab.page.evaluate("document.documentElement.hasAttribute('data-turbo-preview')")
    assert await tab.page.evaluate("TurboCable.cable.subscriptions.size") == 0
    assert uvicorn.output().count("subscribes to 'nav'") == subscribes

    await tab.wait_connected(1)  # the real page, once it arrives, subscribes
    assert not await tab.page.evaluate(
        "document.documentElement.hasAttribute('data-turbo-preview')"
    )
