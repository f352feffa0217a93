"""What an action tells the real-time rooms, recorded in its own transaction.

An action that changes who may be in a room (a sign-out, a disabled account, a person
removed from a group, a new moderator) records here, beside its writes, what the open
sockets must be told::

    async with transaction(app.sessions) as db:
        await actions.logout(db, user.id, now, address)   # which calls:
        after_commit.disconnect_user(db, user.id)

Each call adds one outbox row (:mod:`peerhub.outbox`) to ``db``'s transaction: nothing
is told unless it commits, and once it commits the outbox delivers it at least once,
after a crash or restart too. :func:`peerhub.db.transaction` delivers the rows before
it returns, so when the route answers the sockets are closed, in every process (the
handlers publish a control event on the bus), as when routes called the rooms
themselves. The handlers are idempotent: closing a closed socket, or re-reading a
room's state, twice changes nothing.

Payloads hold ids and short settings, never what a person wrote. A close reason is
given in English, one of :data:`peerhub.realtime.service.CLOSE_REASONS`: each socket
shows it in its own person's language.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlalchemy.ext.asyncio import AsyncSession

from peerhub import outbox
from peerhub.realtime.events import NOT_IN_GROUP, SIGN_IN_ENDED

if TYPE_CHECKING:  # the service imports the models; this module is imported by actions
    from peerhub.outbox.dispatcher import Dispatcher
    from peerhub.realtime.service import Realtime


@dataclass(frozen=True, slots=True)
class Disconnect:
    user_id: str
    reason: str = SIGN_IN_ENDED
    sign_in_id: str | None = None


@dataclass(frozen=True, slots=True)
class Revoke:
    room_id: str
    user_id: str
    reason: str = NOT_IN_GROUP


@dataclass(frozen=True, slots=True)
class MemberChanged:
    room_id: str
    user_id: str


@dataclass(frozen=True, slots=True)
class RoomChanged:
    room_id: str


@dataclass(frozen=True, slots=True)
class ToModerators:
    room_id: str
    frame: str  # a server frame, as JSON text (ids and names of what changed)


DISCONNECT = outbox.kind("realtime.disconnect_user", Disconnect)
REVOKE = outbox.kind("realtime.revoke_membership", Revoke)
MEMBER_CHANGED = outbox.kind("realtime.member_changed", MemberChanged)
ROOM_CHANGED = outbox.kind("realtime.room_changed", RoomChanged)
TO_MODERATORS = outbox.kind("realtime.to_moderators", ToModerators)


def disconnect_user(
    db: AsyncSession, user_id: str, *, reason: str | None = None, sign_in_id: str | None = None
) -> None:
    """Close the person's live sockets (only those of ``sign_in_id`` if given)."""
    text = SIGN_IN_ENDED if reason is None else str(reason)
    outbox.record(db, DISCONNECT, Disconnect(user_id, text, sign_in_id))


def revoke_membership(
    db: AsyncSession, room_id: str, user_id: str, *, reason: str | None = None
) -> None:
    """The person left, was removed or was banned from the group ``room_id``: their
    sockets in the room close with 1008, their other sockets forget their rank in it."""
    text = NOT_IN_GROUP if reason is None else str(reason)
    outbox.record(db, REVOKE, Revoke(room_id, user_id, text))


def member_changed(db: AsyncSession, room_id: str, user_id: str) -> None:
    """The person's rank in the group changed (made or unmade a moderator)."""
    outbox.record(db, MEMBER_CHANGED, MemberChanged(room_id, user_id))


def room_changed(db: AsyncSession, room_id: str) -> None:
    """The group's room settings changed outside the room (the group's form)."""
    outbox.record(db, ROOM_CHANGED, RoomChanged(room_id))


def to_moderators(db: AsyncSession, room_id: str, frame: bytes) -> None:
    """An ephemeral frame to the room's moderators and organisers, in every process."""
    outbox.record(db, TO_MODERATORS, ToModerators(room_id, frame.decode()))


def register(dispatcher: Dispatcher, service: Realtime) -> None:
    """Deliver these kinds through ``service`` (the application does, at start-up)."""

    async def disconnect(event: Disconnect) -> None:
        await service.disconnect_user(
            event.user_id, reason=event.reason, sign_in_id=event.sign_in_id
        )

    async def revoke(event: Revoke) -> None:
        await service.revoke_membership(event.room_id, event.user_id, reason=event.reason)

    async def member(event: MemberChanged) -> None:
        await service.member_changed(event.room_id, event.user_id)

    async def room(event: RoomChanged) -> None:
        if service.started:
            service.refresh_room(event.room_id)
            service.publish_control("room.changed", {"room": event.room_id})

    async def moderators(event: ToModerators) -> None:
        service.send_to_moderators(event.room_id, event.frame.encode())

    dispatcher.register(DISCONNECT, disconnect)
    dispatcher.register(REVOKE, revoke)
    dispatcher.register(MEMBER_CHANGED, member)
    dispatcher.register(ROOM_CHANGED, room)
    dispatcher.register(TO_MODERATORS, moderators)
