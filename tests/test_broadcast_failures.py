"""A broadcast that cannot be delivered says where it went, why, and what setting fixes it."""

from __future__ import annotations

import contextlib
import logging
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator

import pytest
from django.template import Context, Template
from django.test import override_settings

from tests.servers import ROOT, free_port
from turbo_cable.broadcast import DeliveryRefused, broadcast
from turbo_cable.conf import CableSettings
from turbo_cable.history import POSITION_PAUSE
from turbo_cable.http_delivery import explain_failure


def warnings_of(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]


def test_runserver_on_another_port_is_named_with_the_setting_that_reaches_it(
    caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A shell derives port 8000 (or $PORT) while runserver listens somewhere else."""
    port = free_port()
    monkeypatch.setenv("PORT", str(port))
    monkeypatch.delenv("TURBO_CABLE_BROADCAST_URL", raising=False)
    with override_settings(TURBO_CABLE={}), caplog.at_level(logging.WARNING, "turbo_cable"):
        assert broadcast("notes", "<p>") is False

    assert warnings_of(caplog) == [
        f"broadcast to stream 'notes' failed: nothing listens at "
        f"http://127.0.0.1:{port}/_broadcast (connection refused). Start the server that "
        "serves the cable there, or set TURBO_CABLE_BROADCAST_URL (or "
        "TURBO_CABLE['BROADCAST_URL']) to its /_broadcast, e.g. "
        "http://127.0.0.1:8001/_broadcast for runserver on port 8001."
    ]


@pytest.fixture(scope="module")
def wsgi_runserver() -> Iterator[str]:
    """Django's own WSGI runserver (no daphne): it serves pages, not the cable."""
    port = free_port()
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "tests.settings"}
    env.pop("TURBO_CABLE_TEST_WITH_DAPHNE", None)
    process = subprocess.Popen(
        [sys.executable, "-m", "django", "runserver", "--noreload", "--skip-checks", str(port)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 30
        while not _accepts(port):
            assert process.poll() is None, "runserver exited"
            assert time.monotonic() < deadline, "runserver did not start"
            time.sleep(0.1)
        yield f"http://127.0.0.1:{port}/_broadcast"
    finally:
        process.terminate()
        process.wait(15)


def _accepts(port: int) -> bool:
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) == 0


def test_a_wsgi_runserver_is_explained_not_dumped(
    wsgi_runserver: str, caplog: pytest.LogCaptureFixture
) -> None:
    with (
        override_settings(TURBO_CABLE={"BROADCAST_URL": wsgi_runserver}),
        caplog.at_level(logging.WARNING, "turbo_cable"),
    ):
        assert broadcast("notes", "<p>") is False

    assert warnings_of(caplog) == [
        f"broadcast to stream 'notes' failed: {wsgi_runserver} answered 404: that server "
        "does not route /_broadcast: is daphne in INSTALLED_APPS and ASGI_APPLICATION set to "
        "an application made by turbo_cable.asgi.get_asgi_application()? If another server "
        "listens there, set TURBO_CABLE_BROADCAST_URL (or TURBO_CABLE['BROADCAST_URL']) to "
        "the cable's /_broadcast."
    ]


def test_a_refusal_from_another_host_names_the_token() -> None:
    url = "http://10.0.0.5:8000/_broadcast"
    refused = DeliveryRefused("HTTP 403: loopback only", 403)

    assert explain_failure(refused, url, CableSettings()) == (
        f"{url} answered 403: the cable takes broadcasts from loopback only, unless "
        "TURBO_CABLE['BROADCAST_TOKEN'] is set to the same value here and on the server."
    )


def test_other_network_errors_name_the_url_and_the_setting() -> None:
    url = "http://cable.invalid/_broadcast"

    assert explain_failure(OSError("Name or service not known"), url, CableSettings()) == (
        f"OSError: Name or service not known (sending to {url}; "
        "TURBO_CABLE_BROADCAST_URL (or TURBO_CABLE['BROADCAST_URL']) changes it)"
    )


# -- positions for pages rendered beside a cable in another process ------------------------

STREAM_TAG = Template("{% load turbo_cable %}{% turbo_stream_from 'page' %}")


def test_a_cable_that_does_not_answer_costs_pages_one_wait_per_pause(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Pages render without a position rather than each waiting on a stalled cable:
    the first one waits ``BROADCAST_TIMEOUT`` and says so once, then for
    ``POSITION_PAUSE`` seconds none asks."""
    stalled = socket.create_server(("127.0.0.1", 0))  # accepts into its backlog, never answers
    url = f"http://127.0.0.1:{stalled.getsockname()[1]}/_broadcast"
    settings = {"BROADCAST_URL": url, "BROADCAST_TIMEOUT": 0.2}
    try:
        with override_settings(TURBO_CABLE=settings), caplog.at_level(logging.WARNING):
            pages = [STREAM_TAG.render(Context()) for _ in range(20)]
        stalled.setblocking(False)
        asked = 0
        with contextlib.suppress(BlockingIOError):
            while True:
                stalled.accept()[0].close()
                asked += 1
    finally:
        stalled.close()
    assert asked == 1
    assert all("epoch=" not in page and "turbo-cable-stream" in page for page in pages)
    assert warnings_of(caplog) == [
        f"no position for 'page' from the cable at {url} (timed out): "
        f"live delivery only, no replay for {POSITION_PAUSE:g} s"
    ]


def test_a_page_asks_the_cable_only_at_an_explicit_broadcast_url(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A derived URL is a guess (port 8000, or $PORT) that may name any server at all."""
    stalled = socket.create_server(("127.0.0.1", 0))
    monkeypatch.setenv("PORT", str(stalled.getsockname()[1]))
    monkeypatch.delenv("TURBO_CABLE_BROADCAST_URL", raising=False)
    try:
        with override_settings(TURBO_CABLE={"BROADCAST_TIMEOUT": 0.2}):
            page = STREAM_TAG.render(Context())
        stalled.setblocking(False)
        with pytest.raises(BlockingIOError):
            stalled.accept()
    finally:
        stalled.close()
    assert "epoch=" not in page
