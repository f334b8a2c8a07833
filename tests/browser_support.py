"""Headless Chromium for the browser tests: one browser per session, a context per test.

Turbo and Stimulus come from the npm registry at test time (into the gitignored
``tests/.js``); the browser is the system's Chromium, never a downloaded one.
"""

from __future__ import annotations

import dataclasses
import shutil
import subprocess
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
from playwright.async_api import Browser, BrowserContext, ConsoleMessage, Page, async_playwright

ROOT = Path(__file__).resolve().parent.parent
JS_DIR = ROOT / "tests" / ".js"
NPM_PACKAGES = {
    "@hotwired/turbo@8": "@hotwired/turbo/dist/turbo.es2017-esm.js",
    "@hotwired/stimulus@3": "@hotwired/stimulus/dist/stimulus.js",
}
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
TIMEOUT_MS = 10_000


def install_js_packages() -> None:
    """``npm install`` Turbo and Stimulus into tests/.js unless they are there already."""
    if all((JS_DIR / "node_modules" / dist).is_file() for dist in NPM_PACKAGES.values()):
        return
    npm = shutil.which("npm")
    if npm is None:
        pytest.fail("The browser tests need npm (Debian package 'npm') to fetch Turbo.")
    result = subprocess.run(
        [npm, "install", "--prefix", str(JS_DIR), *NPM_PACKAGES, "--no-audit", "--no-fund"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    if result.returncode != 0:
        pytest.fail(f"npm could not install {' '.join(NPM_PACKAGES)}:\n{result.stderr}")


@dataclasses.dataclass
class Tab:
    """One page, with everything it printed to the console."""

    page: Page
    console: list[ConsoleMessage] = dataclasses.field(default_factory=list)
    uncaught: list[str] = dataclasses.field(default_factory=list)

    def messages(self, kind: str) -> list[str]:
        return [message.text for message in self.console if message.type == kind]

    async def wait_connected(self, count: int = 1, timeout: float | None = None) -> None:
        """Until ``count`` markers are subscribed (the client marks them ``connected``)."""
        await self.page.wait_for_function(
            "count => document.querySelectorAll('turbo-cable-stream[connected]').length >= count",
            arg=count,
            timeout=timeout,
        )

    async def wait_disconnected(self) -> None:
        await self.page.wait_for_function(
            "() => !document.querySelector('turbo-cable-stream[connected]')"
        )

    async def text(self, selector: str) -> str:
        return await self.page.locator(selector).inner_text()

    async def texts(self, selector: str) -> list[str]:
        return await self.page.locator(selector).all_inner_texts()

    async def wait_for_text(self, selector: str, text: str) -> None:
        await self.page.wait_for_function(
            "([selector, text]) => [...document.querySelectorAll(selector)]"
            ".some(element => element.textContent.includes(text))",
            arg=[selector, text],
        )

    async def wait_for_exact_text(self, selector: str, text: str) -> None:
        await self.page.wait_for_function(
            "([selector, text]) => document.querySelector(selector)?.textContent.trim() === text",
            arg=[selector, text],
        )


class OpenTab:
    """Opens pages in fresh browser contexts and, on ``close``, fails on any uncaught error.

    A test that stops a server it started itself calls ``close`` first: a Turbo visit
    still in flight when the server goes away would otherwise fail with "Failed to fetch"
    after the test has already passed.
    """

    def __init__(self, browser: Browser) -> None:
        self.browser = browser
        self.contexts: list[BrowserContext] = []
        self.tabs: list[Tab] = []

    async def __call__(self, url: str, *, wait_connected: int = 0, **options: Any) -> Tab:
        context = await self.browser.new_context(**options)
        context.set_default_timeout(TIMEOUT_MS)
        self.contexts.append(context)
        page = await context.new_page()
        tab = Tab(page)
        page.on("console", lambda message: tab.console.append(message))
        page.on("pageerror", lambda error: tab.uncaught.append(str(error)))
        self.tabs.append(tab)
        await page.goto(url)
        if wait_connected:
            await tab.wait_connected(wait_connected)
        return tab

    async def close(self) -> None:
        """Closes every tab opened so far, then fails if any of them raised."""
        contexts, self.contexts = self.contexts, []
        tabs, self.tabs = self.tabs, []
        for context in contexts:
            await context.close()
        uncaught = [error for tab in tabs for error in tab.uncaught]
        assert not uncaught, f"uncaught errors in the page: {uncaught}"


@pytest.fixture(scope="session")
def browser_dependencies() -> None:
    """Chromium from the system and Turbo from npm; a clear failure names what is missing."""
    if not CHROMIUM.exists():
        pytest.fail(f"The browser tests need Chromium at {CHROMIUM} (Debian package 'chromium').")
    install_js_packages()


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def browser(browser_dependencies: None) -> AsyncIterator[Browser]:
    """The system's headless Chromium, shared by every browser test of the session."""
    async with async_playwright() as playwright:
        chromium = await playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True
        )
        try:
            yield chromium
        finally:
            await chromium.close()


@pytest_asyncio.fixture(loop_scope="session")
async def open_tab(browser: Browser) -> AsyncIterator[OpenTab]:
    """Opens pages in fresh browser contexts; fails the test on any uncaught page error."""
    opener = OpenTab(browser)
    try:
        yield opener
    finally:
        await opener.close()
