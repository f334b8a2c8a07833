"""The sample project, started exactly as ``make run`` starts it, driven in Chromium."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.async_api import Browser

from tests.browser_support import OpenTab
from tests.redis_support import RedisServer
from tests.sample_pages import (
    a_page_rendered_before_a_message_on_screen_does_not_undo_it,
    counter_updates_in_the_other_window,
    notes_refresh_other_pages_by_morphing,
    scores_are_appended_replaced_and_removed,
    two_tabs,
)
from tests.servers import ROOT, free_port, live_server

pytestmark = [pytest.mark.browser, pytest.mark.asyncio(loop_scope="session")]


class SampleServer:
    def __init__(
        self, port: int, process: subprocess.Popen[bytes], log: Path, database: Path
    ) -> None:
        self.port, self.process, self.log, self.database = port, process, log, database
        self.url = f"http://127.0.0.1:{port}"


@pytest.fixture(scope="module")
def sample(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SampleServer]:
    """``make run`` on a free port, with this test run's virtualenv and a fresh database."""
    folder = tmp_path_factory.mktemp("sample")
    port, log = free_port(), folder / "make-run.log"
    venv = Path(sys.prefix)
    database = folder / "db.sqlite3"
    env = {**os.environ, "PORT": str(port), "SAMPLE_DB": str(database)}
    env.pop("DJANGO_SETTINGS_MODULE", None)
    with log.open("wb") as output:
        process = subprocess.Popen(
            ["make", "-s", "-o", f"{venv}/.installed", "run", f"VENV={venv}"],
            cwd=ROOT,
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    server = SampleServer(port, process, log, database)
    try:
        deadline = time.monotonic() + 120
        while "Quit the server with" not in log.read_text(errors="replace"):
            assert process.poll() is None, f"make run failed:\n{log.read_text()}"
            assert time.monotonic() < deadline, f"make run did not start:\n{log.read_text()}"
            time.sleep(0.2)
        yield server
    finally:
        os.killpg(process.pid, 15)
        process.wait(15)


async def test_the_counter_updates_in_the_other_window(
    sample: SampleServer, open_tab: OpenTab
) -> None:
    await counter_updates_in_the_other_window(open_tab, sample.url)


async def test_a_page_rendered_before_a_message_on_screen_does_not_undo_it(
    sample: SampleServer, open_tab: OpenTab
) -> None:
    await a_page_rendered_before_a_message_on_screen_does_not_undo_it(open_tab, sample.url)


async def test_scores_are_appended_replaced_and_removed_live(
    sample: SampleServer, open_tab: OpenTab
) -> None:
    await scores_are_appended_replaced_and_removed(open_tab, sample.url, "Margaret", 40)


async def test_the_progress_bar_follows_the_background_job(
    sample: SampleServer, open_tab: OpenTab
) -> None:
    alice, bob = await two_tabs(open_tab, sample.url + "/progress/")
    await alice.page.click("#start-job")
    for tab in (alice, bob):
        await tab.wait_for_text("#progress-label", "Done")
        assert await tab.page.locator("#progress-bar").evaluate("bar => bar.style.width") == "100%"


async def test_notes_refresh_other_pages_by_morphing(
    sample: SampleServer, open_tab: OpenTab
) -> None:
    await notes_refresh_other_pages_by_morphing(
        open_tab, sample.url, "morph me"
    )  # make run fetched Turbo


async def test_turbo_is_said_to_be_loaded_only_when_it_loaded(
    sample: SampleServer, open_tab: OpenTab, browser: Browser
) -> None:
    context = await browser.new_context()
    try:
        page = await context.new_page()
        await page.route("**/vendor/turbo/**", lambda route: route.abort())
        await page.goto(sample.url + "/notes/")
        await page.wait_for_selector("turbo-cable-stream[connected]")
        assert await page.evaluate("typeof window.Turbo") == "undefined"
        status = await page.locator("#turbo-status").inner_text()
        assert status == "Turbo not loaded: the cable applies streams itself"
    finally:
        await context.close()


async def test_pages_on_two_uvicorn_workers_update_each_other_through_redis(
    sample: SampleServer, redis_server: RedisServer, open_tab: OpenTab
) -> None:
    """The sample as several workers run it: any page, any worker, one Redis."""
    env = {
        "DJANGO_SETTINGS_MODULE": "sample_project.settings",
        "TURBO_CABLE_BACKEND": redis_server.url,
        "SAMPLE_DB": str(sample.database),
    }
    with live_server(
        "uvicorn", env=env, app="sample_project.asgi:application", extra_args=("--workers", "2")
    ) as workers:
        tabs = [await open_tab(workers.http_url + "/", wait_connected=1) for _ in range(4)]
        before = int(await tabs[1].text("#counter-value"))
        await tabs[0].page.click("#increment")
        for tab in tabs:
            await tab.wait_for_text("#counter-value", str(before + 1))
        await open_tab.close()  # before the workers stop: the first tab's visit may be in flight


async def test_the_score_form_is_answered_with_turbo_streams_and_redirects_without_turbo(
    sample: SampleServer, open_tab: OpenTab
) -> None:
    tab = await open_tab(sample.url + "/scores/", wait_connected=1)
    assert "Turbo loaded" in await tab.text("nav")
    await tab.page.evaluate("window.notReloaded = true")
    await tab.page.fill("#score-form input[name=name]", "Ada")
    await tab.page.click("#add-score")
    # The stream response says so in place and resets the form; the page is not reloaded.
    await tab.wait_for_text("#score-notice", "Added Ada.")
    await tab.wait_for_text("#scores li", "Ada: 0")
    assert await tab.page.input_value("#score-form input[name=name]") == ""
    assert await tab.page.evaluate("window.notReloaded") is True
    # A client that does not ask for Turbo Streams gets the redirect it always got.
    answer = await tab.page.evaluate(
        """async () => {
            const form = new FormData(document.getElementById("score-form"))
            form.set("name", "Grace")
            const options = {method: "POST", body: form, redirect: "manual"}
            const response = await fetch("/scores/add/", options)
            return response.type
        }"""
    )
    assert answer == "opaqueredirect"
    # An empty name is refused in place, with 422, when Turbo asks.
    status = await tab.page.evaluate(
        """async () => {
            const form = new FormData(document.getElementById("score-form"))
            form.set("name", "")
            const response = await fetch("/scores/add/", {method: "POST", body: form,
              headers: {Accept: "text/vnd.turbo-stream.html, text/html"}})
            Turbo.renderStreamMessage(await response.text())
            return [response.status, response.headers.get("Content-Type")]
        }"""
    )
    assert status == [422, "text/vnd.turbo-stream.html; charset=utf-8"]
    await tab.wait_for_text("#score-notice", "A score needs a name.")


async def test_notes_say_how_many_people_are_looking(
    sample: SampleServer, open_tab: OpenTab
) -> None:
    alice, bob = await two_tabs(open_tab, sample.url + "/notes/")
    for tab in (alice, bob):
        await tab.wait_for_text("#notes-presence", "2 people are looking at these notes")
    await bob.page.close()
    await alice.wait_for_text("#notes-presence", "1 person is looking at these notes")


async def test_the_status_page_shows_its_own_cable_live(
    sample: SampleServer, open_tab: OpenTab
) -> None:
    status = await open_tab(sample.url + "/status/", wait_connected=1)
    await open_tab(sample.url + "/notes/", wait_connected=1)
    # Updated over the cable: the notes tab opened after the status page was rendered.
    await status.wait_for_text("#status-present", "notes: 1 (1 anonymous)")
    await status.page.wait_for_function(
        "() => /^\\d/.test(document.querySelector('#status-rate').textContent)"
    )
    assert int(await status.text("#status-connections")) >= 2
    assert "status: 1" in await status.text("#status-busiest")
