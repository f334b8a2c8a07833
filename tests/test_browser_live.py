"""A page with {% turbo_stream_from %} updates live in real Chromium."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest

from tests.browser_support import OpenTab
from tests.servers import LiveServer, live_server
from turbo_cable.streams import signed_stream_name

pytestmark = [pytest.mark.browser, pytest.mark.asyncio(loop_scope="session")]

QUICK_PINGS = {"PING_INTERVAL": 1, "IDLE_TIMEOUT": 2.5}


@pytest.fixture(scope="module")
def uvicorn() -> Iterator[LiveServer]:
    with live_server("uvicorn", settings=QUICK_PINGS) as running:
        yield running


def turbo_stream(action: str, target: str, html: str = "") -> str:
    return (
        f'<turbo-stream action="{action}" target="{target}">'
        f"<template>{html}</template></turbo-stream>"
    )


def page_url(server: LiveServer, streams: str, **flags: int) -> str:
    query = "".join(f"&{name}={value}" for name, value in flags.items())
    return f"{server.http_url}/browser/page/?streams={streams}{query}"


async def eventually(check, timeout: float = 10.0):  # type: ignore[no-untyped-def]
    """Poll ``check()`` until it returns something truthy."""
    deadline = asyncio.get_running_loop().time() + timeout
    while not (result := check()):
        assert asyncio.get_running_loop().time() < deadline, "condition never became true"
        await asyncio.sleep(0.05)
    return result


@pytest.mark.parametrize("kind", ["daphne", "uvicorn"])
async def test_a_broadcast_reaches_the_page_under_each_server(kind: str, open_tab: OpenTab) -> None:
    with live_server(kind) as server:
        tab = await open_tab(page_url(server, "room"), wait_connected=1)
        status, answer = server.broadcast(
            "room", turbo_stream("append", "messages", '<p class="message">hi</p>')
        )
        assert (status, answer) == (200, {"recipients": 1})
        await tab.wait_for_text("#messages", "hi")


async def test_two_pages_update_each_other(uvicorn: LiveServer, open_tab: OpenTab) -> None:
    alice = await open_tab(page_url(uvicorn, "chat"), wait_connected=1)
    bob = await open_tab(page_url(uvicorn, "chat"), wait_connected=1)

    await alice.page.fill("#say input[name=text]", "hello bob")
    await alice.page.click("#say button")
    await bob.wait_for_text("#messages .message", "hello bob")
    await bob.page.fill("#say input[name=text]", "hi alice")
    await bob.page.click("#say button")
    await alice.wait_for_text("#messages .message", "hi alice")

    for tab in (alice, bob):
        assert await tab.texts("#messages .message") == ["hello bob", "hi alice"]


async def test_json_data_arrives_as_a_stream_message_event(
    uvicorn: LiveServer, open_tab: OpenTab
) -> None:
    tab = await open_tab(page_url(uvicorn, "progress:7"), wait_connected=1)
    uvicorn.broadcast("progress:7", {"done": 3, "of": 4})
    uvicorn.broadcast("progress:7", "plain text, not a turbo stream")
    await tab.page.wait_for_function("() => window.streamEvents.length === 2")
    events = await tab.page.evaluate("window.streamEvents")
    signed = signed_stream_name("progress:7")
    assert events == [
        {"stream": "progress:7", "signedStream": signed, "data": {"done": 3, "of": 4}},
        {"stream": "progress:7", "signedStream": signed, "data": "plain text, not a turbo stream"},
    ]


async def test_one_socket_serves_every_marker_and_streams_are_reference_counted(
    uvicorn: LiveServer, open_tab: OpenTab
) -> None:
    tab = await open_tab(page_url(uvicorn, "shared,shared,other"), wait_connected=3)
    assert uvicorn.broadcast("shared", {"n": 1}) == (200, {"recipients": 1})
    assert uvicorn.broadcast("other", {"n": 2}) == (200, {"recipients": 1})

    await tab.page.evaluate("document.querySelector('turbo-cable-stream').remove()")
    await asyncio.sleep(1.5)  # longer than the client's grace period before unsubscribing
    assert uvicorn.broadcast("shared", {"n": 3}) == (200, {"recipients": 1})

    await tab.page.evaluate("document.querySelector('turbo-cable-stream').remove()")
    await eventually(lambda: uvicorn.broadcast("shared", {"n": 4}) == (200, {"recipients": 0}))
    assert uvicorn.broadcast("other", {"n": 5}) == (200, {"recipients": 1})
    await tab.page.wait_for_function("() => window.streamEvents.some(e => e.data.n === 5)")
    seen = await tab.page.evaluate("window.streamEvents.map(e => e.data.n)")
    # "4" was sent until the server reported no recipient: it reached the page meanwhile.
    assert [n for n in seen if n != 4] == [1, 2, 3, 5]


async def test_the_client_answers_pings_so_the_server_keeps_it(
    uvicorn: LiveServer, open_tab: OpenTab
) -> None:
    tab = await open_tab(page_url(uvicorn, "quiet"), wait_connected=1)
    await tab.page.evaluate("window.firstSocket = TurboCable.cable.socket")
    await asyncio.sleep(QUICK_PINGS["IDLE_TIMEOUT"] + 1.5)
    assert await tab.page.evaluate("TurboCable.cable.socket === window.firstSocket")
    assert uvicorn.broadcast("quiet", {"still": "here"}) == (200, {"recipients": 1})


async def test_a_forged_stream_is_refused_with_a_warning_and_not_retried(
    uvicorn: LiveServer, open_tab: OpenTab
) -> None:
    tab = await open_tab(page_url(uvicorn, "real"), wait_connected=1)
    rejections = uvicorn.output().count("rejected subscription")
    await tab.page.evaluate(
        """() => {
            const forged = document.createElement("turbo-cable-stream")
            forged.setAttribute("stream", "secret:forged-signature")
            document.body.append(forged)
        }"""
    )
    await tab.page.wait_for_selector("turbo-cable-stream[rejected]", state="attached")
    warnings = await eventually(
        lambda: [w for w in tab.messages("warning") if "secret:forged-signature" in w]
    )
    assert "invalid stream signature" in warnings[0]
    await eventually(lambda: uvicorn.output().count("rejected subscription") == rejections + 1)
    await tab.page.evaluate("TurboCable.cable.socket.close()")  # reconnects and resubscribes
    await tab.wait_disconnected()
    await tab.wait_connected(1)
    assert uvicorn.output().count("rejected subscription") == rejections + 1
    assert uvicorn.broadcast("real", {"ok": True}) == (200, {"recipients": 1})


async def test_a_marker_inserted_by_a_stream_subscribes(
    uvicorn: LiveServer, open_tab: OpenTab
) -> None:
    tab = await open_tab(page_url(uvicorn, "outer"), wait_connected=1)
    marker = f'<turbo-cable-stream stream="{signed_stream_name("inner")}"></turbo-cable-stream>'
    uvicorn.broadcast("outer", turbo_stream("append", "messages", marker))
    await tab.wait_connected(2)
    uvicorn.broadcast("inner", turbo_stream("update", "box", "from the inner stream"))
    await tab.wait_for_text("#box", "from the inner stream")


@pytest.mark.parametrize("turbo", [0, 1])
async def test_the_page_reports_no_console_errors(
    uvicorn: LiveServer, open_tab: OpenTab, turbo: int
) -> None:
    tab = await open_tab(page_url(uvicorn, "calm", turbo=turbo), wait_connected=1)
    uvicorn.broadcast("calm", turbo_stream("append", "messages", '<p class="message">ok</p>'))
    uvicorn.broadcast("calm", {"json": True})
    await tab.wait_for_text("#messages", "ok")
    await tab.page.wait_for_function("() => window.streamEvents.length === 1")
    assert tab.messages("error") == []
    assert tab.messages("warning") == []
    assert tab.uncaught == []
