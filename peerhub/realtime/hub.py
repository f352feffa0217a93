"""The in-process hub: rooms → sockets, ordered fan-out, bounded per-socket queues.

**Feeds.** Each room with a subscriber here has a :class:`Feed` that delivers its
log in ``seq`` order exactly once. It knows the last seq it delivered; an event
with the next seq goes out at once, a later one waits in ``pending`` while the
gap is read from the database (the bus is at-most-once; events from other
processes can also arrive out of order), an earlier one is a duplicate and is
dropped. A small ring of recent events serves quick reconnects without a query.

**Subscribing** never loses or repeats a message: the socket joins the feed
first (from then on live events are held in its buffer), then it is sent what it
missed up to the feed's position ``L`` (from the ring or the database), then its
buffer (all ``> L``), and only then goes live.

**Sending** to sockets: every event is encoded once. Sockets whose queue is
empty and whose TCP buffer has room are written to directly with
``websockets.broadcast`` (no task switch per socket); the others get the bytes in
their :class:`Outbox`, a bounded queue drained by its own writer task that
coalesces what is waiting into one ``batch`` frame. A queue that overflows means
a client that cannot keep up: it is closed with 1013 and resumes from its last seq.

**Catching up** is paced by the socket's own drain: what a socket missed is read in
pages and put in its outbox only while the outbox is less than half full, so a client
that reads is never closed however much it missed (issue 10). A client that stops
reading is found by its outbox: a send that has not left for ``stall_timeout``
seconds, or a queue that overflows, closes it with 1013.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import deque
from collections.abc import AsyncGenerator, Awaitable, Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from websockets.asyncio.connection import broadcast
from websockets.asyncio.server import ServerConnection
from websockets.exceptions import ConnectionClosed

from peerhub import i18n
from peerhub.models import GroupRole
from peerhub.realtime import protocol
from peerhub.realtime.config import RealtimeConfig
from peerhub.realtime.events import Event
from peerhub.realtime.queries import role_name

if TYPE_CHECKING:
    from peerhub.realtime.policy import Classification, SendContext

log = logging.getLogger("peerhub.realtime.hub")

CLOSE_SLOW = 1013
CLOSE_POLICY = 1008
CLOSE_GOING_AWAY = 1001
MAX_PENDING = 4096
SLOW_REASON = "Too far behind; reconnect and resume."


class Outbox:
    """A socket's bounded send queue, with a writer task only while it is non-empty."""

    __slots__ = (
        "_space",
        "batch_bytes",
        "closed",
        "conn",
        "high",
        "max_bytes",
        "max_frames",
        "on_overflow",
        "queue",
        "queued_bytes",
        "sending_since",
        "sent_batches",
        "transport",
        "writer",
    )

    def __init__(
        self, conn: ServerConnection, config: RealtimeConfig, on_overflow: Callable[[], None]
    ) -> None:
        self.conn = conn
        self.transport = conn.transport
        self.high = config.write_limit
        self.max_frames = config.queue_frames
        self.max_bytes = config.queue_bytes
        self.batch_bytes = config.batch_bytes
        self.on_overflow = on_overflow
        self.queue: deque[bytes] = deque()
        self.queued_bytes = 0
        self.writer: asyncio.Task[None] | None = None
        self.closed = False
        self.sent_batches = 0
        # When the send now in progress began (None: none is): a send that has not
        # left for ``stall_timeout`` seconds is a client that stopped reading.
        self.sending_since: float | None = None
        # Set whenever the queue shrinks or the outbox shuts: paced senders wait on it.
        self._space: asyncio.Event | None = None

    def can_write_now(self) -> bool:
        return (
            self.writer is None
            and not self.closed
            and self.transport.get_write_buffer_size() < self.high
        )

    def push(self, data: bytes) -> None:
        if self.closed:
            return
        if self.can_write_now():
            broadcast((self.conn,), data, text=True)
        else:
            self.enqueue(data)

    def enqueue(self, data: bytes) -> None:
        if self.closed:
            return
        self.queue.append(data)
        self.queued_bytes += len(data)
        if len(self.queue) > self.max_frames or self.queued_bytes > self.max_bytes:
            self.overflow()
            return
        if self.writer is None:
            self.writer = asyncio.get_running_loop().create_task(self._drain())

    def overflow(self) -> None:
        """The client cannot keep up: drop what waits and let the peer close (1013)."""
        if self.closed:
            return
        self.shut()
        self.on_overflow()

    def shut(self) -> None:
        """Send nothing more; wake anyone waiting for room."""
        self.closed = True
        self.queue.clear()
        self.queued_bytes = 0
        if self._space is not None:
            self._space.set()

    def has_room(self, size: int) -> bool:
        """Room for ``size`` more bytes while staying under half of both bounds:
        the other half is for what arrives meanwhile (acks, presence, live events)."""
        return not self.queue or (
            len(self.queue) < self.max_frames // 2
            and self.queued_bytes + size <= self.max_bytes // 2
        )

    async def push_paced(self, data: bytes) -> None:
        """Push, first waiting while the outbox is half full: the pace of a catch-up is
        the client's own reading. Returns at once if the outbox is (or gets) shut."""
        while not self.closed and not self.has_room(len(data)):
            if self._space is None:
                self._space = asyncio.Event()
            self._space.clear()
            await self._space.wait()
        self.push(data)

    def stalled(self, now: float, limit: float) -> bool:
        since = self.sending_since
        return since is not None and now - since > limit

    async def _drain(self) -> None:
        loop = asyncio.get_running_loop()
        try:
            while self.queue and not self.closed:
                frames = [self.queue.popleft()]
                size = len(frames[0])
                while self.queue and size + len(self.queue[0]) <= self.batch_bytes:
                    frame = self.queue.popleft()
                    size += len(frame)
                    frames.append(frame)
                self.queued_bytes -= size
                if len(frames) == 1:
                    payload = frames[0]
                else:
                    payload = protocol.batch(frames)
                    self.sent_batches += 1
                if self._space is not None:
                    self._space.set()
                self.sending_since = loop.time()
                await self.conn.send(payload, text=True)
                self.sending_since = None
        except ConnectionClosed:
            self.shut()
        finally:
            self.sending_since = None
            self.writer = None
            if self._space is not None:
                self._space.set()


