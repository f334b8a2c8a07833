"""Refreshes carry Turbo's request id and are sent once per stream per request or task."""

from __future__ import annotations

import django
import pytest
from asgiref.sync import sync_to_async
from django.http import HttpRequest, HttpResponse
from django.test import RequestFactory, override_settings

from tests.testapp.jobs import create_notes
from tests.testapp.models import Note
from turbo_cable.middleware import TurboCableMiddleware
from turbo_cable.refreshes import collecting_refreshes
from turbo_cable.testing import capture_broadcasts

pytestmark = pytest.mark.django_db(transaction=True)

REQUEST_ID = "8a6c2d1e-5f3b-4c7a-9e0d-1b2c3d4e5f60"
REFRESH_WITH_ID = f'<turbo-stream action="refresh" request-id="{REQUEST_ID}"></turbo-stream>'
REFRESH = '<turbo-stream action="refresh"></turbo-stream>'


def save_three_notes(request: HttpRequest) -> HttpResponse:
    create_notes(3)
    return HttpResponse("ok")


def test_a_request_sends_one_refresh_per_stream_tagged_with_its_id() -> None:
    request = RequestFactory().post("/", headers={"X-Turbo-Request-Id": REQUEST_ID})
    with capture_broadcasts() as sent:
        TurboCableMiddleware(save_three_notes)(request)
    assert sent == [("notes", REFRESH_WITH_ID)]


def test_without_the_middleware_every_save_refreshes_at_once() -> None:
    with capture_broadcasts() as sent:
        create_notes(3)
    assert sent == [("notes", REFRESH)] * 3


def test_refreshes_wait_for_the_end_of_the_request() -> None:
    seen_during_view: list[int] = []

    def view(request: HttpRequest) -> HttpResponse:
        create_notes(2)
        seen_during_view.append(len(sent))
        return HttpResponse("ok")

    with capture_broadcasts() as sent:
        TurboCableMiddleware(view)(RequestFactory().get("/"))
    assert seen_during_view == [0]
    assert sent == [("notes", REFRESH)]


def test_refreshes_are_sent_even_when_the_view_raises() -> None:
    def failing(request: HttpRequest) -> HttpResponse:
        create_notes(2)
        raise RuntimeError("boom")

    with capture_broadcasts() as sent, pytest.raises(RuntimeError, match="boom"):
        TurboCableMiddleware(failing)(RequestFactory().get("/"))
    assert sent == [("notes", REFRESH)]


def test_a_hostile_request_id_is_ignored() -> None:
    request = RequestFactory().post("/", headers={"X-Turbo-Request-Id": '"><script>'})
    with capture_broadcasts() as sent:
        TurboCableMiddleware(save_three_notes)(request)
    assert sent == [("notes", REFRESH)]


async def test_the_async_middleware_collects_refreshes_from_sync_code() -> None:
    async def view(request: HttpRequest) -> HttpResponse:
        await sync_to_async(create_notes)(3)
        return HttpResponse("ok")

    middleware = TurboCableMiddleware(view)
    request = RequestFactory().post("/", headers={"X-Turbo-Request-Id": REQUEST_ID})
    with capture_broadcasts() as sent:
        response = await middleware(request)
    assert response.status_code == 200
    assert sent == [("notes", REFRESH_WITH_ID)]


def test_a_script_can_collect_refreshes_itself() -> None:
    with capture_broadcasts() as sent:
        with collecting_refreshes():
            note = Note.objects.create(body="a")
            note.save()
            note.save()
            assert sent == []
        # one for the collection (create), one for the note's own stream (updates)
        assert sent == [("notes", REFRESH), (f"testapp.note:{note.pk}", REFRESH)]


def test_a_task_sends_one_refresh_per_stream_when_it_ends() -> None:
    if django.VERSION < (6, 0):
        # No django.tasks before 6.0: there is no task to hook, and nothing is queued.
        from turbo_cable import tasks

        assert tasks.queued_broadcast is None
        with capture_broadcasts() as sent:
            create_notes(2)
        assert sent == [("notes", REFRESH)] * 2
        return
    from django.tasks import task

    immediate = {"default": {"BACKEND": "django.tasks.backends.immediate.ImmediateBackend"}}
    with override_settings(TASKS=immediate), capture_broadcasts() as sent:
        result = task(create_notes).enqueue(3)
    assert result.return_value == 3
    assert sent == [("notes", REFRESH)]
