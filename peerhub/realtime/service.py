"""The real-time service of one process: writer, hub, presence, bus, WebSocket server.

It is created and started in the application's lifespan (peerhub/app.py), in the
same event loop as uvicorn, and implements :class:`~peerhub.realtime.policy.RealtimeAPI`
for extensions. Data flows one way:

    socket frame -> handlers (validate, check) -> Writer (commit) -> on_commit:
        ack to the sender, event to the local hub, event to the bus -> other processes' hubs
"""

from __future__ import annotations

import asyncio
import gc
import logging
import time
import uuid
from collections.abc import Awaitable, Coroutine, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from peerhub import i18n
from peerhub.config import Settings
from peerhub.context import AppContext
from peerhub.i18n import _, lazy_gettext
from peerhub.models import GroupRole
from peerhub.realtime import deployment, protocol, queries, writer
from peerhub.realtime.bus import Bus, make_bus
from peerhub.realtime.config import RealtimeConfig
from peerhub.realtime.config import public_url as make_public_url
from peerhub.realtime.events import (
    Event,
    event_from,
    event_header,
    pack,
    unpack,
)
from peerhub.realtime.hub import CLOSE_GOING_AWAY, CLOSE_POLICY, Feed, Hub, Peer, SendOrigin
from peerhub.realtime.policy import Registry, SocketView
from peerhub.realtime.presence import Presence
from peerhub.realtime.protocol import MessageView, Person, RoomState
from peerhub.realtime.server import serve
from peerhub.schedule import ScheduleError, occurrences
from peerhub.security.ratelimit import TokenBuckets

log = logging.getLogger("peerhub.realtime")


async def bounded(step: Awaitable[Any] | None, seconds: float, what: str) -> bool:
    """Await ``step`` for at most ``seconds``; past that, cancel it and leave it behind.

    Not ``asyncio.wait_for``: on a time-out that waits for the cancelled step to end,
    which a step stuck in a library's clean-up (a connection to a database or Redis
    that does not answer) may never do.
    """
    if step is None:
        return True
    task = asyncio.ensure_future(step)
    done, _pending = await asyncio.wait({task}, timeout=seconds)
    if task in done:
        if not task.cancelled() and task.exception() is not None:
            log.warning("stopping %s failed: %s", what, task.exception().__class__.__name__)
        return True
    task.cancel()
    log.warning("stopping %s took over %.1f s; going on without it", what, seconds)
    return False


CRISIS_MESSAGE = lazy_gettext(
    "It sounds like things might be really hard right now. You are not alone, and "
    "you do not have to wait for the group: you can talk to someone now."
)

# Why a socket is closed (1008), as the callers of disconnect_user and revoke_membership
# say it in English; each socket reads it in its own language (its peer.language).
CLOSE_REASONS = {
    "Your session has ended.": lazy_gettext("Your session has ended."),
    "Your session has ended. Sign in again.": writer.SIGN_IN_ENDED_TEXT,
    "You are no longer in this group.": lazy_gettext("You are no longer in this group."),
    "Removed from the room.": lazy_gettext("Removed from the room."),
    "You have been banned from this group.": lazy_gettext("You have been banned from this group."),
    "A moderator has removed you from this group.": lazy_gettext(
        "A moderator has removed you from this group."
    ),
    "This account is disabled.": lazy_gettext("This account is disabled."),
    "You left the group.": lazy_gettext("You left the group."),
    "This private conversation has ended.": lazy_gettext("This private conversation has ended."),
    "This account has been deleted.": lazy_gettext("This account has been deleted."),
    "Your password was changed.": lazy_gettext("Your password was changed."),
    "This room is closed while PeerHub checks the group’s organisation.": lazy_gettext(
        "This room is closed while PeerHub checks the group’s organisation."
    ),
}


def close_reason(peer: Peer, reason: object, default: str) -> str:
    """A close reason in the language of the socket's person."""
    text = str(reason) if reason else default
    with i18n.using(peer.language):
        return str(CLOSE_REASONS.get(text, text))


@dataclass(slots=True)
class RoomSnapshot:
    """What the process keeps about a room with sockets here."""

    slug: str
    name: str
    rules_text: str
    is_open: bool
    opened_at: datetime | None
    moderator_only: bool
    dtstart_local: str
    rrule: str
    time_zone: str
    exdates: list[str]
    duration_minutes: int
    # The language of the ground rules, and their versions in other languages
    # (peerhub/groups/texts.py): each person is shown those in their language.
    rules_language: str = "en"
    rules_versions: dict[str, str] = field(default_factory=dict)


