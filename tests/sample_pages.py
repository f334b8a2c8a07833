"""What two people see on the sample's pages, however the sample is served.

The ASGI sample (``make run``) and the WSGI one (``make run-wsgi``) must behave
alike; their tests run these same steps against their own servers.
"""

from __future__ import annotations

import asyncio

from playwright.async_api import Route

from tests.browser_support import OpenTab, Tab


async def two_tabs(open_tab: OpenTab, url: str) -> tuple[Tab, Tab]:
    """The same page in two browser contexts, like two people at two computers."""
    return await open_tab(url, wait_connected=1), await open_tab(url, wait_connected=1)


async def counter_updates_in_the_other_window(open_tab: OpenTab, url: str) -> None:
    alice, bob = await two_tabs(open_tab, url + "/")
    before = int(await bob.text("#counter-value"))
    await alice.page.click("#increment")
    await bob.wait_for_text("#counter-value", str(before + 1))
    await alice.wait_for_text("#counter-value", str(before + 1))
    await bob.page.click("#increment")
    await alice.wait_for_text("#counter-value", str(before + 2))


async def a_page_rendered_before_a_message_on_screen_does_not_undo_it(
    open_tab: OpenTab, url: str
) -> None:
    """Alice's Turbo visit is rendered, then Bob's increment reaches her screen, then the
    rendered page arrives: the page's position tells her client to replay what followed."""
    alice, bob = await two_tabs(open_tab, url + "/")
    await alice.wait_for_text("#turbo-status", "Turbo loaded")
    before = int(await bob.text("#counter-value"))
    rendered: asyncio.Future[str] = asyncio.get_running_loop().create_future()
    shown = asyncio.Event()

    async def hold_the_rendered_page(route: Route) -> None:
        response = await route.fetch()
        rendered.set_result(await response.text())
        await shown.wait()
        await route.fulfill(response=response)

    await alice.page.route(url + "/", hold_the_rendered_page, times=1)
    await alice.page.evaluate(
        "() => { window.visited = new Promise(done => addEventListener('turbo:load', done)) }"
    )
    await alice.page.evaluate("Turbo.visit(location.href)")
    assert f'<span id="counter-value">{before}</span>' in await rendered
    await bob.page.click("#increment")
    await alice.wait_for_exact_text("#counter-value", str(before + 1))
    shown.set()
    await alice.page.evaluate("window.visited")  # the older page is on screen now...
    await alice.wait_for_exact_text("#counter-value", str(before + 1))  # ...and caught up


async def scores_are_appended_replaced_and_removed(
    open_tab: OpenTab, url: str, name: str, points: int
) -> None:
    alice, bob = await two_tabs(open_tab, url + "/scores/")
    await alice.page.fill("input[name=name]", name)
    await alice.page.fill("input[name=points]", str(points))
    await alice.page.click("#add-score")
    await bob.wait_for_text("#scores li", f"{name}: {points}")

    row = bob.page.locator("#scores li", has_text=name)
    score_id = await row.get_attribute("id")
    assert score_id is not None
    assert score_id.startswith("score_")
    await alice.page.click(f"#{score_id} button.plus")
    await bob.wait_for_text(f"#{score_id}", f"{name}: {points + 1}")

    await bob.page.click(f"#{score_id} button.delete")
    for tab in (alice, bob):
        await tab.page.wait_for_selector(f"#{score_id}", state="detached")


async def notes_refresh_other_pages_by_morphing(open_tab: OpenTab, url: str, text: str) -> None:
    alice, bob = await two_tabs(open_tab, url + "/notes/")
    await bob.wait_for_text("#turbo-status", "Turbo loaded")
    await bob.page.evaluate("window.heading = document.querySelector('h1')")
    await bob.page.fill("#note-text", "half a thought")  # Bob is typing when Alice adds one
    await alice.page.fill("#note-text", text)
    await alice.page.click("#add-note")
    await bob.wait_for_text("#notes", text)
    # A morph keeps the elements; a reload or a plain Turbo render would replace them.
    assert await bob.page.evaluate("document.querySelector('h1') === window.heading")
    assert await bob.page.input_value("#note-text") == "half a thought"
    await alice.wait_for_text("#notes", text)
    assert await alice.page.input_value("#note-text") == ""  # her own note was sent
    await bob.wait_for_text("#turbo-status", "Turbo loaded")  # the morph kept the status
