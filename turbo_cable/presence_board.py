"""Who is on a stream: connections that asked to be seen, and debounced updates about them.

A page opts in per stream (``{% turbo_stream_from room presence=True %}``); its
subscription then carries ``"presence": true`` and the connection's identity
(:mod:`turbo_cable.identity`) joins the stream's presence until it unsubscribes or
goes away. Joins and leaves are not sent one by one: a change starts a short wait
(``PRESENCE_INTERVAL``), and then the stream's subscribers get one message with
everyone present, ``{"presence": {"users": [...], "anonymous": n, "count": m}}``,
and, for pages that asked for it with a target element, the
``PRESENCE_TEMPLATE`` rendered as a Turbo Stream that updates that element. So a
stream gets at most one update per interval however many come and go.

Where presence is kept is the backend's store: this process (memory) or Redis,
where entries carry an expiry pushed back by heartbeats, so the entries of a
process that dies disappear on their own (:mod:`turbo_cable.backends.redis_presence`).
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import time
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any, Protocol

from turbo_cable.app_registry import aload_apps
from turbo_cable.identity import Identity

if TYPE_CHECKING:
    from turbo_cable.backends.base import Backend

logger = logging.getLogger("turbo_cable")


@dataclasses.dataclass(frozen=True)
class Presence:
    """Who is on a stream: each user once (however many tabs), and anonymous sockets."""

    users: tuple[Identity, ...] = ()
    anonymous: int = 0

    @property
    def count(self) -> int:
        return len(self.users) + self.anonymous

    def as_data(self) -> dict[str, Any]:
        return {
            "users": [{"id": user.id, "name": user.name} for user in self.users],
            "anonymous": self.anonymous,
            "count": self.count,
        }


def summarize(entries: Iterable[Identity | None]) -> Presence:
    """Entries (one per subscribed connection) as a :class:`Presence`."""
    users: dict[str, Identity] = {}
    anonymous = 0
    for entry in entries:
        if entry is None:
            anonymous += 1
        else:
            users.setdefault(entry.id, entry)
    ordered = tuple(sorted(users.values(), key=lambda user: (user.name.lower(), user.id)))
    return Presence(ordered, anonymous)


class PresenceStore(Protocol):
    """Where the presence of every process is kept and read."""

    def joined(self, stream: str, member: Any, identity: Identity | None) -> None: ...

    def left(self, stream: str, member: Any) -> None: ...

    async def read(self, stream: str) -> Presence: ...

    def read_sync(self, stream: str) -> Presence: ...

    def stop(self) -> None: ...


@dataclasses.dataclass(slots=True)
class _Seen:
    identity: Identity | None
    target: str | None  # the element a page wants the rendered presence in


class PresenceBoard:
    """This process's presence: who joined which stream, and when to tell the others."""

    def __init__(self, backend: Backend) -> None:
        self.backend = backend
        settings = backend.settings
        self.interval = settings.PRESENCE_INTERVAL
        self.template = settings.PRESENCE_TEMPLATE
        self.here: dict[str, dict[Any, _Seen]] = {}  # stream -> connection -> entry
        self._streams_of: dict[Any, set[str]] = {}
        self._last_sent: dict[str, float] = {}
        self._pending: dict[str, asyncio.TimerHandle] = {}
        self._sending: set[asyncio.Task[None]] = set()
        self.store: PresenceStore = backend.presence_store(self)

    # -- joining and leaving ---------------------------------------------------
    def join(
        self, stream: str, connection: Any, identity: Identity | None, target: str | None
    ) -> None:
        entries = self.here.setdefault(stream, {})
        known = connection in entries
        entries[connection] = _Seen(identity, target)
        self._streams_of.setdefault(connection, set()).add(stream)
        if not known:
            self.store.joined(stream, connection, identity)
            self.changed(stream)

    def leave(self, stream: str, connection: Any) -> None:
        entries = self.here.get(stream)
        if entries is None or entries.pop(connection, None) is None:
            return
        if not entries:
            del self.here[stream]
        streams = self._streams_of.get(connection)
        if streams is not None:
            streams.discard(stream)
            if not streams:
                del self._streams_of[connection]
        self.store.left(stream, connection)
        self.changed(stream)

    def leave_all(self, connection: Any) -> None:
        for stream in list(self._streams_of.get(connection, ())):
            self.leave(stream, connection)

    def local(self, stream: str) -> Presence:
        """Presence as this process sees it (the memory backend's whole truth)."""
        return summarize(seen.identity for seen in list(self.here.get(stream, {}).values()))

    # -- telling the stream, at most once per interval ---------------------------
    def changed(self, stream: str) -> None:
        """Someone came or went (here, or in another process): update the stream soon."""
        loop = self.backend.loop
        if stream in self._pending or loop is None or loop.is_closed():
            return
        if not self.backend.hub.subscriber_count(stream):
            return  # nobody here to tell
        wait = max(0.0, self._last_sent.get(stream, 0.0) + self.interval - time.monotonic())
        # Even the first change waits a moment, so a burst of joins makes one update.
        wait = max(wait, min(self.interval, 0.05))
        self._pending[stream] = loop.call_later(wait, self._send, stream)

    def _send(self, stream: str) -> None:
        self._pending.pop(stream, None)
        self._last_sent[stream] = time.monotonic()
        task = asyncio.get_running_loop().create_task(self._tell(stream))
        self._sending.add(task)
        task.add_done_callback(self._sending.discard)

    async def _tell(self, stream: str) -> None:
        try:
            presence = await self.store.read(stream)
        except Exception as exc:
            logger.warning("could not read the presence of %.80r: %r", stream, exc)
            return
        hub = self.backend.hub
        hub.deliver(stream, {"presence": presence.as_data()})
        targets = sorted(self._targets(stream))
        if targets:
            await aload_apps()  # the template engine; ``runcable`` starts without it
        for target in targets:
            hub.deliver(stream, self._render(target, presence))
        if not hub.subscriber_count(stream):
            self._last_sent.pop(stream, None)

    def _targets(self, stream: str) -> set[str]:
        return {s.target for s in self.here.get(stream, {}).values() if s.target is not None}

    def _render(self, target: str, presence: Presence) -> str:
        from turbo_cable.stream_actions import update

        return update(target, template=self.template, context={"presence": presence})

    def stop(self) -> None:
        for handle in self._pending.values():
            handle.cancel()
        self._pending.clear()
        self.store.stop()


class LocalPresenceStore:
    """The memory backend's store: this process is all there is."""

    def __init__(self, board: PresenceBoard) -> None:
        self.board = board

    def joined(self, stream: str, member: Any, identity: Identity | None) -> None:
        pass

    def left(self, stream: str, member: Any) -> None:
        pass

    async def read(self, stream: str) -> Presence:
        return self.board.local(stream)

    def read_sync(self, stream: str) -> Presence:
        for _ in range(3):  # the loop's thread may change the dict while another thread reads
            try:
                return self.board.local(stream)
            except RuntimeError:
                continue
        return Presence()

    def stop(self) -> None:
        pass


def presence(*streamables: Any) -> Presence:
    """Who is subscribed to the stream built from ``streamables`` with presence on.

    From any process and thread: with Redis it reads Redis (every process and host);
    with the memory backend it knows only a cable running in this process.
    """
    from turbo_cable.backends import presence_of
    from turbo_cable.streams import stream_name

    return presence_of(stream_name(*streamables))
