"""``GET /_health``: ready or not, and why, for load balancers and probes.

Its answers come from the application in-process; through a real server, it
notices a Redis that hangs and recovers.
"""

from __future__ import annotations

import json
import signal
import time
from typing import Any

from tests.asgi_client import in_process_cable
from tests.redis_support import RedisServer
from tests.servers import LiveServer, live_server
from tests.test_asgi_lifespan import fresh_backend, run_lifespan  # noqa: F401
from turbo_cable.asgi import get_asgi_application


def health(server: LiveServer) -> tuple[int, dict[str, object]]:
    status, body = server.request("GET", "/_health")
    return status, json.loads(body)


async def test_a_serving_process_is_healthy_and_only_get_is_allowed() -> None:
    async with in_process_cable() as cable:
        status, body = await cable.request("GET", "/_health")
        assert (status, json.loads(body)) == (200, {"status": "ok"})
        status, body = await cable.request("POST", "/_health")
        assert (status, json.loads(body)) == (405, {"error": "only GET is allowed"})


async def test_the_path_is_a_setting() -> None:
    async with in_process_cable(HEALTH_PATH="/ready") as cable:
        status, body = await cable.request("GET", "/ready")
        assert (status, json.loads(body)) == (200, {"status": "ok"})
        assert (await cable.request("GET", "/_health"))[0] == 404  # Django's, as any other path


def test_with_redis_gone_the_process_says_so_and_recovers_when_it_is_back(
    redis_server: RedisServer,
) -> None:
    with live_server("uvicorn", settings={"BACKEND": redis_server.url}) as server:
        assert health(server) == (200, {"status": "ok"})
        assert redis_server.process is not None
        redis_server.process.send_signal(signal.SIGSTOP)  # hung: no answer to the pings
        try:
            deadline = time.monotonic() + 15
            while health(server)[0] == 200:
                assert time.monotonic() < deadline, "a hung Redis was never noticed"
                time.sleep(0.2)
            unhealthy = {"status": "unavailable", "reason": "Redis is unreachable"}
            assert health(server) == (503, unhealthy)
        finally:
            redis_server.process.send_signal(signal.SIGCONT)
        deadline = time.monotonic() + 15
        while health(server)[0] != 200:
            assert time.monotonic() < deadline, "still unhealthy after Redis came back"
            time.sleep(0.2)


async def test_from_the_lifespan_shutdown_on_the_process_is_unavailable() -> None:
    """uvicorn stops accepting requests at shutdown; a load balancer still polling the
    process through a kept-alive connection must hear it is going."""
    application = get_asgi_application()
    answers = await run_lifespan(application)
    assert [answer["type"] for answer in answers] == [
        "lifespan.startup.complete",
        "lifespan.shutdown.complete",
    ]
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b""}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    scope = {"type": "http", "method": "GET", "path": "/_health", "headers": []}
    await application(scope, receive, send)
    assert sent[0]["status"] == 503
    assert json.loads(sent[1]["body"]) == {"status": "unavailable", "reason": "shutting down"}
