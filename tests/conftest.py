from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.servers import SERVERS, LiveServer, live_server


@pytest.fixture(scope="module", params=SERVERS)
def server(request: pytest.FixtureRequest) -> Iterator[LiveServer]:
    """A daphne, then a uvicorn, server running the test project with default settings."""
    with live_server(request.param) as running:
        yield running
