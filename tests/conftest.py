from __future__ import annotations

from collections.abc import Callable, Generator, Iterator
from pathlib import Path

import pytest
from pytest_django.fixtures import Settings

from tests.browser_support import browser, browser_dependencies, open_tab  # noqa: F401
from tests.redis_support import RedisServer
from tests.servers import SERVERS, LiveServer, live_server
from turbo_cable.backends import reset_backend


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


@pytest.fixture
def restartable_redis(redis_server: RedisServer) -> Iterator[RedisServer]:
    """Redis as the test leaves it (killed, stopped); started again for the next test."""
    yield redis_server
    if redis_server.process is None or redis_server.process.poll() is not None:
        redis_server.start()


@pytest.fixture
def configure(settings: Settings) -> Iterator[Callable[..., None]]:
    """Sets ``TURBO_CABLE`` in this test process (which runs no cable) for the test."""

    def apply(**values: object) -> None:
        settings.TURBO_CABLE = values

    yield apply
    reset_backend()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    """A failing test that ran against the sample project shows what its servers logged."""
    report = yield
    sample = getattr(item, "funcargs", {}).get("sample")
    log = getattr(sample, "log", None)
    if report.failed and isinstance(log, Path) and log.exists():
        lines = log.read_text(errors="replace").splitlines()
        report.sections.append(("the sample's server log (last 80 lines)", "\n".join(lines[-80:])))
    return report