def meeting_text(start: datetime, end: datetime) -> str:
    """ "Tuesday 3 November, 18:00 to 19:30 GMT", in the active language (the group's
    own time zone, as the times are given)."""
    zone = start.tzinfo
    return _(
        "%(day)s, %(start)s to %(end)s %(zone)s",
        day=i18n.format_skeleton(start, "EEEEdMMMM", tz=zone),
        start=i18n.format_time(start, tz=zone),
        end=i18n.format_time(end, tz=end.tzinfo),
        zone=i18n.zone_name(start),
    )


class Realtime:
    def __init__(
        self,
        ctx: AppContext,
        config: RealtimeConfig,
        registry: Registry | None = None,
        bus: Bus | None = None,
    ) -> None:
        self.ctx = ctx
        self.config = config
        self.registry = registry or Registry()
        self.policy = self.registry.policy()
        self.node = uuid.uuid4().hex[:12]
        self.bus: Bus = bus if bus is not None else make_bus(ctx.settings.redis_url)
        self.hub = Hub(config, self._fetch_events, self._tail)
        self.presence = Presence(config.presence_ttl)
        self.writer = writer.Writer(
            ctx.engine,
            ctx.settings,
            ctx.clock,
            on_commit=self._on_commit,
            gate=self.gate,
            max_queue=config.write_queue,
            max_batch=config.write_batch,
            concurrency=1 if ctx.settings.is_sqlite else config.pg_writers,
        )
        self.rooms: dict[str, RoomSnapshot] = {}
        self._mod_shown: dict[str, bool] = {}
        self.send_limits = TokenBuckets(config.send_rate, config.send_burst, time.monotonic)
        self.typing_limits = TokenBuckets(config.typing_rate, config.typing_burst, time.monotonic)
        self.read_limits = TokenBuckets(config.read_rate, config.read_burst, time.monotonic)
        self._tasks: list[asyncio.Task[None]] = []
        self._spawned: set[asyncio.Task[Any]] = set()
        self._flush_handle: asyncio.TimerHandle | None = None
        self.server: Any = None
        self.port: int | None = None
        self.started = False
        self.stopping = False
        # This deployment's channels on the bus; None until known (the database is
        # away at start-up) or after a clash with another deployment.
        self.identity: deployment.Identity | None = None
        self.foreign_dropped = 0  # bus messages of another deployment, never applied
        self.loop: asyncio.AbstractEventLoop | None = None

    # --- lifecycle --------------------------------------------------------------------

    async def start(self) -> None:
        """Start the writer, the bus and the periodic work, and listen when configured.

        Raises :class:`~peerhub.realtime.deployment.NamespaceInUse` (and starts nothing)
        when another deployment uses this one's channel namespace on the same Redis.
        If the database cannot be reached yet, the bus joins once it can be.
        """
        self.loop = asyncio.get_running_loop()
        loop = asyncio.get_running_loop()
        joining: asyncio.Task[None] | None = None
        try:
            identity = await asyncio.wait_for(
                deployment.resolve(self.ctx.engine, self.config.namespace), 10
            )
        except (SQLAlchemyError, OSError, TimeoutError) as exc:
            log.warning(
                "the deployment id cannot be read from the database (%s): "
                "the real-time bus joins when it can",
                exc.__class__.__name__,
            )
            joining = loop.create_task(self._join_bus_later(), name="rt-join-bus")
        else:
            await self._join_bus(identity)  # may refuse: NamespaceInUse
        for hook in self.registry.start_hooks:
            hook(self)
        self.writer.start()
        self._tasks = [
            *([joining] if joining is not None else []),
            loop.create_task(
                self._every(self.config.tail_check_every, self.tail_check), name="rt-tail"
            ),
            loop.create_task(
                self._every(self.config.presence_every, self._refresh_presence), name="rt-presence"
            ),
            loop.create_task(
                self._every(self.config.revalidate_every, self.revalidate), name="rt-revalidate"
            ),
            loop.create_task(
                self._every(self.config.stall_timeout / 4, self._close_stalled), name="rt-stalled"
            ),
        ]
        if self.config.port is not None:
            if self.config.freeze_gc:
                # Everything alive now (modules, the app) lives as long as the
                # process: take it out of the collector's full passes, which grow
                # long enough with thousands of sockets to show in the latency tail
                # (each socket is ~90 tracked objects, mostly the library's). A
                # larger young generation lets a message's short-lived objects die
                # before a collection promotes them (docs/performance.md).
                gc.collect()
                gc.freeze()
                gc.set_threshold(*self.config.gc_thresholds)

            self.server = await serve(self)
            self.port = self.server.sockets[0].getsockname()[1]
            log.debug("real-time server listening on %s:%s", self.config.host, self.port)
        self.started = True

    async def stop(self) -> None:
        """Stop within a bound, whatever the database and Redis are doing.

        In order (docs/realtime.md, "Stopping"): no new sockets, and frames read from
        now on are not acted on (their senders retry after reconnecting); what the
        writer has queued is committed and its acks sent (at most ``stop_flush``
        seconds); every socket is closed with 1001 (at most ``stop_close`` seconds,
        then dropped); then the periodic tasks, the writer and the bus stop. No step
        awaits anything without a time limit: a task that does not end in time is
        left behind, and the process exits anyway.
        """
        self.stopping = True
        loop = asyncio.get_running_loop()
        if self.server is not None:
            self.server.close(close_connections=False)  # stop listening; 503 to handshakes
        deadline = loop.time() + self.config.stop_flush
        await self._until(lambda: self._flushed(), deadline)
        if self.server is not None:
            await self._close_sockets()
            self.server = None
        # Tell other processes to forget who was here.
        self._publish_room({"t": "g", "n": self.node})
        if self._flush_handle is not None:
            self._flush_handle.cancel()
        tasks = [*self._tasks, *self._spawned]
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.wait(tasks, timeout=0.3)  # returns at the latest then
        await bounded(self.writer.stop(), 0.5, "the writer")
        self.hub.stop()
        await bounded(self.bus.stop(), 1.0, "the bus")
        self.started = False

    def _flushed(self) -> bool:
        """Nothing waits to be committed, and every socket's acks have left."""
        if self.writer.pending or any(p.inflight for p in self.hub.peers.values()):
            return False
        return all(p.outbox.writer is None or p.closing for p in self.hub.peers.values())

    @staticmethod
    async def _until(condition: Any, deadline: float) -> bool:
        loop = asyncio.get_running_loop()
        while not condition():
            if loop.time() >= deadline:
                return False
            await asyncio.sleep(0.01)
        return True

    async def _close_sockets(self) -> None:
        """Every socket gets 1001 ("going away": reconnect, to another process, and
        resume); one that has not closed within ``stop_close`` seconds is dropped."""
        server = self.server
        loop = asyncio.get_running_loop()
        for peer in list(self.hub.peers.values()):
            peer.close(CLOSE_GOING_AWAY, "PeerHub is restarting. Reconnect and resume.")
        deadline = loop.time() + self.config.stop_close
        await self._until(lambda: not self.hub.peers, deadline)
        # Sockets still open here: mid-handshake, or not taking their close frame.
        for conn in list(server.connections) if server is not None else []:
            conn.transport.abort()
        await self._until(lambda: not self.hub.peers, loop.time() + 0.3)

    # --- the deployment's channels (issue 10) ----------------------------------------

    async def _join_bus(self, identity: deployment.Identity) -> None:
        """Subscribe to this deployment's channels, then make sure no other deployment
        uses them (checked after subscribing, so two starting at once both see it)."""
        self.identity = identity
        await self.bus.start(
            [identity.rooms_channel, identity.control_channel, identity.marker_channel],
            self._on_bus,
            self._on_bus_reconnect,
        )
        foreign = await self._foreign_markers()
        if foreign:
            self.identity = None
            await bounded(self.bus.stop(), 2.0, "the bus")
            raise identity.refusal(foreign)
        log.debug("real-time bus namespace %s", identity.namespace)

    async def _join_bus_later(self) -> None:
        delay = 1.0
        while True:
            await asyncio.sleep(delay)
            try:
                identity = await deployment.resolve(self.ctx.engine, self.config.namespace)
            except (SQLAlchemyError, OSError, TimeoutError):
                delay = min(delay * 2, 30.0)
                continue
            try:
                await self._join_bus(identity)
            except deployment.NamespaceInUse as exc:
                log.error("real-time bus not started: %s", exc)
            else:
                self._on_bus_reconnect()  # read what was committed meanwhile
            return

    async def _foreign_markers(self) -> list[str]:
        identity = self.identity
        if identity is None:
            return []
        found = await self.bus.subscribers(identity.marker_pattern)
        return identity.foreign_markers(found or [])

    async def _recheck_namespace(self) -> None:
        """While running: if another deployment has come into this namespace (it
        started while Redis was away from one of us), stop using the bus rather than
        let rooms cross; the log still delivers everything, from the tail check."""
        identity = self.identity
        foreign = await self._foreign_markers()
        if identity is None or not foreign:
            return
        log.error("real-time bus stopped in this process: %s", identity.refusal(foreign))
        self.identity = None
        await bounded(self.bus.stop(), 2.0, "the bus")

    def _publish(self, channel: str, header: dict[str, Any], payload: bytes = b"") -> None:
        """Put a message on the bus, tagged with this deployment (receivers check it)."""
        identity = self.identity
        if identity is None:
            return  # not on the bus (yet): sockets here still get everything
        header["d"] = identity.tag
        self.bus.publish(channel, pack(header, payload))

    def _publish_room(self, header: dict[str, Any], payload: bytes = b"") -> None:
        if self.identity is not None:
            self._publish(self.identity.rooms_channel, header, payload)

    @property
    def url(self) -> str | None:
        return make_public_url(self.ctx.settings, self.config, self.port)

    async def _every(self, seconds: float, job: Any) -> None:
        while True:
            await asyncio.sleep(seconds)
            try:
                await job()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("periodic real-time job failed")

    async def _close_stalled(self) -> None:
        self.hub.close_stalled(asyncio.get_running_loop().time())

    def spawn(self, coro: Coroutine[Any, Any, Any]) -> None:
        """Run a coroutine in the background, keeping a reference until it ends."""
        task = asyncio.get_running_loop().create_task(coro)
        self._spawned.add(task)
        task.add_done_callback(self._task_done)

    def _task_done(self, task: asyncio.Task[Any]) -> None:
        self._spawned.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("background real-time task failed", exc_info=task.exception())

    # --- RealtimeAPI --------------------------------------------------------------------

    @property
    def sessions(self) -> async_sessionmaker[AsyncSession]:
        return self.ctx.sessions

    @property
    def settings(self) -> Settings:
        return self.ctx.settings

    def now(self) -> datetime:
        return self.ctx.clock()

    async def append_event(
        self,
        room_id: str,
        data: dict[str, Any],
        *,
        sender_id: str | None = None,
        body: str = "",
        room_changes: dict[str, Any] | None = None,
        client_id: str | None = None,
    ) -> int:
        """Commit a system event in the room's log and fan it out; its seq.

        ``client_id`` (at most 64 characters) makes it idempotent: an event already
        stored in the room with that id and no sender is not written again, and its
        ORIGINAL seq is returned (nothing new is fanned out). An outbox handler, which
        may run twice, gives one fixed when the event was recorded."""
        async with self.ctx.sessions() as db, db.begin():
            await writer.ensure_room(db, room_id)
        result = await self.writer.write(
            writer.Command(
                room=room_id,
                client_id=client_id or writer.system_client_id(),
                keyed=client_id is not None,
                body=body,
                kind="system",
                sender_id=None,
                data={**data, **({"by": sender_id} if sender_id else {})},
                room_changes=room_changes,
            )
        )
        if result.refused is not None:
            raise writer.WriteRefused(result.refused)
        if room_changes:
            self.refresh_room(room_id)
        return result.seq

    def send_private(self, user_id: str, frame: bytes) -> None:
        for peer in self.hub.peers_of(user_id):
            peer.send(frame)
        self._control("core.private", {"user": user_id}, frame, local=False)

    def send_to_moderators(self, room_id: str, frame: bytes) -> None:
        feed = self.hub.feeds.get(room_id)
        if feed is not None:
            feed.send_ephemeral(frame, moderators_only=True)
        self._publish_room({"t": "e", "n": self.node, "r": room_id, "mo": True}, frame)

    def send_to_room(self, room_id: str, frame: bytes, *, skip_user: str | None = None) -> None:
        feed = self.hub.feeds.get(room_id)
        if feed is not None:
            feed.send_ephemeral(frame, skip_user=skip_user)
        self._publish_room({"t": "e", "n": self.node, "r": room_id, "u": skip_user}, frame)

    def publish_control(self, op: str, payload: dict[str, Any]) -> None:
        self._control(op, payload)

    async def disconnect_user(
        self, user_id: str, *, reason: str, sign_in_id: str | None = None, code: int = 1008
    ) -> None:
        self._control(
            "core.close_user",
            {"user": user_id, "session": sign_in_id, "code": code, "reason": reason[:120]},
        )

    async def revoke_membership(self, room_id: str, user_id: str, *, reason: str) -> None:
        self._control("core.revoke", {"room": room_id, "user": user_id, "reason": reason[:120]})

    async def member_changed(self, room_id: str, user_id: str) -> None:
        self._control("core.member", {"room": room_id, "user": user_id})

    def sockets_of(self, user_id: str) -> list[SocketView]:
        return list(self.hub.peers_of(user_id))

    def refresh_room(self, room_id: str) -> None:
        self.spawn(self._reload_room(room_id))
        self._publish_room({"t": "s", "n": self.node, "r": room_id})

    # --- control events -----------------------------------------------------------------

    def _control(
        self, op: str, payload: dict[str, Any], frame: bytes = b"", *, local: bool = True
    ) -> None:
        header = {"t": "c", "n": self.node, "op": op, "p": payload}
        if local:
            self._apply_control(op, payload, frame)
        if self.identity is not None:
            self._publish(self.identity.control_channel, header, frame)

    def _apply_control(self, op: str, payload: dict[str, Any], frame: bytes) -> None:
        user = payload.get("user")
        room = payload.get("room")
        if op == "core.close_user" and isinstance(user, str):
            sign_in = payload.get("session")  # the key on the bus keeps its name
            code = payload.get("code")
            for peer in self.hub.peers_of(user):
                if sign_in is None or peer.sign_in_id == sign_in:
                    peer.close(
                        code if isinstance(code, int) else CLOSE_POLICY,
                        close_reason(peer, payload.get("reason"), "Your session has ended."),
                    )
        elif op == "core.revoke" and isinstance(user, str) and isinstance(room, str):
            for peer in self.hub.peers_of(user):
                peer.ranks.pop(room, None)
                if room in peer.subs:
                    peer.close(
                        CLOSE_POLICY,
                        close_reason(peer, payload.get("reason"), "Removed from the room."),
                    )
        elif op == "core.member" and isinstance(user, str) and isinstance(room, str):
            peers = [p for p in self.hub.peers_of(user) if room in p.subs or room in p.ranks]
            if peers:
                self.spawn(self._recheck_rank(room, user, peers))
        elif op == "core.private" and isinstance(user, str):
            for peer in self.hub.peers_of(user):
                peer.send(frame)
        else:
            for handler in self.registry.controls.get(op, []):
                try:
                    outcome = handler(payload)
                    if asyncio.iscoroutine(outcome):
                        self.spawn(outcome)
                except Exception:
                    log.exception("control handler for %s failed", op)

    async def _recheck_rank(self, room: str, user: str, peers: list[Peer]) -> None:
        async with self.ctx.sessions() as db:
            rank = (await queries.ranks(db, [(room, user)]))[room, user]
        for peer in peers:
            if rank == GroupRole.NONE:
                peer.ranks.pop(room, None)
                if room in peer.subs:
                    peer.close(
                        CLOSE_POLICY, close_reason(peer, "You are no longer in this group.", "")
                    )
                continue
            self.set_rank(peer, room, rank)

    def set_rank(self, peer: Peer, room: str, rank: GroupRole) -> None:
        old = peer.rank(room)
        peer.ranks[room] = rank
        sub = peer.subs.get(room)
        if sub is None or old == rank:
            return
        sub.moderator = rank >= GroupRole.MODERATOR
        if rank >= GroupRole.MODERATOR:
            peer.rules_ok[room] = True
        self.presence.remove(room, peer.user_id)
        self.presence.add(room, peer.person(room))
        self.schedule_flush()
        with i18n.using(peer.language):
            peer.send(protocol.room_state(room, self.state_for(room, rank)))

    # --- the bus ------------------------------------------------------------------------

    def _on_bus(self, channel: str, data: bytes) -> None:
        try:
            header, payload = unpack(data)
        except (ValueError, UnicodeDecodeError):
            log.warning("unreadable bus message dropped")
            return
        identity = self.identity
        if identity is None or header.get("d") != identity.tag:
            # Another deployment's (or an older version's) message on our channel:
            # never applied, whatever it says (issue 10).
            self.foreign_dropped += 1
            return
        node = header.get("n")
        if node == self.node:
            return
        kind = header.get("t")
        room = header.get("r")
        try:
            if kind == "m":
                self.hub.on_event(event_from(header, payload))
            elif kind == "e" and isinstance(room, str):
                feed = self.hub.feeds.get(room)
                if feed is not None:
                    skip = header.get("u")
                    feed.send_ephemeral(
                        payload,
                        skip_user=skip if isinstance(skip, str) else None,
                        moderators_only=bool(header.get("mo")),
                    )
            elif kind == "p" and isinstance(room, str) and isinstance(node, str):
                people = [
                    Person(str(p[0]), str(p[1]), str(p[2]))
                    for p in header.get("p", [])
                    if isinstance(p, list) and len(p) == 3
                ]
                self.presence.on_remote(node, room, people)
                self.schedule_flush()
            elif kind == "q" and isinstance(room, str):
                if self.presence.snapshot(room):
                    self._publish_presence(room)
            elif kind == "g" and isinstance(node, str):
                self.presence.forget_node(node)
                self.schedule_flush()
            elif kind == "s" and isinstance(room, str):
                if room in self.hub.feeds:
                    self.spawn(self._reload_room(room))
            elif kind == "c":
                op, payload_dict = header.get("op"), header.get("p")
                if isinstance(op, str) and isinstance(payload_dict, dict):
                    self._apply_control(op, payload_dict, payload)
        except (KeyError, TypeError, ValueError):
            log.warning("malformed bus message dropped")

    def _on_bus_reconnect(self) -> None:
        # Events may have been missed while the bus was away: read the log's tails.
        self.spawn(self.tail_check())
        self.spawn(self._recheck_namespace())
        for room in self.hub.rooms():
            self._publish_presence(room)
            self._publish_room({"t": "q", "n": self.node, "r": room})

    # --- the log ------------------------------------------------------------------------

    def event_of(self, view: MessageView) -> Event:
        return Event(
            view.room, view.seq, protocol.message(view), view.status, view.sender_id, view.kind
        )

    async def _fetch_events(self, room: str, after: int, upto: int, limit: int) -> list[Event]:
        async with self.ctx.sessions() as db:
            views = await queries.fetch_after(db, room, after, upto, limit)
        return [self.event_of(v) for v in views]

    async def _tail(self, room: str) -> int:
        async with self.ctx.sessions() as db:
            return await queries.latest_seq(db, room)

    async def tail_check(self) -> None:
        """Recover events the bus lost: compare each feed with the log's tail."""
        rooms = [r for r, f in self.hub.feeds.items() if f.last_seq is not None]
        if not rooms:
            return
        async with self.ctx.sessions() as db:
            tails = await queries.tails(db, rooms)
        for room, tail in tails.items():
            feed = self.hub.feeds.get(room)
            if feed is not None:
                feed.request_fill(tail)

    def _on_commit(self, pairs: list[tuple[writer.Command, writer.Result]]) -> None:
        """Runs in the writer after each commit, in seq order: ack, then fan out."""
        for command, result in pairs:
            origin = command.context if isinstance(command.context, SendOrigin) else None
            if origin is not None:
                origin.peer.inflight = max(0, origin.peer.inflight - 1)
            if result.refused is not None:
                if origin is not None:
                    refusal = result.refused
                    with i18n.using(origin.peer.language):
                        self._refused(origin.peer, command, refusal)
                continue
            if origin is not None:
                assert result.at is not None  # noqa: S101 - set for every committed command
                note = origin.classification.note if result.status == "held" else None
                origin.peer.send(
                    protocol.ack(
                        command.room,
                        command.client_id,
                        result.seq,
                        result.status,
                        result.at,
                        duplicate=result.duplicate,
                        note=note,
                    )
                )
            if result.duplicate or result.view is None:
                continue
            event = self.event_of(result.view)
            self.hub.on_event(event)
            self._publish_room(event_header(self.node, event), event.frame)
            if origin is not None:
                with i18n.using(origin.peer.language):
                    self._after_send(origin, result.view)

    def _refused(self, peer: Peer, command: writer.Command, refusal: writer.Refusal) -> None:
        """A person's message the writer refused: said in their language (active here)."""
        message = refusal.message
        if refusal.code == "room_closed":
            message = self.closed_text(command.room)  # worded in this person's language
        peer.send(
            protocol.error(
                refusal.code,
                message,
                room=command.room,
                client_id=command.client_id,
                next_meeting=self.next_meeting_iso(command.room)
                if refusal.code == "room_closed"
                else None,
            )
        )
        if refusal.close:
            peer.close(CLOSE_POLICY, message)

    def _after_send(self, origin: SendOrigin, view: MessageView) -> None:
        if origin.classification.crisis:
            contacts = [
                # Worded in the writer's language (active here: i18n.using in _on_commit).
                {
                    "name": c.name,
                    "how": c.how_text,
                    "description": c.description_text,
                    "href": c.href,
                }
                for c in self.ctx.settings.crisis_contacts
            ]
            # A held message's note (why it waits) went with its ack; the support
            # frame always speaks to how the person may be feeling.
            note = origin.classification.note if view.status != "held" else None
            origin.peer.send(
                protocol.support(view.room, view.seq, note or str(CRISIS_MESSAGE), contacts)
            )
            self.send_to_moderators(
                view.room,
                protocol.alert(
                    view.room,
                    "crisis",
                    view.seq,
                    Person(origin.peer.user_id, origin.peer.pseudonym),
                ),
            )
        self.spawn(self.policy.on_committed(origin.ctx, view, origin.classification))

    # --- rooms ----------------------------------------------------------------------------

    def remember_room(self, room: str, info: queries.RoomInfo) -> RoomSnapshot:
        group, row = info.group, info.room
        snap = RoomSnapshot(
            slug=group.slug,
            name=group.name,
            rules_text=group.ground_rules,
            is_open=row.is_open,
            opened_at=row.opened_at,
            moderator_only=row.moderator_only,
            dtstart_local=group.dtstart_local,
            rrule=group.rrule,
            time_zone=group.time_zone,
            exdates=list(group.exdates or []),
            duration_minutes=group.duration_minutes,
            rules_language=group.text_language or "en",
            rules_versions={
                v.language: v.ground_rules
                for v in (group.texts if "texts" in vars(group) else [])
                if v.ground_rules.strip()
            },
        )
        self.rooms[room] = snap
        return snap

    async def _reload_room(self, room: str) -> None:
        if room not in self.hub.feeds:
            return
        async with self.ctx.sessions() as db, db.begin():
            info = await writer.room_info(db, room, "")
        if info is None:
            return
        self.remember_room(room, info)
        self.push_room_state(room)

    def push_room_state(self, room: str) -> None:
        feed = self.hub.feeds.get(room)
        if feed is None:
            return
        # What sockets were last told about a moderator being here: the presence
        # flush pushes the state again only when that changes.
        self._mod_shown[room] = self.presence.moderator_present(room)
        # One frame per rank and language: its reason and next meeting are in words.
        frames: dict[tuple[GroupRole, str], bytes] = {}
        for sub in feed.subs.values():
            rank = sub.peer.rank(room)
            key = (rank, sub.peer.language)
            if key not in frames:
                with i18n.using(sub.peer.language):
                    frames[key] = protocol.room_state(room, self.state_for(room, rank))
            sub.peer.send(frames[key])

    def next_meeting(self, room: str) -> tuple[datetime, datetime] | None:
        snap = self.rooms.get(room)
        if snap is None:
            return None
        try:
            found = occurrences(
                snap.dtstart_local,
                snap.rrule,
                snap.time_zone,
                after=self.ctx.clock(),
                count=1,
                duration_minutes=snap.duration_minutes,
                exdates=snap.exdates,
            )
        except (ScheduleError, ValueError):
            return None
        return (found[0].start, found[0].end) if found else None

    def next_meeting_iso(self, room: str) -> str | None:
        found = self.next_meeting(room)
        return protocol.iso(found[0]) if found else None

    def closed_text(self, room: str) -> str:
        snap = self.rooms.get(room)
        if snap is not None and snap.is_open:
            return _(
                "The session is open, but no moderator is here right now. "
                "You can read; you can write again when a moderator joins."
            )
        found = self.next_meeting(room)
        if found is None:
            return _("This room is open during sessions, while a moderator is here.")
        return _(
            "This room is open during sessions, while a moderator is here. "
            "The next session is %(when)s.",
            when=meeting_text(*found),
        )

    def state_for(self, room: str, rank: GroupRole) -> RoomState:
        snap = self.rooms.get(room)
        present = self.presence.moderator_present(room)
        found = self.next_meeting(room)
        if snap is None:
            return RoomState(False, None, False, present, False, _("Unavailable."), None, None)
        refusal = self.gate(room, snap.is_open, snap.moderator_only, rank)
        return RoomState(
            is_open=snap.is_open,
            opened_at=snap.opened_at,
            moderator_only=snap.moderator_only,
            moderator_present=present,
            writable=refusal is None,
            reason=refusal.message if refusal is not None else None,
            next_meeting=found[0] if found else None,
            next_meeting_text=meeting_text(*found) if found else None,
        )

    def gate(
        self, room: str, is_open: bool, moderator_only: bool, rank: GroupRole
    ) -> writer.Refusal | None:
        """A moderator-only room takes members' messages only while open, with a moderator."""
        if rank >= GroupRole.MODERATOR or not moderator_only:
            return None
        if is_open and self.presence.moderator_present(room):
            return None
        return writer.Refusal("room_closed", self.closed_text(room))

    # --- presence -------------------------------------------------------------------------

    def schedule_flush(self) -> None:
        if self._flush_handle is None:
            self._flush_handle = asyncio.get_running_loop().call_later(
                self.config.presence_flush, self._flush_presence
            )

    def _publish_presence(self, room: str) -> None:
        people = [[p.id, p.name, p.role] for p in self.presence.snapshot(room)]
        self._publish_room({"t": "p", "n": self.node, "r": room, "p": people})

    def _flush_presence(self) -> None:
        self._flush_handle = None
        for room in list(self.presence.changed):
            self._publish_presence(room)
        self.presence.changed.clear()
        for room in list(self.presence.dirty):
            feed = self.hub.feeds.get(room)
            if feed is None:
                self.presence.drop_room(room)
                self._mod_shown.pop(room, None)
                continue
            joined, left = self.presence.diff(room)
            self._send_presence(room, feed, joined, left)
            moderator = self.presence.moderator_present(room)
            if self._mod_shown.get(room) != moderator:
                self._mod_shown[room] = moderator
                self.push_room_state(room)
        self.presence.dirty.clear()

    def _send_presence(self, room: str, feed: Feed, joined: list[Person], left: list[str]) -> None:
        """Each socket hears what changed since what *it* was last told: the room's
        shared frame, or, for a socket that subscribed since the last one, the change
        from its own ``subscribed.present`` (so it is never told of itself arriving)."""
        fresh = [sub for sub in feed.subs.values() if sub.presence_base is not None]
        if joined or left:
            if fresh:
                feed.send_ephemeral(
                    protocol.presence(room, joined, left),
                    only=lambda sub: sub.presence_base is None,
                )
            else:
                feed.send_ephemeral(protocol.presence(room, joined, left))
        if not fresh:
            return
        now = self.presence.union(room)
        for sub in fresh:
            base, sub.presence_base = sub.presence_base or {}, None
            mine = [p for uid, p in now.items() if base.get(uid) != p]
            gone = [uid for uid in base if uid not in now]
            if mine or gone:
                sub.peer.send(protocol.presence(room, mine, gone))

    async def _refresh_presence(self) -> None:
        if self.identity is not None:
            self.spawn(self._recheck_namespace())
        self.presence.expire()
        for room in self.hub.rooms():
            if self.presence.snapshot(room):
                self._publish_presence(room)
        self._flush_presence()

    # --- subscriptions ----------------------------------------------------------------------

    def leave(self, peer: Peer, room: str) -> None:
        sub = peer.subs.pop(room, None)
        if sub is None:
            return
        feed = self.hub.feeds.get(room)
        if feed is not None:
            feed.leave(peer)
        self.presence.remove(room, peer.user_id)
        self.schedule_flush()
        self.hub.drop_if_empty(room)

    def leave_all(self, peer: Peer) -> None:
        for room in list(peer.subs):
            self.leave(peer, room)

    # --- re-checks ----------------------------------------------------------------------------

    async def revalidate(self) -> None:
        """Close sockets whose sign-in ended, or whose person left a room's group."""
        peers = list(self.hub.peers.values())
        if not peers:
            return
        now = self.ctx.clock()
        async with self.ctx.sessions() as db, db.begin():
            live = await queries.live_sign_ins(
                db, self.ctx.settings, (p.sign_in_id for p in peers), now
            )
            pairs = {(room, p.user_id) for p in peers for room in p.subs}
            rank_of = await queries.ranks(db, pairs)
            active = [p.sign_in_id for p in peers if p.active and p.sign_in_id in live]
            if active:
                await writer.touch_sign_ins(db, set(active), now, timedelta(seconds=60))
        for peer in peers:
            peer.active = False
            if live.get(peer.sign_in_id) != peer.user_id:
                peer.close(CLOSE_POLICY, close_reason(peer, writer.SIGN_IN_ENDED_TEXT, ""))
                continue
            for room in list(peer.subs):
                rank = rank_of.get((room, peer.user_id))
                if rank is None:
                    continue  # subscribed while this check was running: checked then
                if rank == GroupRole.NONE:
                    peer.close(
                        CLOSE_POLICY, close_reason(peer, "You are no longer in this group.", "")
                    )
                    break
                if rank != peer.rank(room):
                    self.set_rank(peer, room, rank)

    def peers(self) -> Iterable[Peer]:
        return self.hub.peers.values()
