from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.browser_support import browser, browser_dependencies, open_tab  # noqa: F401
from tests.redis_support import RedisServer
from tests.servers import SERVERS, LiveServer, live_server


@pytest.fixture(scope="module", params=SERVERS)
def server(request: pytest.FixtureRequest) -> Iterator[LiveServer]:
    """A daphne, then a uvicorn, server running the test project with default settings."""
    with live_server(request.param) as running:
        yield running


@pytest.fixture(scope="module")
def redis_server() -> Iterator[RedisServer]:
    """A real redis-server of the module's own, on a free loopback port."""
    running = RedisServer()
    try:
        yield running
    finally:
        running.stop()
