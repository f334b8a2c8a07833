"""A page with {% turbo_stream_from %} updates live in real Chromium."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.browser_support import OpenTab
from tests.servers import LiveServer, live_server

pytestmark = [pytest.mark.browser, pytest.mark.asyncio(loop_scope="session")]

QUICK_PINGS = {"PING_INTERVAL": 1, "IDLE_TIMEOUT": 2.5}


@pytest.fixture(scope="module")
def uvicorn() -> Iterator[LiveServer]:
    with live_server("uvicorn", settings=QUICK_PINGS) as running:
        yield running


def append(target: str, html: str) -> str:
    return (
        f'<turbo-stream action="append" target="{target}">'
        f"<template>{html}</template></turbo-stream>"
    )


async def test_a_broadcast_reaches_the_page(uvicorn: LiveServer, open_tab: OpenTab) -> None:
    tab = await open_tab(f"{uvicorn.http_url}/browser/page/?streams=room", wait_connected=1)
    status, answer = uvicorn.broadcast("room", append("messages", '<p class="message">hi</p>'))
    assert (status, answer) == (200, {"recipients": 1})
    await tab.wait_for_text("#messages", "hi")
