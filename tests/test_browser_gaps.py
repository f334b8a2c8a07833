"""A page never applies a message that shows a gap; it subscribes again from where it was.

The page's cable runs through a relay in the browser that can drop or alter one
frame from the real server, as a lost pub/sub message or a Redis restart would.
"""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
import pytest_asyncio
from playwright.async_api import Browser, Page, WebSocketRoute

from tests.browser_support import TIMEOUT_MS
from tests.servers import LiveServer, live_server

pytestmark = [pytest.mark.browser, pytest.mark.asyncio(loop_scope="session")]

Frame = dict[str, Any]
Alter = Callable[[Frame], Frame | None]  # None: the frame never reaches the page


def append(text: str) -> str:
    return (
        '<turbo-stream action="append" target="messages">'
        f"<template><p>{text}</p></template></turbo-stream>"
    )


class Relay:
    """Carries the cable between page and server; ``alter`` sees each live message once."""

    def __init__(self, alter: Alter, before_subscribing: Callable[[], None] | None = None) -> None:
        self.alter = alter
        self.before_subscribing = before_subscribing  # runs once, before the first subscribe
        self.from_page: list[Frame] = []
        self.altered: set[str] = set()

    async def route(self, page_side: WebSocketRoute) -> None:
        server_side = page_side.connect_to_server()

        def from_page(message: str | bytes) -> None:
            self.from_page.append(json.loads(message))
            if self.before_subscribing is not None and self.from_page[-1]["type"] == "subscribe":
                self.before_subscribing()
                self.before_subscribing = None
            server_side.send(message)

        def from_server(message: str | bytes) -> None:
            frame = json.loads(message)
            key = f"{frame.get('epoch')}:{frame.get('offset')}"
            if frame["type"] != "message" or key in self.altered:
                page_side.send(message)
                return
            self.altered.add(key)  # replayed later, it passes unchanged
            altered = self.alter(frame)
            if altered is not None:
                page_side.send(json.dumps(altered))

        page_side.on_message(from_page)
        server_side.on_message(from_server)

    def subscribes(self) -> list[Frame]:
        return [frame for frame in self.from_page if frame["type"] != "pong"]


@pytest_asyncio.fixture(loop_scope="session")
async def page(browser: Browser) -> AsyncIterator[Page]:
    context = await browser.new_context()
    context.set_default_timeout(TIMEOUT_MS)
    try:
        yield await context.new_page()
    finally:
        await context.close()


async def open_through(page: Page, server: LiveServer, alter: Alter) -> Relay:
    relay = Relay(alter)
    await page.route_web_socket(re.compile(r".*/cable$"), relay.route)
    await page.goto(f"{server.http_url}/browser/page/?streams=gappy")
    await page.wait_for_selector("turbo-cable-stream[connected]", state="attached")
    return relay


async def shown(page: Page, server: LiveServer, text: str, stream: str = "gappy") -> None:
    assert server.broadcast(stream, append(text))[0] == 200
    await page.wait_for_function(
        "text => document.getElementById('messages').textContent.includes(text)", arg=text
    )


async def test_a_message_that_skips_an_offset_makes_the_page_subscribe_again_from_its_position(
    page: Page,
) -> None:
    def lose_two(frame: Frame) -> Frame | None:
        return None if "two" in frame["data"] else frame

    with live_server("uvicorn") as server:
        relay = await open_through(page, server, lose_two)
        await shown(page, server, "one")
        assert server.broadcast("gappy", append("two"))[0] == 200  # lost on the way
        await shown(page, server, "three")
        texts = await page.locator("#messages p").all_inner_texts()
    assert texts == ["one", "two", "three"]  # "three" waited for the replay of "two"
    first, leave, again = relay.subscribes()
    assert leave == {"type": "unsubscribe", "stream": first["stream"]}
    assert again["type"] == "subscribe"
    assert again["offset"] == 1  # where "one" left the page
    assert again["epoch"]


async def test_a_message_from_another_epoch_is_not_applied_until_the_server_confirms_it(
    page: Page,
) -> None:
    epochs: list[str] = []

    def change_epoch(frame: Frame) -> Frame:
        epochs.append(frame["epoch"])
        return {**frame, "epoch": "another"} if "changed" in frame["data"] else frame

    with live_server("uvicorn") as server:
        relay = await open_through(page, server, change_epoch)
        await shown(page, server, "before")
        await shown(page, server, "changed")
        texts = await page.locator("#messages p").all_inner_texts()
    assert texts == ["before", "changed"]  # once: the replay, not the altered frame
    _first, leave, again = relay.subscribes()
    assert leave["type"] == "unsubscribe"
    assert (again["type"], again["epoch"], again["offset"]) == ("subscribe", epochs[0], 1)


async def test_a_page_rendered_before_a_streams_first_message_gets_it_though_it_came_first(
    page: Page,
) -> None:
    with live_server("uvicorn") as server:

        def broadcast_first() -> None:
            assert server.broadcast("fresh", append("first"))[0] == 200

        relay = Relay(lambda frame: frame, before_subscribing=broadcast_first)
        await page.route_web_socket(re.compile(r".*/cable$"), relay.route)
        await page.goto(f"{server.http_url}/browser/page/?streams=fresh")
        await page.wait_for_selector("#messages p")
        await shown(page, server, "second", stream="fresh")  # live, after the replayed one
        texts = await page.locator("#messages p").all_inner_texts()
    assert texts == ["first", "second"]
    subscribe = relay.subscribes()[0]
    assert (subscribe["epoch"], subscribe["offset"]) == ("", 0)  # rendered before the history
