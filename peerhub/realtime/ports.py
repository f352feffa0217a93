"""What each frame handler may touch: a narrow view of the service per handler.

The handlers (handlers.py) are given the running service (:class:`Realtime`), but each
declares the part of it that it uses as one of the protocols below, so a reader sees
at a glance that, say, ``typing`` can reach the typing bucket and the room's ephemeral
frames and nothing else, and that only ``send`` and the moderators' frames reach the
writer. The real service satisfies each of them: mypy checks it where handlers.py puts
the handlers in its ``HANDLERS`` table (typed with the whole service), and
tests/realtime/test_store_split.py checks it at run time.

The handlers that hand the service on to the moderation toolkit (``subscribe``,
``send`` and the extensions' frames: their contexts carry it as ``api``) include
:class:`~peerhub.realtime.policy.RealtimeAPI`, the toolkit's own view.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Protocol, runtime_checkable

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from peerhub.config import Settings
from peerhub.models import GroupRole
from peerhub.realtime.policy import RealtimeAPI

if TYPE_CHECKING:
    from peerhub.realtime.config import RealtimeConfig
    from peerhub.realtime.events import Event
    from peerhub.realtime.hub import Feed, Peer
    from peerhub.realtime.policy import Registry, RoomPolicy
    from peerhub.realtime.protocol import MessageView, Person, RoomState
    from peerhub.realtime.queries import RoomInfo
    from peerhub.realtime.service import RoomSnapshot
    from peerhub.realtime.writer import Command, Refusal, Result
    from peerhub.security.ratelimit import Decision


# --- the parts the protocols are made of --------------------------------------------


class Buckets(Protocol):
    """A rate limit (peerhub.security.ratelimit.TokenBuckets)."""

    def take(self, key: str, cost: float = 1.0) -> Decision: ...


class Submits(Protocol):
    """The writer's queue for a person's message: the ack comes after the commit."""

    def submit(self, command: Command) -> None: ...


class Writes(Protocol):
    """The writer, waited for: a moderator's system event."""

    async def write(self, command: Command) -> Result: ...


class RoomFeeds(Protocol):
    """The rooms with sockets in this process (peerhub.realtime.hub.Hub), read only."""

    @property
    def feeds(self) -> Mapping[str, Feed]: ...


class JoinsFeeds(RoomFeeds, Protocol):
    """Joining a room's feed, and dropping it when nobody is left."""

    def feed(self, room: str) -> Feed: ...
    def drop_if_empty(self, room: str) -> None: ...


class PeersOf(Protocol):
    """A person's sockets in this process."""

    def peers_of(self, user_id: str) -> list[Peer]: ...


class PresenceBook(Protocol):
    """Who is in each room (peerhub.realtime.presence.Presence)."""

    def add(self, room: str, person: Person) -> None: ...
    def union(self, room: str) -> dict[str, Person]: ...


# --- one per handler (or group of handlers) ------------------------------------------


@runtime_checkable
class Reads(Protocol):
    """The database, to read (a retry's original ack; the two-step standing)."""

    @property
    def sessions(self) -> async_sessionmaker[AsyncSession]: ...


@runtime_checkable
class Checks(Reads, Protocol):
    """Re-checking a person's sign-in and rank in the database (``handlers.access``),
    and telling the socket when its rank changed."""

    @property
    def settings(self) -> Settings: ...
    def now(self) -> datetime: ...
    def set_rank(self, peer: Peer, room: str, rank: GroupRole) -> None: ...


@runtime_checkable
class Leaves(Protocol):
    """``unsubscribe``: leave a room's feed and presence."""

    def leave(self, peer: Peer, room: str) -> None: ...


@runtime_checkable
class Subscribes(Checks, Leaves, RealtimeAPI, Protocol):
    """``subscribe`` and ``resume``: read the room (its row made on first use), ask the
    policies (which get the service as ``api``), join the feed and the presence, and
    catch up."""

    @property
    def config(self) -> RealtimeConfig: ...
    @property
    def policy(self) -> RoomPolicy: ...
    @property
    def hub(self) -> JoinsFeeds: ...
    @property
    def presence(self) -> PresenceBook: ...
    def remember_room(self, room: str, info: RoomInfo) -> RoomSnapshot: ...
    def schedule_flush(self) -> None: ...
    def state_for(self, room: str, rank: GroupRole) -> RoomState: ...


@runtime_checkable
class Sends(RealtimeAPI, Protocol):
    """``send``: the limits, the room's gate, the policies (which get the service as
    ``api``), and the writer's queue. Nothing is fanned out here: that is the writer's
    commit (service._on_commit)."""

    @property
    def config(self) -> RealtimeConfig: ...
    @property
    def policy(self) -> RoomPolicy: ...
    @property
    def rooms(self) -> Mapping[str, RoomSnapshot]: ...
    @property
    def send_limits(self) -> Buckets: ...
    @property
    def writer(self) -> Submits: ...
    def gate(
        self, room: str, is_open: bool, moderator_only: bool, rank: GroupRole
    ) -> Refusal | None: ...
    def next_meeting_iso(self, room: str) -> str | None: ...


@runtime_checkable
class ReadsHistory(Checks, Protocol):
    """``history``: a page of the log (queries.fetch_before), shown as the feed would."""

    @property
    def config(self) -> RealtimeConfig: ...
    def event_of(self, view: MessageView) -> Event: ...


@runtime_checkable
class MarksRead(Checks, Protocol):
    """``read``: the person's read position, never past the room's last seq here."""

    @property
    def read_limits(self) -> Buckets: ...
    @property
    def hub(self) -> RoomFeeds: ...


@runtime_checkable
class Types(Protocol):
    """``typing``: an ephemeral frame to the room, within the typing bucket."""

    @property
    def typing_limits(self) -> Buckets: ...
    def send_to_room(self, room_id: str, frame: bytes, *, skip_user: str | None = None) -> None: ...


@runtime_checkable
class AcceptsRules(Checks, Protocol):
    """``rules.accept``: store the acceptance, and tell the person's other sockets."""

    @property
    def hub(self) -> PeersOf: ...


@runtime_checkable
class Moderates(Checks, Protocol):
    """``session.open``, ``session.close``, ``room.settings``: a system event through the
    writer, the room re-read in every process, the extensions' event listeners told."""

    @property
    def writer(self) -> Writes: ...
    @property
    def registry(self) -> Registry: ...
    def remember_room(self, room: str, info: RoomInfo) -> RoomSnapshot: ...
    def refresh_room(self, room_id: str) -> None: ...


@runtime_checkable
class Extends(Checks, RealtimeAPI, Protocol):
    """An extension's frame: its registered handler, given the service as ``api``."""

    @property
    def registry(self) -> Registry: ...


# Every protocol a handler is typed with (tests/realtime/test_store_split.py).
HANDLER_PORTS: tuple[type, ...] = (
    Reads,
    Checks,
    Leaves,
    Subscribes,
    Sends,
    ReadsHistory,
    MarksRead,
    Types,
    AcceptsRules,
    Moderates,
    Extends,
)
