"""The middleware's lifespan, driven in-process: the cable starts and stops whatever it wraps."""

from __future__ import annotations

import asyncio
import signal
from collections.abc import Callable
from typing import Any

import pytest
from channels.routing import ProtocolTypeRouter
from django.core.asgi import get_asgi_application as get_django_asgi_application

from turbo_cable.asgi import get_asgi_application
from turbo_cable.backends import get_backend, reset_backend, running_backend

Message = dict[str, Any]


@pytest.fixture(autouse=True)
def fresh_backend() -> Any:
    reset_backend()
    yield
    reset_backend()


async def run_lifespan(application: Any) -> list[Message]:
    """Startup then shutdown, as a server sends them; what the application answered."""
    inbox: asyncio.Queue[Message] = asyncio.Queue()
    answers: list[Message] = []
    answered = asyncio.Event()

    async def receive() -> Message:
        return await inbox.get()

    async def send(message: Message) -> None:
        answers.append(message)
        answered.set()

    task = asyncio.create_task(application({"type": "lifespan"}, receive, send))
    await inbox.put({"type": "lifespan.startup"})
    await asyncio.wait_for(answered.wait(), 5)
    answered.clear()
    if answers[-1]["type"] == "lifespan.startup.complete":
        await inbox.put({"type": "lifespan.shutdown"})
        await asyncio.wait_for(answered.wait(), 5)
    await asyncio.wait_for(task, 5)
    return answers


class RecordingLifespan:
    """An application with a lifespan of its own that notes whether the cable was running."""

    def __init__(self, fail: str | None = None) -> None:
        self.events: list[tuple[str, bool]] = []
        self.fail = fail

    async def __call__(self, scope: Message, receive: Callable[..., Any], send: Any) -> None:
        assert scope["type"] == "lifespan"
        while True:
            message = await receive()
            phase = message["type"].removeprefix("lifespan.")
            self.events.append((phase, running_backend() is not None))
            if self.fail == phase:
                raise RuntimeError(f"{phase} went wrong")
            await send({"type": f"{message['type']}.complete"})
            if phase == "shutdown":
                return


def backend_stopped() -> bool:
    return get_backend()._keepalive is None


async def test_with_plain_django_the_cable_answers_the_lifespan_itself() -> None:
    answers = await run_lifespan(get_asgi_application())
    assert [a["type"] for a in answers] == [
        "lifespan.startup.complete",
        "lifespan.shutdown.complete",
    ]
    assert backend_stopped()


async def test_the_wrapped_applications_lifespan_runs_with_the_cable_started_first() -> None:
    inner = RecordingLifespan()
    answers = await run_lifespan(get_asgi_application(inner))
    assert [a["type"] for a in answers] == [
        "lifespan.startup.complete",
        "lifespan.shutdown.complete",
    ]
    # The cable was running when the application started and still when it shut down.
    assert inner.events == [("startup", True), ("shutdown", True)]
    assert backend_stopped()


async def test_a_channels_router_with_a_lifespan_entry_gets_its_lifespan() -> None:
    inner = RecordingLifespan()
    router = ProtocolTypeRouter({"http": get_django_asgi_application(), "lifespan": inner})
    answers = await run_lifespan(get_asgi_application(router))
    assert [a["type"] for a in answers][-1] == "lifespan.shutdown.complete"
    assert [phase for phase, _ in inner.events] == ["startup", "shutdown"]


async def test_a_channels_router_without_lifespan_still_starts_and_stops_the_cable() -> None:
    router = ProtocolTypeRouter({"http": get_django_asgi_application()})
    answers = await run_lifespan(get_asgi_application(router))
    assert [a["type"] for a in answers] == [
        "lifespan.startup.complete",
        "lifespan.shutdown.complete",
    ]
    assert backend_stopped()


async def test_a_failing_application_startup_is_reported_to_the_server() -> None:
    answers = await run_lifespan(get_asgi_application(RecordingLifespan(fail="startup")))
    assert answers == [{"type": "lifespan.startup.failed", "message": "startup went wrong"}]


async def test_a_failing_application_shutdown_still_stops_the_cable() -> None:
    answers = await run_lifespan(get_asgi_application(RecordingLifespan(fail="shutdown")))
    assert answers[-1] == {"type": "lifespan.shutdown.failed", "message": "shutdown went wrong"}
    assert backend_stopped()


async def test_no_signal_handler_is_installed_by_default() -> None:
    before = {signum: signal.getsignal(signum) for signum in (signal.SIGINT, signal.SIGTERM)}
    await run_lifespan(get_asgi_application())
    after = {signum: signal.getsignal(signum) for signum in (signal.SIGINT, signal.SIGTERM)}
    assert after == before
