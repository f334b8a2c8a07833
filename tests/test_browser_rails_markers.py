"""The bundled client reads the Rails engine's markers: data-streams divs and action-cable-url."""

from __future__ import annotations

import pytest

from tests.browser_support import OpenTab, Tab
from tests.servers import LiveServer, live_server

pytestmark = [pytest.mark.browser, pytest.mark.asyncio(loop_scope="session")]

UNSIGNED = {"SIGNED_STREAMS": False}


def append(text: str) -> str:
    template = f"<template><p>{text}</p></template>"
    return f'<turbo-stream action="append" target="list">{template}</turbo-stream>'


async def receives(tab: Tab, server: LiveServer, stream: str, text: str) -> None:
    assert server.broadcast(stream, append(text)) == (200, {"recipients": 1})
    await tab.wait_for_text("#list", text)


async def test_a_rails_marker_subscribes_to_every_stream_it_names(open_tab: OpenTab) -> None:
    with live_server("uvicorn", settings=UNSIGNED) as server:
        tab = await open_tab(f"{server.http_url}/browser/rails/?streams=room:1, alerts")
        await tab.wait_connected(2)
        await receives(tab, server, "room:1", "to the room")
        await receives(tab, server, "alerts", "to the alerts")


async def test_a_rails_marker_added_later_subscribes_and_removed_unsubscribes(
    open_tab: OpenTab,
) -> None:
    with live_server("uvicorn", settings=UNSIGNED) as server:
        tab = await open_tab(f"{server.http_url}/browser/rails/?streams=first")
        await tab.wait_connected(1)
        await tab.page.evaluate(
            """const div = document.createElement("div")
            div.id = "late"
            div.dataset.turboStream = "true"
            div.dataset.streams = "later"
            document.body.append(div)"""
        )
        await tab.wait_connected(2)
        await receives(tab, server, "later", "to a marker added by script")
        await tab.page.evaluate("document.getElementById('late').remove()")
        # Dropped after the release delay: the server no longer counts the page.
        await tab.page.wait_for_function(
            "() => !document.querySelector('#late') && TurboCable.cable.subscriptions.size === 1"
        )
        # One more subscription on the same socket: once it is confirmed, the server
        # has handled the unsubscribe sent before it.
        await tab.page.evaluate(
            "document.body.insertAdjacentHTML('beforeend', "
            '\'<div data-turbo-stream="true" data-streams="barrier"></div>\')'
        )
        await tab.wait_connected(2)
        assert server.broadcast("later", append("gone")) == (200, {"recipients": 0})
        assert server.broadcast("first", append("still here")) == (200, {"recipients": 1})
        await tab.wait_for_text("#list", "still here")


async def test_the_action_cable_url_meta_names_the_cable(open_tab: OpenTab) -> None:
    with (
        live_server("uvicorn", settings=UNSIGNED) as pages,
        # Another port is another origin: the cable lists the pages'.
        live_server("uvicorn", settings={**UNSIGNED, "ALLOWED_ORIGINS": [pages.http_url]}) as cable,
    ):
        tab = await open_tab(
            f"{pages.http_url}/browser/rails/?streams=elsewhere&cable={cable.cable_url}"
        )
        await tab.wait_connected(1)
        await receives(tab, cable, "elsewhere", "through the meta's cable")


async def test_json_data_and_null_data_reach_the_page_as_events(open_tab: OpenTab) -> None:
    with live_server("uvicorn", settings=UNSIGNED) as server:
        tab = await open_tab(f"{server.http_url}/browser/rails/?streams=progress")
        await tab.wait_connected(1)
        assert server.broadcast("progress", {"percent": 50}) == (200, {"recipients": 1})
        status, _ = server.request(
            "POST", "/_broadcast", b'{"stream": "progress"}', {"Content-Type": "application/json"}
        )
        assert status == 200
        await tab.page.wait_for_function("() => window.streamEvents.length === 2")
        events = await tab.page.evaluate("window.streamEvents.map(e => e.data)")
        assert events == [{"percent": 50}, None]


async def test_with_signing_on_a_rails_marker_is_refused_visibly(open_tab: OpenTab) -> None:
    with live_server("uvicorn") as server:
        tab = await open_tab(f"{server.http_url}/browser/rails/?streams=plain")
        await tab.page.wait_for_selector("turbo-cable-stream[rejected]", state="attached")
        assert any("refused stream" in text for text in tab.messages("warning"))
