"""Stream history: positions, catching up, and knowing when it cannot."""

from __future__ import annotations

import pytest

from turbo_cable.history import BEFORE_HISTORY, MemoryHistory, Position, parse_position


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def history(clock: Clock) -> MemoryHistory:
    return MemoryHistory(size=3, ttl=60, clock=clock)


def test_offsets_grow_by_one_per_message_on_each_stream(history: MemoryHistory) -> None:
    a1, a2, b1 = history.append("a", 1), history.append("a", 2), history.append("b", 1)
    assert (a1.offset, a2.offset, b1.offset) == (1, 2, 1)
    assert a1.epoch == a2.epoch != b1.epoch


def test_a_client_gets_exactly_what_followed_its_position(history: MemoryHistory) -> None:
    start = history.position("s")
    assert start.offset == 0
    for n in range(3):
        history.append("s", f"m{n}")
    assert history.since("s", start) == [(1, "m0"), (2, "m1"), (3, "m2")]
    assert history.since("s", Position(start.epoch, 2)) == [(3, "m2")]
    assert history.since("s", Position(start.epoch, 3)) == []


def test_a_gap_beyond_the_window_cannot_be_covered(history: MemoryHistory) -> None:
    start = history.position("s")
    for n in range(5):
        history.append("s", n)
    assert history.since("s", start) is None
    assert history.since("s", Position(start.epoch, 1)) is None
    assert history.since("s", Position(start.epoch, 2)) == [(3, 2), (4, 3), (5, 4)]


def test_messages_older_than_the_ttl_cannot_be_replayed(
    history: MemoryHistory, clock: Clock
) -> None:
    start = history.position("s")
    history.append("s", "old")
    clock.now += 61
    history.append("s", "new")
    assert history.since("s", start) is None
    assert history.since("s", Position(start.epoch, 1)) == [(2, "new")]


def test_another_epoch_or_a_future_offset_cannot_be_honoured(history: MemoryHistory) -> None:
    position = history.append("s", "x")
    assert history.since("s", Position("another-process", 0)) is None
    assert history.since("s", Position(position.epoch, 5)) is None
    assert history.since("unknown", position) is None


def test_peeking_at_a_stream_without_history_changes_nothing(history: MemoryHistory) -> None:
    assert history.peek("s") == BEFORE_HISTORY
    assert len(history) == 0  # a page rendering a marker creates no stream
    history.append("s", "x")
    assert history.peek("s") == history.position("s")
    assert history.peek("s").offset == 1


def test_a_page_reads_where_the_stream_stood_when_its_request_began(
    history: MemoryHistory, clock: Clock
) -> None:
    """A view reads its data after its request began: messages since then are replayed."""
    for n in range(3):  # at 1000, 1010, 1020
        history.append("s", f"m{n}")
        clock.now += 10
    epoch = history.peek("s").epoch
    began = [None, 1025, 1020, 1015, 1005, 995]
    assert [history.peek("s", since).offset for since in began] == [3, 3, 3, 2, 1, 0]
    assert history.peek("s", 1015) == Position(epoch, 2)
    assert history.since("s", history.peek("s", 1015)) == [(3, "m2")]


def test_a_page_older_than_every_kept_message_replays_all_that_is_kept(
    history: MemoryHistory, clock: Clock
) -> None:
    """Whether the dropped ones came before the request nobody knows; replaying what is
    kept is the most a page can get (a resync would refresh it into the same spot)."""
    for n in range(4):  # at 1000, 1010, 1020, 1030; three are kept, m0 is dropped
        history.append("s", f"m{n}")
        clock.now += 10
    assert history.peek("s", 995).offset == 1
    assert history.since("s", history.peek("s", 995)) == [(2, "m1"), (3, "m2"), (4, "m3")]


def test_without_kept_messages_a_page_reads_where_the_stream_is(clock: Clock) -> None:
    positions_only = MemoryHistory(size=0, ttl=60, clock=clock)
    positions_only.append("s", "x")
    clock.now += 10
    assert positions_only.peek("s", 900).offset == 1


def test_a_client_from_before_the_history_gets_the_whole_epoch(history: MemoryHistory) -> None:
    assert history.since("s", BEFORE_HISTORY) == []  # still no message
    history.append("s", "m0")
    history.append("s", "m1")
    assert history.since("s", BEFORE_HISTORY) == [(1, "m0"), (2, "m1")]
    for n in range(2, 5):
        history.append("s", f"m{n}")
    assert history.since("s", BEFORE_HISTORY) is None  # offset 1 is out of the window


def test_a_restarted_process_has_new_epochs() -> None:
    first, second = MemoryHistory(10, 60), MemoryHistory(10, 60)
    assert first.position("s").epoch != second.position("s").epoch


def test_idle_unlistened_streams_are_forgotten_and_come_back_with_a_new_epoch(
    history: MemoryHistory, clock: Clock
) -> None:
    old = history.append("s", "x")
    history.append("kept", "y")
    clock.now += 61
    history.sweep(listened=lambda stream: stream == "kept")
    assert len(history) == 1
    new = history.append("s", "z")
    assert new.epoch != old.epoch
    assert history.since("s", old) is None


def test_a_listener_leaving_keeps_the_stream_for_another_ttl(
    history: MemoryHistory, clock: Clock
) -> None:
    history.append("s", "x")
    clock.now += 59
    history.touch("s")
    clock.now += 59
    history.sweep(listened=lambda stream: False)
    assert len(history) == 1


def test_size_zero_keeps_positions_but_no_messages() -> None:
    history = MemoryHistory(size=0, ttl=60)
    start = history.position("s")
    history.append("s", "x")
    assert history.position("s").offset == 1
    assert history.since("s", start) is None


@pytest.mark.parametrize(
    ("value", "parsed"),
    [
        ({"epoch": "e", "offset": 3}, Position("e", 3)),
        ({"epoch": "e", "offset": 0}, Position("e", 0)),
        ({"epoch": "", "offset": 3}, None),
        ({"epoch": "", "offset": 0}, BEFORE_HISTORY),
        ({"epoch": "e", "offset": -1}, None),
        ({"epoch": "e", "offset": True}, None),
        ({"epoch": "e" * 65, "offset": 1}, None),
        ({"epoch": 5, "offset": 1}, None),
        ("e:3", None),
        (None, None),
    ],
)
def test_positions_from_clients_are_validated(value: object, parsed: Position | None) -> None:
    assert parse_position(value) == parsed
