"""The hub: who listens to what, and fan-out that encodes once."""

from __future__ import annotations

import json
from typing import Any

from turbo_cable.hub import Hub


class Inbox:
    def __init__(self) -> None:
        self.events: list[dict[str, Any]] = []

    def deliver(self, event: dict[str, Any]) -> None:
        self.events.append(event)


def test_the_first_subscriber_and_the_last_to_leave_are_reported() -> None:
    hub, a, b = Hub(), Inbox(), Inbox()
    assert hub.add("s", "s:sig", a) is True
    assert hub.add("s", "s:sig", b) is False
    assert hub.discard("s", "s:sig", a) is False
    assert hub.discard("s", "s:sig", b) is True
    assert hub.streams() == []


def test_every_subscriber_gets_the_very_same_event_object() -> None:
    hub, a, b = Hub(), Inbox(), Inbox()
    hub.add("s", "s:sig", a)
    hub.add("s", "s:sig", b)
    assert hub.deliver("s", "<p>") == 2
    assert a.events[0] is b.events[0]
    assert json.loads(a.events[0]["text"]) == {"type": "message", "stream": "s:sig", "data": "<p>"}


def test_subscribers_see_the_stream_name_they_subscribed_with() -> None:
    hub, old_key, new_key = Hub(), Inbox(), Inbox()
    hub.add("s", "s:old-signature", old_key)
    hub.add("s", "s:new-signature", new_key)
    hub.deliver("s", 1)
    assert json.loads(old_key.events[0]["text"])["stream"] == "s:old-signature"
    assert json.loads(new_key.events[0]["text"])["stream"] == "s:new-signature"
    assert hub.subscriber_count("s") == 2


def test_a_stream_without_subscribers_costs_nothing() -> None:
    assert Hub().deliver("nobody", "x") == 0


def test_discarding_twice_or_unknown_is_harmless() -> None:
    hub, a = Hub(), Inbox()
    assert hub.discard("s", "w", a) is False
    hub.add("s", "w", a)
    hub.discard("s", "w", a)
    assert hub.discard("s", "w", a) is False


class Dropper(Inbox):
    """Leaves the hub while it is being delivered to, like an overflowing socket."""

    def __init__(self, hub: Hub) -> None:
        super().__init__()
        self.hub = hub

    def deliver(self, event: dict[str, Any]) -> None:
        self.hub.discard("s", "w", self)


def test_a_subscriber_leaving_during_delivery_does_not_disturb_the_others() -> None:
    hub, a = Hub(), Inbox()
    hub.add("s", "w", Dropper(hub))
    hub.add("s", "w", a)
    hub.deliver("s", "x")
    assert len(a.events) == 1
    assert hub.subscriber_count("s") == 1
