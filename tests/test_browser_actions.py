"""Every Turbo Stream action reaches the DOM, with Turbo on the page and without it."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.browser_support import OpenTab, Tab
from tests.servers import LiveServer, live_server

pytestmark = [pytest.mark.browser, pytest.mark.asyncio(loop_scope="session")]


@pytest.fixture(scope="module")
def uvicorn() -> Iterator[LiveServer]:
    with live_server("uvicorn") as running:
        yield running


def turbo_stream(action: str, html: str = "", **attributes: str) -> str:
    attrs = "".join(f' {name}="{value}"' for name, value in attributes.items())
    return f'<turbo-stream action="{action}"{attrs}><template>{html}</template></turbo-stream>'


# One message, seven <turbo-stream> elements: every standard action, by id and by selector.
EVERY_ACTION = "\n".join(
    [
        turbo_stream(
            "append", '<p id="item-3">three</p><p id="item-1">one again</p>', target="list"
        ),
        turbo_stream("prepend", '<p id="item-0">zero</p>', target="list"),
        turbo_stream("replace", '<section id="box">new box</section>', target="box"),
        turbo_stream("update", "<b>many</b>", targets=".many"),
        turbo_stream("remove", target="doomed"),
        turbo_stream("before", '<p id="before">before</p>', target="anchor"),
        turbo_stream("after", '<p id="after">after</p>', target="anchor"),
    ]
)


async def open_page(server: LiveServer, open_tab: OpenTab, *, turbo: bool) -> Tab:
    tab = await open_tab(
        f"{server.http_url}/browser/page/?streams=actions&turbo={int(turbo)}", wait_connected=1
    )
    if turbo:
        await tab.page.wait_for_function("() => window.Turbo !== undefined")
    return tab


async def child_ids(tab: Tab, selector: str) -> list[str]:
    return await tab.page.eval_on_selector(selector, "e => [...e.children].map(c => c.id)")


@pytest.mark.parametrize("turbo", [False, True], ids=["without-turbo", "with-turbo"])
async def test_every_action_of_a_message_is_applied(
    uvicorn: LiveServer, open_tab: OpenTab, turbo: bool
) -> None:
    tab = await open_page(uvicorn, open_tab, turbo=turbo)
    assert await tab.page.evaluate("window.Turbo !== undefined") is turbo
    await tab.page.evaluate(
        """() => {
            window.renderedByTurbo = 0
            document.addEventListener("turbo:before-stream-render", () => window.renderedByTurbo++)
        }"""
    )

    assert uvicorn.broadcast("actions", EVERY_ACTION) == (200, {"recipients": 1})

    await tab.page.wait_for_selector("#after", state="attached")
    assert await child_ids(tab, "#list") == ["item-0", "item-2", "item-3", "item-1"]
    assert await tab.text("#item-1") == "one again"
    assert await tab.page.eval_on_selector("#box", "e => e.tagName") == "SECTION"
    assert await tab.text("#box") == "new box"
    assert await tab.page.eval_on_selector_all(".many", "es => es.map(e => e.innerHTML)") == [
        "<b>many</b>",
        "<b>many</b>",
    ]
    assert await tab.page.locator("#doomed").count() == 0
    assert await child_ids(tab, "#siblings") == ["before", "anchor", "after", "sibling"]
    assert await tab.page.evaluate("window.renderedByTurbo") == (7 if turbo else 0)


async def test_with_turbo_morphs_and_custom_actions_work(
    uvicorn: LiveServer, open_tab: OpenTab
) -> None:
    tab = await open_page(uvicorn, open_tab, turbo=True)
    await tab.page.evaluate(
        """() => {
            window.keptInput = document.getElementById("kept")
            Turbo.StreamActions.highlight = function () {
                this.targetElements.forEach(e => e.classList.add("highlighted"))
            }
        }"""
    )
    morph = '<div id="morph"><input id="kept" value="typed"><span>morphed</span></div>'
    message = turbo_stream("replace", morph, target="morph", method="morph") + turbo_stream(
        "highlight", targets="#list p"
    )

    uvicorn.broadcast("actions", message)

    await tab.wait_for_text("#morph span", "morphed")
    assert await tab.page.evaluate("document.getElementById('kept') === window.keptInput")
    await tab.page.wait_for_selector("#list p.highlighted", state="attached")
    assert await tab.page.locator("#list p.highlighted").count() == 2


async def test_without_turbo_an_unknown_action_is_skipped_with_a_warning(
    uvicorn: LiveServer, open_tab: OpenTab
) -> None:
    tab = await open_page(uvicorn, open_tab, turbo=False)
    message = turbo_stream("highlight", target="box") + turbo_stream(
        "update", "still applied", target="box"
    )

    uvicorn.broadcast("actions", message)

    await tab.wait_for_text("#box", "still applied")
    assert any('"highlight" action needs Turbo' in w for w in tab.messages("warning"))