class Peer:
    """One authenticated socket: who it is, its ranks, its rooms, its outbox."""

    def __init__(
        self,
        conn: ServerConnection,
        config: RealtimeConfig,
        *,
        socket_id: str,
        user_id: str,
        pseudonym: str,
        sign_in_id: str,
        closer: Callable[[Peer, int, str], None],
    ) -> None:
        self.conn = conn
        self.socket_id = socket_id
        self.user_id = user_id
        self.pseudonym = pseudonym
        self.sign_in_id = sign_in_id
        self.ranks: dict[str, GroupRole] = {}
        self.subs: dict[str, Subscription] = {}
        self.hidden_senders: set[str] = set()
        self.rules_ok: dict[str, bool] = {}
        self.closing = False
        self.close_code: int | None = None
        self.close_reason = ""
        self.active = False  # sent a frame since the last sign-in touch
        self.inflight = 0
        # The interface language of the person (their account's, else the page's):
        # the words of error frames, notices and close reasons sent to this socket.
        self.language = i18n.current().tag
        self._closer = closer
        self.outbox = Outbox(conn, config, self._overflow)

    def _overflow(self) -> None:
        self.close(CLOSE_SLOW, SLOW_REASON)

    # SocketView (peerhub.realtime.policy)
    def rank(self, room_id: str) -> GroupRole:
        return self.ranks.get(room_id, GroupRole.NONE)

    def in_room(self, room_id: str) -> bool:
        return room_id in self.subs

    def send(self, frame: bytes) -> None:
        self.outbox.push(frame)

    def close(self, code: int, reason: str) -> None:
        """Close at once; frames already read but not handled are refused."""
        if self.closing:
            return
        reason = str(reason)  # a lazy_gettext text: in the language active here
        self.closing = True
        self.close_code, self.close_reason = code, reason
        self.outbox.shut()
        self._closer(self, code, reason)

    def person(self, room_id: str) -> protocol.Person:
        return protocol.Person(self.user_id, self.pseudonym, role_name(self.rank(room_id)))


