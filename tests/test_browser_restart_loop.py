"""A server that closes every socket with a restart code at once cannot make the client spin.

The client reconnects at once after a restart close, but only once in a row
unless the socket had been open a while (``STEADY_AFTER``, 5 s, in the client);
otherwise it backs off as after any other close.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from urllib.parse import quote

import pytest
import pytest_asyncio
from playwright.async_api import Browser, Page

from tests.browser_support import TIMEOUT_MS
from tests.servers import LiveServer, live_server

pytestmark = [pytest.mark.browser, pytest.mark.asyncio(loop_scope="session")]

# Every socket the page opens, and whether the client opened the next one in the
# same task as this one's close event (no back-off timer in between).
RECORD_SOCKETS = """
window.sockets = []
const Original = window.WebSocket
window.WebSocket = class extends Original {
  constructor(...args) {
    super(...args)
    const record = { opened: false, code: null, reconnectedAtOnce: null }
    const index = window.sockets.push(record) - 1
    this.addEventListener("open", () => { record.opened = true })
    this.addEventListener("close", (event) => {
      record.code = event.code
      setTimeout(() => { record.reconnectedAtOnce = window.sockets.length > index + 1 }, 0)
    })
  }
}
"""
STEADY_AFTER = 5.0  # seconds, as in the client


@pytest.fixture(scope="module")
def servers() -> Iterator[tuple[LiveServer, LiveServer]]:
    """The closing server, and the test project serving the page that opens it."""
    with (
        live_server("uvicorn", app="tests.closing_asgi:application") as cable,
        live_server("uvicorn") as pages,
    ):
        yield cable, pages


@pytest_asyncio.fixture(loop_scope="session")
async def page_on(
    browser: Browser, servers: tuple[LiveServer, LiveServer]
) -> AsyncIterator[Callable[[float], Awaitable[Page]]]:
    """Opens a page whose cable closes each socket with 1012 after ``hold`` seconds."""
    cable, pages = servers
    contexts = []

    async def open_page(hold: float) -> Page:
        context = await browser.new_context()
        context.set_default_timeout(TIMEOUT_MS)
        contexts.append(context)
        await context.add_init_script(RECORD_SOCKETS)
        page = await context.new_page()
        # The Rails engine's markers name the cable in a <meta>, so each page picks its own.
        cable_url = quote(f"{cable.cable_url}?code=1012&hold={hold}")
        await page.goto(f"{pages.http_url}/browser/rails/?streams=loop&cable={cable_url}")
        return page

    try:
        yield open_page
    finally:
        for context in contexts:
            await context.close()


async def test_sockets_closed_at_once_get_the_back_off_after_one_quick_retry(
    page_on: Callable[[float], Awaitable[Page]],
) -> None:
    page = await page_on(0)
    await page.wait_for_function("() => window.sockets.some(s => s.opened)")
    await asyncio.sleep(4)  # the window the handshakes are counted in
    sockets = await page.evaluate("window.sockets")
    opened = [s for s in sockets if s["opened"]]
    # At once, then 125-250 ms, 250-500, 0.5-1 s, 1-2 s, 2-4 s: 5 to 7 in 4 s.
    # Without the guard every close reconnected at once: hundreds of handshakes.
    assert 3 <= len(opened) <= 8, sockets
    closed = [s for s in opened if s["reconnectedAtOnce"] is not None]
    assert {s["code"] for s in closed} == {1012}
    assert [s["reconnectedAtOnce"] for s in closed[:3]] == [True, False, False]
    assert not any(s["reconnectedAtOnce"] for s in closed[1:]), sockets


async def test_a_socket_that_was_open_a_while_is_reconnected_at_once_every_time(
    page_on: Callable[[float], Awaitable[Page]],
) -> None:
    page = await page_on(STEADY_AFTER + 1)  # a margin for a slow handshake
    await page.wait_for_function(
        "() => window.sockets.filter(s => s.reconnectedAtOnce !== null).length >= 2",
        timeout=(2 * STEADY_AFTER + 8) * 1000,
    )
    sockets = await page.evaluate("window.sockets")
    closed = [s for s in sockets if s["reconnectedAtOnce"] is not None]
    assert [(s["code"], s["reconnectedAtOnce"]) for s in closed[:2]] == [(1012, True)] * 2
