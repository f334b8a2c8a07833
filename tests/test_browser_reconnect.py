"""The page gets its streams back after the server restarts, or was not there at first."""

from __future__ import annotations

import asyncio

import pytest
from playwright.async_api import Browser, Route

from tests.browser_support import OpenTab, Tab
from tests.servers import LiveServer, free_port, live_server

pytestmark = [pytest.mark.browser, pytest.mark.asyncio(loop_scope="session")]

QUICK_PINGS = {"PING_INTERVAL": 1, "IDLE_TIMEOUT": 2.5}


def update_box(text: str) -> str:
    return f'<turbo-stream action="update" target="box"><template>{text}</template></turbo-stream>'


async def receives(tab: Tab, server: LiveServer, stream: str, text: str) -> None:
    assert server.broadcast(stream, update_box(text)) == (200, {"recipients": 1})
    await tab.wait_for_text("#box", text)


@pytest.mark.parametrize("kind", ["uvicorn", "daphne"])
async def test_after_a_server_restart_the_page_reconnects_and_receives_again(
    kind: str, open_tab: OpenTab
) -> None:
    server = LiveServer(kind, settings=QUICK_PINGS)
    try:
        tab = await open_tab(f"{server.http_url}/browser/page/?streams=a,b", wait_connected=2)
        await receives(tab, server, "a", "before the restart")
        await tab.page.evaluate(
            """window.resyncs = []
            document.addEventListener("turbo-cable:resync", e => resyncs.push(e.detail.stream))"""
        )
        server.stop()
        await tab.wait_disconnected()
        server = LiveServer(kind, settings=QUICK_PINGS, port=server.port)
        await tab.wait_connected(2)
        await receives(tab, server, "a", "after the restart")
        await receives(tab, server, "b", "on every stream")
        # The new process has no history of these streams: the page is told so.
        assert sorted(await tab.page.evaluate("window.resyncs")) == ["a", "b"]
    finally:
        server.stop()


async def test_a_refused_first_connection_is_retried_until_the_cable_is_up(
    open_tab: OpenTab,
) -> None:
    cable_port = free_port()
    settings = {**QUICK_PINGS, "CABLE_URL": f"ws://127.0.0.1:{cable_port}/cable"}
    with live_server("uvicorn", settings=settings) as pages:
        tab = await open_tab(f"{pages.http_url}/browser/page/?streams=late")
        await tab.page.wait_for_function("() => TurboCable.cable.attempts >= 2")
        assert await tab.page.locator("turbo-cable-stream[connected]").count() == 0
        # Another port is another origin: the cable must name the pages' (deployment.rst).
        cable_settings = {**QUICK_PINGS, "ALLOWED_ORIGINS": [pages.http_url]}
        with live_server("uvicorn", settings=cable_settings, port=cable_port) as cable:
            await tab.wait_connected(1)
            await receives(tab, cable, "late", "connected at last")


async def test_a_silent_socket_is_abandoned_and_coming_online_reconnects_at_once(
    open_tab: OpenTab,
) -> None:
    with live_server("uvicorn", settings=QUICK_PINGS) as server:
        tab = await open_tab(f"{server.http_url}/browser/page/?streams=net", wait_connected=1)
        context = tab.page.context
        await context.set_offline(True)  # frames stop flowing; the socket does not close
        # Two ping intervals without a frame: the client gives the socket up by itself.
        await tab.wait_disconnected()
        # Push the next retry far away, so only the "online" event can explain a quick return.
        await tab.page.evaluate("TurboCable.cable.attempts = 8")
        await tab.page.wait_for_function("() => TurboCable.cable.attempts >= 9")
        await context.set_offline(False)
        await tab.wait_connected(1, timeout=5000)  # the next retry was 15 s or more away
        await receives(tab, server, "net", "back online")


async def test_a_tab_becoming_visible_reconnects_at_once(open_tab: OpenTab) -> None:
    server = LiveServer("uvicorn", settings=QUICK_PINGS)
    try:
        tab = await open_tab(f"{server.http_url}/browser/page/?streams=seen", wait_connected=1)
        await tab.page.evaluate("TurboCable.cable.attempts = 8")
        server.stop()
        await tab.wait_disconnected()
        server = LiveServer("uvicorn", settings=QUICK_PINGS, port=server.port)
        await tab.page.evaluate("document.dispatchEvent(new Event('visibilitychange'))")
        await tab.wait_connected(1, timeout=5000)  # the next retry was 15 s or more away
        await receives(tab, server, "seen", "visible again")
    finally:
        server.stop()


