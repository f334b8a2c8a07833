"""How fast pages are back after a server restart, with and without EXIT_SIGNAL_HANDLERS.

Runs the test project under daphne and uvicorn, opens a page in headless
Chromium, restarts the server on the same port (SIGTERM, wait for exit, start a
new one) and measures, per round: how long the old process took to exit, how
long until the new one served HTTP, and how long after that the page's marker
was subscribed again. Between rounds the page stays connected for
``STEADY`` seconds, as between two deploys: the client resets its back-off
only after a socket has been open that long.
Usage: ``.venv/bin/python benchmarks/bench_restart.py [rounds]``.
"""

from __future__ import annotations

import asyncio
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.settings")

from playwright.async_api import async_playwright

from tests.browser_support import CHROMIUM, CHROMIUM_ARGS, install_js_packages
from tests.servers import LiveServer

CONNECTED = "() => document.querySelector('turbo-cable-stream[connected]')"
STEADY = 5.5  # seconds; the client's STEADY_AFTER is 5


async def measure(kind: str, handlers: bool, rounds: int, browser: object) -> list[float]:
    settings = {"EXIT_SIGNAL_HANDLERS": handlers}
    server = await asyncio.to_thread(LiveServer, kind, settings=settings)
    context = await browser.new_context()  # type: ignore[attr-defined]
    page = await context.new_page()
    await page.goto(f"{server.http_url}/browser/page/?streams=restart")
    await page.wait_for_function(CONNECTED, timeout=10_000)
    rows = []
    try:
        for _ in range(rounds):
            await asyncio.sleep(STEADY)
            started = time.monotonic()
            await asyncio.to_thread(server.stop)
            exited = time.monotonic()
            server = await asyncio.to_thread(LiveServer, kind, settings=settings, port=server.port)
            serving = time.monotonic()
            await page.wait_for_function(CONNECTED, timeout=60_000, polling=5)
            back = time.monotonic()
            rows.append((exited - started, serving - started, back - serving, back - started))
    finally:
        await context.close()
        server.stop()
    return rows


async def main(rounds: int) -> None:
    install_js_packages()
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True
        )
        print(f"{rounds} restarts each; medians in ms (min-max of 'page back after serving')")
        print("server   handlers  exit  serving  page back after serving  total")
        for kind in ("uvicorn", "daphne"):
            for handlers in (False, True):
                rows = await measure(kind, handlers, rounds, browser)
                exit_, serving, lag, total = (
                    statistics.median(column) * 1000 for column in zip(*rows, strict=True)
                )
                lags = [row[2] * 1000 for row in rows]
                print(
                    f"{kind:8} {'on' if handlers else 'off':9} {exit_:5.0f} {serving:8.0f} "
                    f"{lag:8.0f} ({min(lags):.0f}-{max(lags):.0f}) {total:14.0f}"
                )
        await browser.close()


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1]) if len(sys.argv) > 1 else 10))
