"""The helpers projects use in their own tests: capture and assert broadcasts."""

from __future__ import annotations

import threading

import pytest

from tests.testapp.models import Comment, Message
from turbo_cable.broadcast import broadcast, broadcast_json
from turbo_cable.testing import assert_broadcasts, assert_no_broadcasts, capture_broadcasts


def test_capture_records_instead_of_delivering_from_every_thread() -> None:
    with capture_broadcasts() as sent:
        assert broadcast("a", "<p>1</p>") is True  # nothing listens: only capture can accept
        thread = threading.Thread(target=broadcast_json, args=("b", {"n": 2}))
        thread.start()
        thread.join(5)
    assert sent == [("a", "<p>1</p>"), ("b", {"n": 2})]
    assert sent.for_stream("b") == [{"n": 2}]


def test_captures_nest() -> None:
    with capture_broadcasts() as outer:
        broadcast("a", "1")
        with capture_broadcasts() as inner:
            broadcast("a", "2")
    assert [b.data for b in outer] == ["1", "2"]
    assert [b.data for b in inner] == ["2"]


@pytest.mark.django_db(transaction=True)
def test_assert_broadcasts_counts_the_broadcasts_to_one_stream() -> None:
    with assert_broadcasts("comments", count=2):
        Comment.objects.create(body="a")
        Comment.objects.create(body="b")
    with assert_broadcasts("comments"):
        Comment.objects.create(body="c")


def test_assert_broadcasts_fails_with_what_was_sent() -> None:
    def one_of_two() -> None:
        with assert_broadcasts("a", count=2):
            broadcast("a", "x")
            broadcast("b", "y")

    expected = r"Expected 2 broadcast\(s\) to 'a', got 1; made: 'a', 'b'"
    with pytest.raises(AssertionError, match=expected):
        one_of_two()


def test_assert_broadcasts_without_a_count_needs_at_least_one() -> None:
    with pytest.raises(AssertionError, match="at least 1 broadcast"), assert_broadcasts("a"):
        pass


@pytest.mark.django_db
def test_assert_no_broadcasts_to_a_stream_allows_others() -> None:
    message = Message.objects.create(body="m")
    with assert_no_broadcasts("elsewhere"):
        message.broadcast_remove_to("inbox")
    no_inbox = assert_no_broadcasts("inbox")
    with pytest.raises(AssertionError, match="Expected no broadcast to 'inbox', got 1"), no_inbox:
        message.broadcast_remove_to("inbox")


def test_assert_no_broadcasts_at_all() -> None:
    with assert_no_broadcasts():
        pass
    with (
        pytest.raises(AssertionError, match="Expected no broadcasts; made: 'x'"),
        assert_no_broadcasts(),
    ):
        broadcast("x", "y")