async def test_messages_sent_while_the_page_was_offline_are_replayed_in_order(
    open_tab: OpenTab,
) -> None:
    with live_server("uvicorn", settings=QUICK_PINGS) as server:
        tab = await open_tab(f"{server.http_url}/browser/page/?streams=gap", wait_connected=1)
        server.broadcast("gap", turbo_stream_append("seen before"))
        await tab.wait_for_text("#messages", "seen before")
        await tab.page.context.set_offline(True)
        await tab.wait_disconnected()
        for n in range(1, 6):
            assert server.broadcast("gap", turbo_stream_append(f"missed {n}"))[0] == 200
        await tab.page.context.set_offline(False)
        await tab.wait_for_text("#messages", "missed 5")
        assert await tab.texts("#messages p") == [
            "seen before",
            *(f"missed {n}" for n in range(1, 6)),
        ]


async def test_a_message_sent_after_the_page_rendered_but_before_it_subscribed_is_replayed(
    browser: Browser,
) -> None:
    with live_server("uvicorn", settings=QUICK_PINGS) as server:
        context = await browser.new_context()
        try:
            page = await context.new_page()
            rendered = asyncio.Event()
            release = asyncio.Event()

            async def hold_the_client(route: Route) -> None:
                rendered.set()
                await release.wait()
                await route.continue_()

            await page.route("**/turbo_streams_controller.js", hold_the_client)
            loading = asyncio.create_task(
                page.goto(f"{server.http_url}/browser/page/?streams=early")
            )
            await rendered.wait()  # the page is rendered; its client is not running yet
            server.broadcast("early", turbo_stream_append("sent before subscribing"))
            release.set()
            await loading
            await page.wait_for_selector("turbo-cable-stream[connected]", state="attached")
            await page.wait_for_function(
                "() => document.getElementById('messages').textContent.includes('sent before')"
            )
        finally:
            await context.close()


def turbo_stream_append(text: str) -> str:
    return (
        '<turbo-stream action="append" target="messages">'
        f"<template><p>{text}</p></template></turbo-stream>"
    )


@pytest.mark.parametrize("kind", ["uvicorn", "daphne"])
async def test_a_full_cable_makes_the_page_wait_before_it_tries_again(
    kind: str, open_tab: OpenTab
) -> None:
    with live_server(kind, settings={"MAX_CONNECTIONS": 1}) as server:
        first = await open_tab(f"{server.http_url}/browser/page/?streams=a", wait_connected=1)
        second = await open_tab(f"{server.http_url}/browser/page/?streams=a")
        await second.page.wait_for_function(
            "() => TurboCable.cable.attempts >= 7 && TurboCable.cable.reconnectTimer"
        )
        assert "turbo-cable: the cable is full; trying again later" in second.messages("warning")
        # Backing off, it left the first page's socket alone.
        await receives(first, server, "a", "still here")


@pytest.mark.parametrize(
    ("kind", "settings", "code"),
    [
        ("uvicorn", {}, 1012),
        ("uvicorn", {"EXIT_SIGNAL_HANDLERS": True}, 1001),
        ("daphne", {"EXIT_SIGNAL_HANDLERS": True}, 4001),
    ],
)
async def test_a_server_restart_close_code_makes_the_client_try_again_at_once(
    kind: str, settings: dict[str, object], code: int, open_tab: OpenTab
) -> None:
    cable_port = free_port()
    page_settings = {**QUICK_PINGS, "CABLE_URL": f"ws://127.0.0.1:{cable_port}/cable"}
    with live_server("uvicorn", settings=page_settings) as pages:
        cable = LiveServer(
            kind,
            settings={**QUICK_PINGS, **settings, "ALLOWED_ORIGINS": [pages.http_url]},
            port=cable_port,
        )
        try:
            tab = await open_tab(f"{pages.http_url}/browser/page/?streams=restart")
            await tab.wait_connected(1)
            await tab.page.evaluate(
                """window.closeCodes = []
                window.opened = 0
                const Original = WebSocket
                window.WebSocket = class extends Original {
                  constructor(...args) { super(...args); window.opened += 1 }
                }
                TurboCable.cable.socket.addEventListener("close", e => closeCodes.push(e.code))
                TurboCable.cable.attempts = 8  // a back-off would wait 32 s or more"""
            )
        finally:
            cable.stop()
        await tab.page.wait_for_function("() => window.closeCodes.length === 1")
        assert await tab.page.evaluate("window.closeCodes") == [code]
        # Not the 32 s back-off: a new socket was opened straight away.
        await tab.page.wait_for_function("() => window.opened >= 1", timeout=2000)
