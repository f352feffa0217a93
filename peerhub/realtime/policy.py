"""The seam for moderation: hooks on sending, extra frame types, control events.

The real-time core decides nothing about *content*. An :class:`Extension` (the
moderation toolkit) registers, at start-up:

- a :class:`RoomPolicy`, asked before and after every message:
  ``check_send`` may refuse (time-outs, bans, slow mode, a locked room) with an
  error code, a message and a ``retry_after``; ``classify`` marks a message
  ``held`` for review and/or ``crisis`` (it is still posted; the writer gets a
  private, kind ``support`` frame with the crisis contacts, and the room's
  moderators an ``alert``); ``rows_for`` returns rows (insert statements) that the
  writer adds to the message's OWN transaction, once its ``seq`` is known, so they
  are stored with the message or not at all (the crisis alert that waits in the
  moderator console); ``on_committed`` runs after the commit (frames to
  moderators, ...); ``on_subscribe`` can add to the ``subscribed`` frame (a pinned
  message, slow mode) and fill the socket's ``hidden_senders`` (personal mutes and
  blocks);
- frame handlers by type (``mod.timeout``, ``report.create``...), with a field
  spec: the core validates the frame, re-checks the sign-in and the sender's
  rank in the database, then calls the handler with a :class:`FrameContext`;
- control handlers by op, run in EVERY process when any process calls
  :meth:`RealtimeAPI.publish_control` (to update caches, close sockets...).

Handlers act through :class:`RealtimeAPI`: the database, ``append_event`` (an
event in the room's ordered log, so it replays on resume), ``send_private``,
``send_to_moderators``, ``disconnect_user``, ``revoke_membership``. Several
policies compose: the first refusal wins, a hold by any one holds, any crisis
flag counts, and every policy's rows are stored (each is given the combined
classification).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal, Protocol

from sqlalchemy import Insert
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from peerhub.config import Settings
from peerhub.models import GroupRole
from peerhub.realtime.protocol import (
    CLIENT_FRAMES,
    FRAME_TYPE_RE,
    Frame,
    MessageView,
    Spec,
    frame_type_of,
)


@dataclass(frozen=True, slots=True)
class Verdict:
    allowed: bool = True
    code: str = ""
    message: str = ""
    retry_after: float | None = None

    @classmethod
    def allow(cls) -> Verdict:
        return ALLOW

    @classmethod
    def refuse(cls, code: str, message: str, retry_after: float | None = None) -> Verdict:
        return cls(False, code, message, retry_after)


ALLOW = Verdict()


@dataclass(frozen=True, slots=True)
class Classification:
    status: Literal["visible", "held"] = "visible"
    crisis: bool = False
    # Shown privately to the writer (for example why a message is waiting).
    note: str | None = None


VISIBLE = Classification()


class SocketView(Protocol):
    """What a hook may know and do about one live socket."""

    @property
    def user_id(self) -> str: ...
    @property
    def pseudonym(self) -> str: ...
    @property
    def sign_in_id(self) -> str: ...
    @property
    def socket_id(self) -> str: ...

    # Senders whose messages this socket does not receive (personal mutes/blocks).
    hidden_senders: set[str]

    def rank(self, room_id: str) -> GroupRole: ...
    def in_room(self, room_id: str) -> bool: ...
    def send(self, frame: bytes) -> None: ...
    def close(self, code: int, reason: str) -> None: ...


class RealtimeAPI(Protocol):
    """What the core offers hooks and handlers."""

    @property
    def sessions(self) -> async_sessionmaker[AsyncSession]: ...
    @property
    def settings(self) -> Settings: ...
    def now(self) -> datetime: ...

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
        """Commit an event in the room's log (kind ``system``) and fan it out; its seq.
        With ``client_id`` it is idempotent: a second call gets the first one's seq."""
        ...

    def send_private(self, user_id: str, frame: bytes) -> None:
        """To every live socket of the person, in every process."""

    def send_to_moderators(self, room_id: str, frame: bytes) -> None:
        """To the sockets of the room's moderators and organisers, in every process."""

    def send_to_room(self, room_id: str, frame: bytes) -> None:
        """An ephemeral frame (not in the log) to everyone subscribed to the room."""

    def publish_control(self, op: str, payload: dict[str, Any]) -> None:
        """Run the control handlers registered for ``op`` in every process."""

    async def disconnect_user(
        self, user_id: str, *, reason: str, sign_in_id: str | None = None, code: int = 1008
    ) -> None: ...

    async def revoke_membership(self, room_id: str, user_id: str, *, reason: str) -> None: ...

    async def member_changed(self, room_id: str, user_id: str) -> None: ...

    def refresh_room(self, room_id: str) -> None:
        """The room's state changed: every process re-reads it and tells its sockets."""

    def sockets_of(self, user_id: str) -> list[SocketView]:
        """The person's live sockets in this process."""
        ...


@dataclass(frozen=True, slots=True)
class SendContext:
    api: RealtimeAPI
    socket: SocketView
    room_id: str
    rank: GroupRole
    client_id: str
    now: datetime


@dataclass(slots=True)
class SubscribeContext:
    api: RealtimeAPI
    socket: SocketView
    room_id: str
    rank: GroupRole
    # Keys added here appear under "extra" in the subscribed frame.
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class FrameContext:
    api: RealtimeAPI
    socket: SocketView
    frame: Frame
    room_id: str | None
    # The sender's rank in the room, just re-checked in the database.
    rank: GroupRole

    def reply(self, frame: bytes) -> None:
        self.socket.send(frame)