@dataclass(slots=True)
class SendOrigin:
    """What the writer hands back with a person's message (handlers.py makes it, the
    service reads it once the message is committed)."""

    peer: Peer
    ctx: SendContext
    classification: Classification


class Subscription:
    __slots__ = ("buffer", "live", "moderator", "peer", "presence_base", "room")

    def __init__(self, peer: Peer, room: str, moderator: bool) -> None:
        self.peer = peer
        self.room = room
        self.moderator = moderator
        self.live = False
        self.buffer: list[Event] = []
        # Who this socket was told is here (``subscribed.present``) until its first
        # presence frame; None once it gets the room's shared presence frames.
        self.presence_base: dict[str, protocol.Person] | None = None


Fetch = Callable[[str, int, int, int], Awaitable[list[Event]]]
Tail = Callable[[str], Awaitable[int]]


@dataclass(slots=True)
class CatchUp:
    sub: Subscription
    latest: int
    limited: bool
    start: int  # send events with seq > start (up to latest)


class Feed:
    def __init__(self, hub: Hub, room: str) -> None:
        self.hub = hub
        self.room = room
        self.subs: dict[str, Subscription] = {}  # by socket id
        self.last_seq: int | None = None
        # Plain tuples of atomic values: the garbage collector stops tracking them,
        # so a thousand rooms' rings add nothing to a full collection's work.
        self.ring: deque[tuple[int, bytes, str, str | None, str]] = deque(
            maxlen=hub.config.ring_size
        )
        self.pending: dict[int, Event] = {}
        self.fill_target = 0
        self.fill_task: asyncio.Task[None] | None = None
        self.ready = asyncio.Event()
        self.init_task: asyncio.Task[None] | None = asyncio.get_running_loop().create_task(
            self._init(), name=f"feed-init-{room[:8]}"
        )
        self.delivered = 0

    async def _init(self) -> None:
        delay = 0.05
        while True:
            try:
                tail = await self.hub.tail(self.room)
                break
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.warning("feed start failed: %s", exc.__class__.__name__)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 2.0)
        self.last_seq = tail
        self.init_task = None
        self._advance()
        self.ready.set()

    # --- ordering -------------------------------------------------------------------

    def on_event(self, event: Event) -> None:
        last = self.last_seq
        if last is not None and event.seq == last + 1 and not self.pending:
            self._deliver(event)
            return
        if last is not None and event.seq <= last:
            return
        if len(self.pending) >= MAX_PENDING:
            # Far behind: forget the copies, read everything from the log.
            self.fill_target = max(self.fill_target, event.seq, *self.pending)
            self.pending.clear()
            self._start_fill()
            return
        self.pending[event.seq] = event
        if last is not None:
            self._advance()

    def _advance(self) -> None:
        assert self.last_seq is not None  # noqa: S101 - only called once started
        while (event := self.pending.pop(self.last_seq + 1, None)) is not None:
            self._deliver(event)
        for seq in [s for s in self.pending if s <= self.last_seq]:
            del self.pending[seq]
        if self.pending:
            self.fill_target = max(self.fill_target, max(self.pending))
        if self.fill_target > self.last_seq:
            self._start_fill()

    def request_fill(self, target: int) -> None:
        """The log has events up to ``target`` (the tail check, a reconnected bus)."""
        if self.last_seq is None or target <= self.last_seq:
            return
        self.fill_target = max(self.fill_target, target)
        self._start_fill()

    def _start_fill(self) -> None:
        if self.fill_task is None and self.last_seq is not None:
            self.fill_task = asyncio.get_running_loop().create_task(
                self._fill(), name=f"feed-fill-{self.room[:8]}"
            )

    async def _fill(self) -> None:
        try:
            while self.last_seq is not None and self.fill_target > self.last_seq:
                events = await self.hub.fetch(
                    self.room, self.last_seq, self.fill_target, self.hub.config.resume_max
                )
                if not events:
                    log.warning("room log has no events where the counter says there are")
                    self.fill_target = self.last_seq
                    break
                for event in events:
                    if event.seq <= self.last_seq:
                        continue
                    self._deliver(self.pending.pop(event.seq, event))
                self.hub.filled += len(events)
                self._drain_pending()
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            # The tail check will ask again.
            log.warning("gap fill failed: %s", exc.__class__.__name__)
        finally:
            self.fill_task = None

    def _drain_pending(self) -> None:
        assert self.last_seq is not None  # noqa: S101
        while (event := self.pending.pop(self.last_seq + 1, None)) is not None:
            self._deliver(event)
        for seq in [s for s in self.pending if s <= self.last_seq]:
            del self.pending[seq]

    # --- fan-out --------------------------------------------------------------------

    def _deliver(self, event: Event) -> None:
        self.last_seq = event.seq
        if event.kind == "system":
            # A system event may amend earlier messages (a redaction, an approval):
            # their frames in the ring are stale, so catch-ups read the log instead.
            self.ring.clear()
        self.ring.append((event.seq, event.frame, event.status, event.sender_id, event.kind))
        self.delivered += 1
        frame = event.frame
        public = event.public
        sender = event.sender_id
        direct: list[ServerConnection] = []
        for sub in self.subs.values():
            peer = sub.peer
            if not sub.live:
                sub.buffer.append(event)
                if len(sub.buffer) > self.hub.config.queue_frames:
                    sub.buffer.clear()
                    peer.close(CLOSE_SLOW, SLOW_REASON)
                continue
            if not public and not (sub.moderator or peer.user_id == sender):
                continue
            if sender is not None and peer.hidden_senders and sender in peer.hidden_senders:
                continue
            outbox = peer.outbox
            if (
                outbox.writer is None
                and not outbox.closed
                and outbox.transport.get_write_buffer_size() < outbox.high
            ):
                direct.append(peer.conn)
            else:
                outbox.enqueue(frame)
        if direct:
            broadcast(direct, frame, text=True)
            self.hub.deliveries += len(direct)

    def send_ephemeral(
        self,
        frame: bytes,
        *,
        skip_user: str | None = None,
        moderators_only: bool = False,
        only: Callable[[Subscription], bool] | None = None,
    ) -> None:
        """A frame outside the log (typing, presence, room state) to the room's sockets
        (those ``only`` accepts, when given)."""
        direct: list[ServerConnection] = []
        for sub in self.subs.values():
            peer = sub.peer
            if peer.user_id == skip_user or (moderators_only and not sub.moderator):
                continue
            if only is not None and not only(sub):
                continue
            if skip_user is not None and skip_user in peer.hidden_senders:
                continue
            if peer.outbox.can_write_now():
                direct.append(peer.conn)
            else:
                peer.outbox.enqueue(frame)
        if direct:
            broadcast(direct, frame, text=True)

    # --- subscribing ----------------------------------------------------------------

    def join(self, peer: Peer, moderator: bool, after: int | None) -> CatchUp:
        """Add the socket (not yet live) and say what it must be sent to catch up."""
        assert self.last_seq is not None  # noqa: S101 - callers await ready first
        sub = Subscription(peer, self.room, moderator)
        self.subs[peer.socket_id] = sub
        latest = self.last_seq
        config = self.hub.config
        if after is None:
            start, limited = max(0, latest - config.page_size), latest > config.page_size
        elif after >= latest:
            start, limited = latest, False
        elif latest - after > config.resume_max:
            start, limited = max(0, latest - config.page_size), True
        else:
            start, limited = after, False
        return CatchUp(sub, latest, limited, start)

    async def catch_up_pages(self, catch: CatchUp) -> AsyncGenerator[list[Event], None]:
        """Events with ``start < seq <= latest``, from the ring or else the database,
        in pages of ``catch_up_page``: memory holds one page, not the whole catch-up."""
        if catch.start >= catch.latest:
            return
        ring = self.ring
        if ring and ring[0][0] <= catch.start + 1 and ring[-1][0] >= catch.latest:
            yield [
                Event(self.room, *entry) for entry in ring if catch.start < entry[0] <= catch.latest
            ]
            return
        cursor = catch.start
        while cursor < catch.latest:
            chunk = await self.hub.fetch(
                self.room, cursor, catch.latest, self.hub.config.catch_up_page
            )
            if not chunk:
                break
            yield chunk
            cursor = chunk[-1].seq

    async def catch_up(self, catch: CatchUp) -> None:
        """Send the socket what it missed, paced by its own drain (see the module)."""
        sub, outbox = catch.sub, catch.sub.peer.outbox
        async with contextlib.aclosing(self.catch_up_pages(catch)) as pages:
            async for page in pages:
                for event in page:
                    if outbox.closed:
                        return
                    if self.hub.visible(sub, event):
                        await outbox.push_paced(event.frame)

    async def go_live(self, sub: Subscription, latest: int) -> None:
        """Send what arrived while catching up (all newer than ``latest``), paced, then
        go live. Events that arrive while this waits join the buffer and are sent too;
        the switch to live happens with no await after the buffer is found empty."""
        outbox = sub.peer.outbox
        while sub.buffer:
            events, sub.buffer = sub.buffer, []
            for event in events:
                if event.seq > latest and self.hub.visible(sub, event):
                    await outbox.push_paced(event.frame)
        sub.live = True

    def leave(self, peer: Peer) -> None:
        self.subs.pop(peer.socket_id, None)

    def stop(self) -> None:
        for task in (self.init_task, self.fill_task):
            if task is not None:
                task.cancel()


