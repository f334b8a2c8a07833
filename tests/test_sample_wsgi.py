"""The sample as a WSGI site, started as ``make run-wsgi`` starts it, driven in Chromium.

gunicorn renders the pages and saves the models; ``manage.py runcable`` on another
port holds the sockets; the pages connect to it and the saves broadcast through it.
"""

from __future__ import annotations

import contextlib
import http.client
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.browser_support import OpenTab
from tests.redis_support import RedisServer
from tests.sample_pages import (
    a_page_rendered_before_a_message_on_screen_does_not_undo_it,
    counter_updates_in_the_other_window,
    notes_refresh_other_pages_by_morphing,
    scores_are_appended_replaced_and_removed,
)
from tests.servers import ROOT, free_port, live_server

pytestmark = pytest.mark.browser
in_the_browser = pytest.mark.asyncio(loop_scope="session")


class WsgiSample:
    def __init__(self, port: int, cable_port: int, log: Path, database: Path) -> None:
        self.port, self.cable_port, self.log, self.database = port, cable_port, log, database
        self.url = f"http://127.0.0.1:{port}"

    def get(self, port: int, path: str) -> tuple[int, dict[str, str], bytes]:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        try:
            connection.request("GET", path)
            response = connection.getresponse()
            return response.status, dict(response.getheaders()), response.read()
        finally:
            connection.close()

    def serving(self) -> bool:
        with contextlib.suppress(OSError):
            return (
                self.get(self.port, "/")[0] == 200
                and self.get(self.cable_port, "/_health")[0] == 200
            )
        return False


@pytest.fixture(scope="module")
def sample(tmp_path_factory: pytest.TempPathFactory) -> Iterator[WsgiSample]:
    """``make run-wsgi`` on two free ports, with this run's virtualenv and a fresh database."""
    folder = tmp_path_factory.mktemp("sample-wsgi")
    port, cable_port, log = free_port(), free_port(), folder / "make-run-wsgi.log"
    venv = Path(sys.prefix)
    database = folder / "db.sqlite3"
    env = {**os.environ, "SAMPLE_DB": str(database)}
    env.pop("DJANGO_SETTINGS_MODULE", None)
    command = [
        "make", "-s", "-o", f"{venv}/.installed", "run-wsgi",
        f"VENV={venv}", f"PORT={port}", f"CABLE_PORT={cable_port}",
    ]  # fmt: skip
    with log.open("wb") as output:
        process = subprocess.Popen(
            command, cwd=ROOT, env=env, stdout=output, stderr=subprocess.STDOUT,
            start_new_session=True,
        )  # fmt: skip
    sample = WsgiSample(port, cable_port, log, database)
    try:
        deadline = time.monotonic() + 120
        while not sample.serving():
            assert process.poll() is None, f"make run-wsgi failed:\n{log.read_text()}"
            assert time.monotonic() < deadline, f"make run-wsgi did not start:\n{log.read_text()}"
            time.sleep(0.2)
        yield sample
    finally:
        os.killpg(process.pid, 15)
        process.wait(15)


def test_gunicorn_serves_the_pages_and_points_them_at_the_cable(sample: WsgiSample) -> None:
    status, headers, body = sample.get(sample.port, "/")
    assert status == 200
    assert headers["Server"].startswith("gunicorn")
    assert f'cable-url="ws://127.0.0.1:{sample.cable_port}/cable"' in body.decode()
    # The cable process has no pages, and gunicorn no cable.
    assert sample.get(sample.cable_port, "/")[0] == 404
    assert sample.get(sample.port, "/_health")[0] == 404


@in_the_browser
async def test_the_counter_updates_in_the_other_window(
    sample: WsgiSample, open_tab: OpenTab
) -> None:
    await counter_updates_in_the_other_window(open_tab, sample.url)


@in_the_browser
async def test_a_page_rendered_before_a_message_on_screen_does_not_undo_it(
    sample: WsgiSample, open_tab: OpenTab
) -> None:
    await a_page_rendered_before_a_message_on_screen_does_not_undo_it(open_tab, sample.url)


@in_the_browser
async def test_scores_are_appended_replaced_and_removed_live(
    sample: WsgiSample, open_tab: OpenTab
) -> None:
    await scores_are_appended_replaced_and_removed(open_tab, sample.url, "Barbara", 7)


@in_the_browser
async def test_notes_refresh_other_pages_by_morphing(sample: WsgiSample, open_tab: OpenTab) -> None:
    await notes_refresh_other_pages_by_morphing(open_tab, sample.url, "from a WSGI worker")


@in_the_browser
async def test_pages_on_redis_reach_the_clients_of_two_cable_processes(
    sample: WsgiSample, redis_server: RedisServer, open_tab: OpenTab
) -> None:
    """Scaled out: two gunicorn sites, each pointing at its own runcable, all on one
    Redis. A save in one site's worker publishes straight to Redis (no BROADCAST_URL)
    and reaches the pages connected to the other cable process."""
    pages_ports, cable_ports = (free_port(), free_port()), (free_port(), free_port())
    origins = ",".join(f"http://127.0.0.1:{port}" for port in pages_ports)
    common = {
        "DJANGO_SETTINGS_MODULE": "sample_project.settings",
        "SAMPLE_DB": str(sample.database),
        "TURBO_CABLE_BACKEND": redis_server.url,
        "TURBO_CABLE_ALLOWED_ORIGINS": origins,
    }
    with contextlib.ExitStack() as running:
        for cable_port in cable_ports:
            running.enter_context(live_server("runcable", env=common, port=cable_port))
        sites = [
            running.enter_context(
                live_server(
                    "gunicorn",
                    env={**common, "TURBO_CABLE_CABLE_URL": f"ws://127.0.0.1:{cable}/cable"},
                    app="sample_project.wsgi:application",
                    port=pages,
                )
            )
            for pages, cable in zip(pages_ports, cable_ports, strict=True)
        ]
        alice = await open_tab(sites[0].http_url + "/", wait_connected=1)
        bob = await open_tab(sites[1].http_url + "/", wait_connected=1)
        marker = await bob.page.locator("turbo-cable-stream").first.evaluate("e => e.outerHTML")
        assert f'cable-url="ws://127.0.0.1:{cable_ports[1]}/cable"' in marker
        assert 'offset="' in marker  # the WSGI worker read the stream's position in Redis
        before = int(await bob.text("#counter-value"))
        await alice.page.click("#increment")
        await bob.wait_for_text("#counter-value", str(before + 1))
        await bob.page.click("#increment")
        await alice.wait_for_text("#counter-value", str(before + 2))
        await open_tab.close()  # before the sites stop: Bob's own visit may be in flight