class RoomPolicy(Protocol):
    async def check_send(self, ctx: SendContext) -> Verdict: ...
    async def classify(self, ctx: SendContext, body: str) -> Classification: ...

    def rows_for(
        self, ctx: SendContext, message: MessageView, classification: Classification
    ) -> Sequence[Insert]:
        """Rows to store in the message's own transaction, after its row (its ``seq``
        and time are in ``message``). Called inside the writer's transaction: no I/O,
        no waiting, only statements. If one fails, the message fails with it (the
        sender gets an ``error``, nothing is stored, and a retry may succeed); a
        retry of a message already stored is not asked again."""
        ...

    async def on_committed(
        self, ctx: SendContext, message: MessageView, classification: Classification
    ) -> None: ...
    async def on_subscribe(self, ctx: SubscribeContext) -> None: ...


class AllowAll:
    """The default: every message is visible, nothing is refused."""

    async def check_send(self, ctx: SendContext) -> Verdict:
        return ALLOW

    async def classify(self, ctx: SendContext, body: str) -> Classification:
        return VISIBLE

    def rows_for(
        self, ctx: SendContext, message: MessageView, classification: Classification
    ) -> Sequence[Insert]:
        return ()

    async def on_committed(
        self, ctx: SendContext, message: MessageView, classification: Classification
    ) -> None:
        return None

    async def on_subscribe(self, ctx: SubscribeContext) -> None:
        return None


FrameHandler = Callable[[FrameContext], Awaitable[None]]
ControlHandler = Callable[[dict[str, Any]], Awaitable[None] | None]
# (room, actor id, event data): a core event (room opened or closed, room settings)
# a moderator just committed.
EventListener = Callable[[str, str | None, dict[str, Any]], Awaitable[None]]
StartHook = Callable[[RealtimeAPI], None]


@dataclass(frozen=True, slots=True)
class HandlerEntry:
    handler: FrameHandler
    spec: Spec
    room: bool
    min_rank: GroupRole


class Registry:
    """Where extensions plug in. Filled before the server starts; read-only after."""

    def __init__(self) -> None:
        self.policies: list[RoomPolicy] = []
        self.handlers: dict[str, HandlerEntry] = {}
        self.controls: dict[str, list[ControlHandler]] = {}
        self.event_listeners: list[EventListener] = []
        self.start_hooks: list[StartHook] = []

    def register_policy(self, policy: RoomPolicy) -> None:
        self.policies.append(policy)

    def register_handler(
        self,
        frame_type: str,
        handler: FrameHandler,
        fields: Spec,
        *,
        room: bool = True,
        min_rank: GroupRole = GroupRole.MEMBER,
    ) -> None:
        """Handle frames of ``frame_type`` (which must not be a core type).

        ``fields`` is the frame's struct (a :class:`peerhub.realtime.protocol.ClientFrame`
        tagged ``frame_type``), which validates it and gives its JSON Schema; with
        ``room=True`` it must have a ``room`` field and the sender must hold at least
        ``min_rank`` there (checked in the database on every frame).
        """
        if frame_type in CLIENT_FRAMES or frame_type in self.handlers:
            raise ValueError(f"frame type {frame_type!r} is already handled")
        if not FRAME_TYPE_RE.match(frame_type):
            raise ValueError(f"frame type {frame_type!r} is not a valid name")
        if frame_type_of(fields) != frame_type:
            raise ValueError(f"the struct for {frame_type!r} is tagged {frame_type_of(fields)!r}")
        if room and "room" not in fields.__struct_fields__:
            raise ValueError("a room frame's struct needs a 'room' field")
        self.handlers[frame_type] = HandlerEntry(handler, fields, room, min_rank)

    def register_control(self, op: str, handler: ControlHandler) -> None:
        if op.startswith("core."):
            raise ValueError("control ops starting 'core.' are the core's")
        self.controls.setdefault(op, []).append(handler)

    def register_event_listener(self, listener: EventListener) -> None:
        """Told of each core event a moderator commits (to audit it)."""
        self.event_listeners.append(listener)

    def register_start(self, hook: StartHook) -> None:
        """Called with the running service's :class:`RealtimeAPI` when it starts."""
        self.start_hooks.append(hook)

    @property
    def specs(self) -> Mapping[str, Spec]:
        return {name: entry.spec for name, entry in self.handlers.items()}

    def policy(self) -> RoomPolicy:
        if not self.policies:
            return AllowAll()
        if len(self.policies) == 1:
            return self.policies[0]
        return Composite(list(self.policies))


class Extension(Protocol):
    def setup(self, registry: Registry) -> None: ...


class Composite:
    """Several policies as one: first refusal wins; any hold holds; any crisis counts;
    every policy's rows are stored, in the order the policies were registered."""

    def __init__(self, policies: list[RoomPolicy]) -> None:
        self.policies = policies

    async def check_send(self, ctx: SendContext) -> Verdict:
        for policy in self.policies:
            verdict = await policy.check_send(ctx)
            if not verdict.allowed:
                return verdict
        return ALLOW

    async def classify(self, ctx: SendContext, body: str) -> Classification:
        held, crisis, notes = False, False, []
        for policy in self.policies:
            found = await policy.classify(ctx, body)
            held = held or found.status == "held"
            crisis = crisis or found.crisis
            if found.note:
                notes.append(found.note)
        return Classification("held" if held else "visible", crisis, " ".join(notes) or None)

    def rows_for(
        self, ctx: SendContext, message: MessageView, classification: Classification
    ) -> Sequence[Insert]:
        return [
            row for policy in self.policies for row in policy.rows_for(ctx, message, classification)
        ]

    async def on_committed(
        self, ctx: SendContext, message: MessageView, classification: Classification
    ) -> None:
        for policy in self.policies:
            await policy.on_committed(ctx, message, classification)

    async def on_subscribe(self, ctx: SubscribeContext) -> None:
        for policy in self.policies:
            await policy.on_subscribe(ctx)