class Hub:
    def __init__(self, config: RealtimeConfig, fetch: Fetch, tail: Tail) -> None:
        self.config = config
        self.fetch = fetch
        self.tail = tail
        self.feeds: dict[str, Feed] = {}
        self.peers: dict[str, Peer] = {}
        self.by_user: dict[str, set[Peer]] = {}
        self.deliveries = 0
        self.filled = 0

    # --- peers ----------------------------------------------------------------------

    def add_peer(self, peer: Peer) -> None:
        self.peers[peer.socket_id] = peer
        self.by_user.setdefault(peer.user_id, set()).add(peer)

    def remove_peer(self, peer: Peer) -> None:
        self.peers.pop(peer.socket_id, None)
        mine = self.by_user.get(peer.user_id)
        if mine is not None:
            mine.discard(peer)
            if not mine:
                del self.by_user[peer.user_id]

    def close_stalled(self, now: float) -> int:
        """Close (1013) sockets whose send has not left for ``stall_timeout`` seconds:
        they stopped reading, and their queue may fill only slowly in a quiet room."""
        limit = self.config.stall_timeout
        stalled = [p for p in self.peers.values() if p.outbox.stalled(now, limit)]
        for peer in stalled:
            peer.outbox.overflow()
        return len(stalled)

    def count_user(self, user_id: str) -> int:
        return len(self.by_user.get(user_id, ()))

    def peers_of(self, user_id: str) -> list[Peer]:
        return list(self.by_user.get(user_id, ()))

    # --- feeds ----------------------------------------------------------------------

    def feed(self, room: str) -> Feed:
        feed = self.feeds.get(room)
        if feed is None:
            feed = self.feeds[room] = Feed(self, room)
        return feed

    def drop_if_empty(self, room: str) -> None:
        feed = self.feeds.get(room)
        if feed is not None and not feed.subs:
            feed.stop()
            del self.feeds[room]

    def on_event(self, event: Event) -> None:
        feed = self.feeds.get(event.room)
        if feed is not None:
            feed.on_event(event)

    @staticmethod
    def visible(sub: Subscription, event: Event) -> bool:
        peer = sub.peer
        if not event.visible_to(peer.user_id, sub.moderator):
            return False
        return not (event.sender_id is not None and event.sender_id in peer.hidden_senders)

    def rooms(self) -> list[str]:
        return list(self.feeds)

    def subscriptions(self) -> Iterable[Subscription]:
        for feed in self.feeds.values():
            yield from feed.subs.values()

    def stop(self) -> None:
        for feed in self.feeds.values():
            feed.stop()
        self.feeds.clear()


async def cancel_quietly(task: asyncio.Task[Any] | None) -> None:
    if task is None:
        return
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError, Exception):
        await task
