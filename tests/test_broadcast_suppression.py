"""Suppression covers exactly the block: not other threads, not other asyncio tasks."""

from __future__ import annotations

import asyncio
import threading

import pytest
from asgiref.sync import sync_to_async

from tests.testapp.models import Message
from turbo_cable.broadcast import abroadcast, broadcast
from turbo_cable.suppression import broadcasts_suppressed, suppressing_broadcasts
from turbo_cable.testing import capture_broadcasts


def test_a_suppressed_thread_does_not_silence_another_thread() -> None:
    inside = threading.Event()
    other_done = threading.Event()

    def suppressed() -> None:
        with suppressing_broadcasts():
            inside.set()
            other_done.wait(5)
            broadcast("quiet", "dropped")

    def loud() -> None:
        inside.wait(5)
        broadcast("loud", "sent")
        other_done.set()

    with capture_broadcasts() as sent:
        threads = [threading.Thread(target=suppressed), threading.Thread(target=loud)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(5)
    assert sent == [("loud", "sent")]


def test_a_new_thread_does_not_inherit_suppression() -> None:
    seen: list[bool] = []
    with suppressing_broadcasts():
        thread = threading.Thread(target=lambda: seen.append(broadcasts_suppressed()))
        thread.start()
        thread.join(5)
        assert broadcasts_suppressed() is True
    assert seen == [False]
    assert broadcasts_suppressed() is False


async def test_a_suppressed_task_does_not_silence_a_concurrent_task() -> None:
    inside = asyncio.Event()
    other_done = asyncio.Event()

    async def suppressed() -> None:
        with suppressing_broadcasts():
            inside.set()
            await other_done.wait()
            await abroadcast("quiet", "dropped")

    async def loud() -> None:
        await inside.wait()
        await abroadcast("loud", "sent")
        other_done.set()

    with capture_broadcasts() as sent:
        await asyncio.wait_for(asyncio.gather(suppressed(), loud()), 5)
    assert sent == [("loud", "sent")]


async def test_work_started_inside_the_block_inherits_it() -> None:
    with capture_broadcasts() as sent, suppressing_broadcasts():
        await sync_to_async(broadcast)("a", "from a thread")
        await asyncio.create_task(abroadcast("b", "from a task"))
    assert sent == []


@pytest.mark.django_db
def test_model_suppression_leaves_other_models_and_plain_broadcasts_alone() -> None:
    message = Message.objects.create(body="m")
    with capture_broadcasts() as sent, suppressing_broadcasts(Message):
        assert message.broadcast_remove_to("s") is False
        assert broadcast("plain", "x") is True
    assert sent == [("plain", "x")]


def test_blocks_nest_and_unwind() -> None:
    with suppressing_broadcasts(Message):
        with suppressing_broadcasts():
            assert broadcasts_suppressed()
        assert not broadcasts_suppressed()
        assert broadcasts_suppressed(Message)
    assert not broadcasts_suppressed(Message)
