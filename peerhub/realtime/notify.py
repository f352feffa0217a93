"""Direct calls into the running real-time rooms of this process.

Actions do not call these: they record what the rooms must be told in their own
transaction (:mod:`peerhub.realtime.after_commit`), and the outbox delivers it after
the commit. These are for code that holds the running service (tests, tools).

Each takes the Starlette application (``request.app``), or anything whose
``state.realtime`` is the running :class:`~peerhub.realtime.service.Realtime`, or
the service itself, and raises ``TypeError`` for anything else (it never silently
does nothing). They publish a control event on the bus, so the sockets are closed
in every process, and they return once this process has acted.
"""

from __future__ import annotations

from typing import Any, Protocol, runtime_checkable

from peerhub.realtime.events import NOT_IN_GROUP, SIGN_IN_ENDED


@runtime_checkable
class LiveRooms(Protocol):
    """What these calls need of the running :class:`~peerhub.realtime.service.Realtime`.

    A protocol rather than the class: the service imports the server, the handlers and,
    through them, the groups' code, which imports this module (an import cycle)."""

    started: bool

    async def disconnect_user(
        self, user_id: str, *, reason: str, sign_in_id: str | None = None, code: int = 1008
    ) -> None: ...
    async def revoke_membership(self, room_id: str, user_id: str, *, reason: str) -> None: ...
    async def member_changed(self, room_id: str, user_id: str) -> None: ...
    def refresh_room(self, room_id: str) -> None: ...
    def publish_control(self, op: str, payload: dict[str, Any]) -> None: ...
    def send_to_moderators(self, room_id: str, frame: bytes) -> None: ...


def _service(target: Any) -> LiveRooms:
    if isinstance(target, LiveRooms):
        return target
    state = getattr(target, "state", None)
    service = getattr(state, "realtime", None) if state is not None else None
    if not isinstance(service, LiveRooms):
        raise TypeError(f"no running real-time rooms in {type(target).__name__}")
    return service


async def disconnect_user(
    target: Any,
    user_id: str,
    *,
    reason: str = SIGN_IN_ENDED,
    sign_in_id: str | None = None,
    code: int = 1008,
) -> None:
    """Close the person's live sockets (only those of ``sign_in_id`` if given)."""
    service = _service(target)
    await service.disconnect_user(user_id, reason=reason, sign_in_id=sign_in_id, code=code)


async def revoke_membership(
    target: Any, room_id: str, user_id: str, *, reason: str = NOT_IN_GROUP
) -> None:
    """The person left, was removed or was banned from the group whose id is ``room_id``.

    Their sockets subscribed to the room are closed with 1008; their other
    sockets forget their rank in it.
    """
    service = _service(target)
    await service.revoke_membership(room_id, user_id, reason=reason)


async def member_changed(target: Any, room_id: str, user_id: str) -> None:
    """The person's rank in the group changed (made or unmade a moderator)."""
    service = _service(target)
    await service.member_changed(room_id, user_id)


async def room_changed(target: Any, room_id: str) -> None:
    """The group's room settings changed outside the room (the group's form): every
    process re-reads the room's state and drops what extensions cached about it."""
    service = _service(target)
    if service.started:
        service.refresh_room(room_id)
        service.publish_control("room.changed", {"room": room_id})


async def notify_moderators(target: Any, room_id: str, frame: bytes) -> None:
    """An ephemeral frame to the room's moderators and organisers, in every process."""
    service = _service(target)
    service.send_to_moderators(room_id, frame)
