"""In Chromium: an expired page refreshes itself, and a session-bound name works only
for the page's own session."""

from __future__ import annotations

import asyncio
import time

import pytest

from tests.browser_support import OpenTab, Tab
from tests.servers import live_server

pytestmark = [pytest.mark.browser, pytest.mark.asyncio(loop_scope="session")]

MAX_AGE = 4  # seconds; the first subscribe must come well within it, even under load
QUICK_PINGS = {"PING_INTERVAL": 1, "IDLE_TIMEOUT": 2.5}
EXPIRING = {**QUICK_PINGS, "SIGNED_STREAM_MAX_AGE": MAX_AGE}


def update_box(text: str) -> str:
    return f'<turbo-stream action="update" target="box"><template>{text}</template></turbo-stream>'


async def subscribed_name(tab: Tab) -> str | None:
    return await tab.page.get_attribute("turbo-cable-stream[connected]", "stream")


async def grow_older_than_max_age(rendered_by: float) -> None:
    """Until a page rendered before ``rendered_by`` carries names older than MAX_AGE."""
    await asyncio.sleep(rendered_by + MAX_AGE + 0.3 - time.time())


@pytest.mark.parametrize("turbo", [False, True], ids=["reload", "turbo-visit"])
async def test_an_expired_page_is_refreshed_and_subscribes_with_fresh_names(
    turbo: bool, open_tab: OpenTab
) -> None:
    with live_server("uvicorn", settings=EXPIRING) as server:
        url = f"{server.http_url}/browser/page/?streams=ageing{'&turbo=1' if turbo else ''}"
        tab = await open_tab(url, wait_connected=1)
        rendered_by = time.time()
        old_name = await subscribed_name(tab)
        await tab.page.evaluate(
            """window.sameDocument = true
            document.addEventListener("turbo-cable:expired", event =>
                sessionStorage.setItem("seen-expired", event.detail.stream))"""
        )
        await tab.page.context.set_offline(True)
        await tab.wait_disconnected()
        await grow_older_than_max_age(rendered_by)
        if turbo:
            await tab.page.context.set_offline(False)  # reconnects: "expired", a Turbo visit
        else:
            async with tab.page.expect_event("load"):  # reconnects: "expired", a reload
                await tab.page.context.set_offline(False)
        await tab.page.wait_for_function(
            "old => { const marker = document.querySelector('turbo-cable-stream[connected]');"
            " return marker && marker.getAttribute('stream') !== old }",
            arg=old_name,
        )
        assert await tab.page.evaluate("sessionStorage.getItem('seen-expired')") == "ageing"
        assert await tab.page.evaluate("window.sameDocument === true") is turbo
        assert server.broadcast("ageing", update_box("fresh again")) == (200, {"recipients": 1})
        await tab.wait_for_text("#box", "fresh again")
        assert not [m for m in tab.messages("warning") if "expired" in m]


async def test_a_page_whose_fresh_names_expire_at_once_is_refreshed_only_once(
    open_tab: OpenTab,
) -> None:
    with live_server("uvicorn", settings=EXPIRING) as server:
        path = "/browser/frozen/?streams=cached"
        assert server.request("GET", path)[0] == 200  # the copy every visit now gets
        await grow_older_than_max_age(time.time())
        tab = await open_tab("about:blank")
        await tab.page.add_init_script(  # counts the documents this tab loads from the site
            "sessionStorage.setItem('loads', Number(sessionStorage.getItem('loads')) + 1)"
        )
        await tab.page.goto(server.http_url + path)
        warning = 'turbo-cable: stream "cached" expired again right after a refresh'
        await wait_for_warning(tab, warning)
        assert await tab.page.locator("turbo-cable-stream[rejected]").count() == 1
        # The first copy, and the one refresh.
        assert await tab.page.evaluate("sessionStorage.getItem('loads')") == "2"


async def wait_for_warning(tab: Tab, text: str) -> None:
    async def seen() -> None:
        while not any(text in message for message in tab.messages("warning")):
            await tab.page.wait_for_event("console")

    await asyncio.wait_for(seen(), 10)


async def test_a_session_bound_name_is_refused_to_other_sessions_and_cookie_less_clients(
    open_tab: OpenTab,
) -> None:
    with live_server("uvicorn", settings={"SESSION_BOUND_STREAMS": True}) as server:
        owner = await open_tab(f"{server.http_url}/browser/page/?streams=private&session=1")
        await owner.wait_connected(1)
        copied = await subscribed_name(owner)
        other_session = await open_tab(
            f"{server.http_url}/browser/page/?streams=theirs&session=1", wait_connected=1
        )
        cookie_less = await open_tab(f"{server.http_url}/browser/page/?streams=open")
        await cookie_less.wait_connected(1)  # a page without a session subscribes as well
        assert await session_cookies(owner) != await session_cookies(other_session)
        assert await session_cookies(cookie_less) == []

        for thief in (other_session, cookie_less):
            await thief.page.evaluate(
                """name => {
                    const marker = document.createElement("turbo-cable-stream")
                    marker.id = "copied"
                    marker.setAttribute("stream", name)
                    marker.setAttribute("name", "private")
                    document.body.append(marker)
                }""",
                copied,
            )
            await thief.page.wait_for_selector("#copied[rejected]", state="attached")
            await wait_for_warning(thief, 'refused stream "private": invalid stream signature')

        assert server.broadcast("private", update_box("for the owner")) == (
            200,
            {"recipients": 1},
        )
        await owner.wait_for_text("#box", "for the owner")
        for thief in (other_session, cookie_less):
            assert "for the owner" not in await thief.text("#box")


async def session_cookies(tab: Tab) -> list[str]:
    cookies = await tab.page.context.cookies()
    return [cookie["value"] for cookie in cookies if cookie["name"] == "sessionid"]
