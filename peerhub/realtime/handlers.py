"""What each client frame does. Every handler gets a validated :class:`Frame`.

Frames that touch the database re-check the sign-in and the person's rank
in the room *in the database*; the others (typing) use the socket's cached rank,
which control events and the periodic re-check keep current. A refusal is an
``error`` frame naming the problem; the socket stays open unless the sign-in or
the place in the group is gone (then 1008).

Each handler is given the running service, typed as the part of it the handler uses
(a protocol of ports.py: ``on_send`` sees :class:`~peerhub.realtime.ports.Sends`, the
limits, the room's gate, the policies and the writer's queue, and nothing more).
"""

from __future__ import annotations

import asyncio
import functools
import logging
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

from peerhub import i18n
from peerhub.accounts.twofactor import standing
from peerhub.groups import texts
from peerhub.i18n import _, lazy_gettext
from peerhub.models import GroupRole, User
from peerhub.outcomes import actions as outcomes
from peerhub.realtime import protocol, queries, writer
from peerhub.realtime.hub import CLOSE_POLICY, Peer, SendOrigin
from peerhub.realtime.policy import FrameContext, SendContext, SubscribeContext
from peerhub.realtime.ports import (
    AcceptsRules,
    Checks,
    Extends,
    Leaves,
    MarksRead,
    Moderates,
    Reads,
    ReadsHistory,
    Sends,
    Subscribes,
    Types,
)
from peerhub.realtime.protocol import Frame, Subscribed

if TYPE_CHECKING:
    from peerhub.realtime.service import Realtime, RoomSnapshot

log = logging.getLogger("peerhub.realtime")

# Words people read, put into the socket's language where they are sent (handlers run
# in the socket's own task, where its language is active: server.run_connection).
NOT_FOUND = writer.NOT_FOUND_TEXT
SIGN_IN_ENDED = writer.SIGN_IN_ENDED_TEXT
NOT_SUBSCRIBED = lazy_gettext("Subscribe to the room first.")
NO_LONGER_IN_GROUP = lazy_gettext("You are no longer in this group.")

# Called with the whole service; each handler's own type says which part it uses, and
# mypy checks here that the service is that part (a handler taking ports.Sends is a
# Handler only while Realtime satisfies Sends).
Handler = Callable[["Realtime", Peer, Frame], Awaitable[None]]


def _rules_shown(peer: Peer, snap: RoomSnapshot) -> dict[str, str | None] | None:
    """The ground rules as this person is shown them: in their language where the group
    gave a version, else the own text saying its language; None when there are none."""
    if not snap.rules_text.strip():
        return None
    with i18n.using(peer.language):
        return texts.rules_frame(
            snap.rules_text, snap.rules_language, snap.rules_versions, peer.language
        )


def fail(peer: Peer, frame: Frame, code: str, message: object) -> None:
    peer.send(protocol.error(code, str(message), ref=frame.ref, room=frame.room))


async def access(rt: Checks, peer: Peer, frame: Frame, room: str) -> GroupRole | None:
    """The person's rank in the room, checked in the database; None after refusing."""
    async with rt.sessions() as db, db.begin():
        rank = await queries.check_access(
            db, rt.settings, peer.sign_in_id, peer.user_id, room, rt.now()
        )
    if rank is None:
        peer.close(CLOSE_POLICY, str(SIGN_IN_ENDED))
        return None
    if rank == GroupRole.NONE:
        fail(peer, frame, "not_found", NOT_FOUND)
        if room in peer.subs:
            peer.close(CLOSE_POLICY, str(NO_LONGER_IN_GROUP))
        return None
    if room in peer.subs and rank != peer.rank(room):
        rt.set_rank(peer, room, rank)
    return rank


# --- subscribing ---------------------------------------------------------------------


async def subscribe(rt: Subscribes, peer: Peer, frame: Frame, room: str, after: int | None) -> None:
    if room in peer.subs:
        rt.leave(peer, room)
    elif len(peer.subs) >= rt.config.rooms_per_socket:
        fail(peer, frame, "too_many_rooms", _("This connection follows as many rooms as it may."))
        return
    async with rt.sessions() as db, db.begin():
        rank = await queries.check_access(
            db, rt.settings, peer.sign_in_id, peer.user_id, room, rt.now()
        )
        info = (
            await writer.room_info(db, room, peer.user_id)
            if rank is not None and rank > GroupRole.NONE
            else None
        )
    if rank is None:
        peer.close(CLOSE_POLICY, str(SIGN_IN_ENDED))
        return
    if info is None:
        fail(peer, frame, "not_found", NOT_FOUND)
        return
    if peer.closing:
        return
    snap = rt.remember_room(room, info)
    peer.ranks[room] = rank
    peer.rules_ok[room] = (
        info.rules_accepted or rank >= GroupRole.MODERATOR or not snap.rules_text.strip()
    )
    hook = SubscribeContext(api=rt, socket=peer, room_id=room, rank=rank)
    await rt.policy.on_subscribe(hook)
    # The feed may be dropped while this waits (its last socket left): join the
    # one that is registered once it is ready, with no await in between.
    for _attempt in range(5):
        feed = rt.hub.feed(room)
        if feed.ready.is_set():
            break
        try:
            await asyncio.wait_for(feed.ready.wait(), 10)
        except TimeoutError:
            break
    if not feed.ready.is_set() or rt.hub.feeds.get(room) is not feed:
        rt.hub.drop_if_empty(room)
        fail(peer, frame, "unavailable", "The room cannot be opened right now; try again.")
        return
    if peer.closing or room in peer.subs:
        rt.hub.drop_if_empty(room)
        return
    # A seq the room has never reached (a restored database, another deployment's
    # room): the client's view is not this room's. It gets the latest page with
    # ``limited``, as for a position too old to resume from, and starts again there.
    unknown = after is not None and after > info.room.next_seq - 1
    rt.presence.add(room, peer.person(room))
    catch = feed.join(peer, rank >= GroupRole.MODERATOR, None if unknown else after)
    if unknown:
        catch.limited = True
    peer.subs[room] = catch.sub
    rt.schedule_flush()
    here = rt.presence.union(room)
    # The next presence frame this socket gets is the change from this list.
    catch.sub.presence_base = dict(here)
    present = sorted(here.values(), key=lambda p: p.name.casefold())
    peer.send(
        protocol.subscribed(
            Subscribed(
                room=room,
                group_slug=snap.slug,
                group_name=snap.name,
                role=queries.role_name(rank),
                state=rt.state_for(room, rank),
                rules_text=snap.rules_text,
                rules_version=queries.rules_version(snap.rules_text),
                rules_accepted=peer.rules_ok[room],
                present=present,
                last_read=info.last_read,
                latest_seq=catch.latest,
                limited=catch.limited,
                extra=hook.extra,
                rules_shown=_rules_shown(peer, snap),
            )
        )
    )
    try:
        # Paced by the socket's drain: a client that reads is never cut off (hub.py).
        await feed.catch_up(catch)
    except Exception as exc:
        log.warning("catch-up failed: %s", exc.__class__.__name__)
        rt.leave(peer, room)
        fail(peer, frame, "unavailable", "The room cannot be opened right now; try again.")
        return
    peer.send(protocol.synced(room, catch.latest))
    await feed.go_live(catch.sub, catch.latest)


async def on_subscribe(rt: Subscribes, peer: Peer, frame: Frame) -> None:
    await subscribe(rt, peer, frame, frame.text("room"), frame.number("after"))


async def on_resume(rt: Subscribes, peer: Peer, frame: Frame) -> None:
    rooms: dict[str, int | None] = frame.fields["rooms"]
    for room, after in rooms.items():
        if peer.closing:
            return
        await subscribe(rt, peer, Frame("subscribe", {"room": room}, frame.ref), room, after)


async def on_unsubscribe(rt: Leaves, peer: Peer, frame: Frame) -> None:
    room = frame.text("room")
    rt.leave(peer, room)
    peer.send(protocol.unsubscribed(room))


# --- sending -------------------------------------------------------------------------


async def _original_ack(rt: Reads, peer: Peer, room: str, client_id: str) -> bool:
    """A retry of a message already committed gets its ack even if sending is now refused."""
    async with rt.sessions() as db:
        row = await queries.committed(db, room, peer.user_id, client_id)
    if row is None:
        return False
    peer.send(protocol.ack(room, client_id, row[0], row[1], row[2], duplicate=True))
    return True


async def on_send(rt: Sends, peer: Peer, frame: Frame) -> None:
    room, client_id, body = frame.text("room"), frame.text("client_id"), frame.text("body")

    def refuse(
        code: str,
        message: str,
        *,
        retry_after: float | None = None,
        next_meeting: str | None = None,
    ) -> None:
        peer.send(
            protocol.error(
                code,
                message,
                ref=frame.ref,
                room=room,
                client_id=client_id,
                retry_after=retry_after,
                next_meeting=next_meeting,
            )
        )

    if room not in peer.subs:
        # The same answer as typing, whoever asks and whatever the room: it says only
        # what this socket did (a room that is not theirs answers not_found to subscribe).
        refuse("not_subscribed", str(NOT_SUBSCRIBED))
        return
    rank = peer.rank(room)
    decision = rt.send_limits.take(f"{peer.user_id}\x00{room}")
    if not decision.allowed:
        refuse(
            "rate_limited",
            _("You are sending quickly; wait a moment."),
            retry_after=decision.retry_after,
        )
        return
    if peer.inflight >= rt.config.inflight_per_socket:
        refuse("busy", _("Too many messages waiting to be saved; try again."), retry_after=1.0)
        return
    if not peer.rules_ok.get(room, False):
        if not await _original_ack(rt, peer, room, client_id):
            refuse(
                "rules_not_accepted", _("Please read and accept the group's ground rules first.")
            )
        return
    snap = rt.rooms.get(room)
    if snap is not None:
        closed = rt.gate(room, snap.is_open, snap.moderator_only, rank)
        if closed is not None:
            if not await _original_ack(rt, peer, room, client_id):
                refuse(closed.code, closed.message, next_meeting=rt.next_meeting_iso(room))
            return
    ctx = SendContext(
        api=rt, socket=peer, room_id=room, rank=rank, client_id=client_id, now=rt.now()
    )
    verdict = await rt.policy.check_send(ctx)
    if not verdict.allowed:
        if not await _original_ack(rt, peer, room, client_id):
            refuse(
                verdict.code or "refused",
                verdict.message or _("Not sent."),
                retry_after=verdict.retry_after,
            )
        return
    classification = await rt.policy.classify(ctx, body)
    if peer.closing:
        return
    command = writer.Command(
        room=room,
        client_id=client_id,
        body=body,
        status=classification.status,
        sender_id=peer.user_id,
        sender_name=peer.pseudonym,
        sign_in_id=peer.sign_in_id,
        gated=True,
        # The policies' rows (a crisis alert) go into the message's own transaction.
        rows=functools.partial(rt.policy.rows_for, ctx, classification=classification),
        context=SendOrigin(peer, ctx, classification),
    )
    try:
        rt.writer.submit(command)
    except writer.Busy:
        refuse("busy", _("The server is busy; try again."), retry_after=1.0)
        return
    peer.inflight += 1
    peer.active = True


# --- reading -------------------------------------------------------------------------


async def on_history(rt: ReadsHistory, peer: Peer, frame: Frame) -> None:
    room = frame.text("room")
    before = frame.number("before_seq") or 1
    limit = frame.number("limit", rt.config.page_size) or rt.config.page_size
    rank = await access(rt, peer, frame, room)
    if rank is None:
        return
    async with rt.sessions() as db:
        views = await queries.fetch_before(db, room, before, limit)
    moderator = rank >= GroupRole.MODERATOR
    shown = []
    for view in views:
        event = rt.event_of(view)
        if event.visible_to(peer.user_id, moderator) and not (
            view.sender_id is not None and view.sender_id in peer.hidden_senders
        ):
            shown.append(view)
    more = bool(views) and views[0].seq > 1
    peer.send(protocol.history(room, before, shown, more))


async def on_read(rt: MarksRead, peer: Peer, frame: Frame) -> None:
    room, seq = frame.text("room"), frame.number("seq") or 0
    if not rt.read_limits.take(f"{peer.user_id}\x00{room}").allowed:
        return  # read positions are advisory: drop extras quietly
    rank = await access(rt, peer, frame, room)
    if rank is None:
        return
    feed = rt.hub.feeds.get(room)
    if feed is not None and feed.last_seq is not None:
        seq = min(seq, feed.last_seq)
    async with rt.sessions() as db, db.begin():
        await writer.ensure_room(db, room)
        stored = await writer.set_read(db, room, peer.user_id, seq, rt.now())
        # Reading the room while it is open is coming to it (match outcomes).
        await outcomes.note_presence(db, room, peer.user_id, rt.now())
    peer.send(protocol.read_ok(room, stored))


async def on_typing(rt: Types, peer: Peer, frame: Frame) -> None:
    room = frame.text("room")
    if room not in peer.subs or peer.rank(room) == GroupRole.NONE:
        fail(peer, frame, "not_subscribed", NOT_SUBSCRIBED)
        return
    if not rt.typing_limits.take(f"{peer.user_id}\x00{room}").allowed:
        return  # typing notices are best-effort: drop extras quietly
    rt.send_to_room(room, protocol.typing(room, peer.person(room)), skip_user=peer.user_id)


async def on_ping(rt: object, peer: Peer, frame: Frame) -> None:
    peer.send(protocol.pong(frame.ref))


# --- rules, opening, settings --------------------------------------------------------


async def on_rules_accept(rt: AcceptsRules, peer: Peer, frame: Frame) -> None:
    room, version = frame.text("room"), frame.text("version")
    rank = await access(rt, peer, frame, room)
    if rank is None:
        return
    async with rt.sessions() as db, db.begin():
        info = await writer.room_info(db, room, peer.user_id)
        if info is None:
            fail(peer, frame, "not_found", NOT_FOUND)
            return
        current = queries.rules_version(info.group.ground_rules)
        if version != current:
            fail(peer, frame, "rules_changed", _("The ground rules have changed; read them again."))
            return
        await writer.accept_rules(db, room, peer.user_id, version, rt.now())
    for mine in rt.hub.peers_of(peer.user_id):
        mine.rules_ok[room] = True
    peer.send(protocol.rules_accepted(room, version))


async def _system(
    rt: Moderates,
    peer: Peer,
    frame: Frame,
    room: str,
    data: dict[str, object],
    changes: dict[str, object],
) -> None:
    result = await rt.writer.write(
        writer.Command(
            room=room,
            client_id=writer.system_client_id(),
            kind="system",
            sender_id=peer.user_id,
            sender_name=peer.pseudonym,
            sign_in_id=peer.sign_in_id,
            min_rank=GroupRole.MODERATOR,
            data=dict(data),
            room_changes=dict(changes),
        )
    )
    if result.refused is not None:
        fail(peer, frame, result.refused.code, result.refused.message)
        if result.refused.close:
            peer.close(CLOSE_POLICY, result.refused.message)
        return
    rt.refresh_room(room)
    for listener in rt.registry.event_listeners:
        try:
            await listener(room, peer.user_id, dict(data))
        except Exception:
            log.exception("event listener failed")


async def _needs_two_step(rt: Reads, peer: Peer, frame: Frame) -> bool:
    """A moderator's action from someone whose role now needs two-step sign-in that
    they have not set up (made a moderator after this socket opened): refused."""
    async with rt.sessions() as db:
        user = await db.get(User, peer.user_id)
        missing = user is None or (await standing(db, user)).must_enrol
    if missing:
        fail(peer, frame, "two_step_required", _("Set up two-step sign-in to moderate."))
    return missing


async def _moderator(rt: Moderates, peer: Peer, frame: Frame) -> tuple[str, bool] | None:
    room = frame.text("room")
    rank = await access(rt, peer, frame, room)
    if rank is None:
        return None
    if rank < GroupRole.MODERATOR:
        fail(peer, frame, "forbidden", _("Only the group's moderators can do that."))
        return None
    if await _needs_two_step(rt, peer, frame):
        return None
    async with rt.sessions() as db, db.begin():
        info = await writer.room_info(db, room, peer.user_id)
    if info is None:
        fail(peer, frame, "not_found", NOT_FOUND)
        return None
    rt.remember_room(room, info)
    return room, info.room.is_open


async def on_room_open(rt: Moderates, peer: Peer, frame: Frame) -> None:
    found = await _moderator(rt, peer, frame)
    if found is None:
        return
    room, is_open = found
    if is_open:
        fail(peer, frame, "already_open", _("A session is already open."))
        return
    now = rt.now()
    await _system(
        rt,
        peer,
        frame,
        room,
        {"event": "session.opened"},
        {"is_open": True, "opened_at": now, "opened_by": peer.user_id},
    )


async def on_room_close(rt: Moderates, peer: Peer, frame: Frame) -> None:
    found = await _moderator(rt, peer, frame)
    if found is None:
        return
    room, is_open = found
    if not is_open:
        fail(peer, frame, "already_closed", _("No session is open."))
        return
    await _system(
        rt,
        peer,
        frame,
        room,
        {"event": "session.closed"},
        {"is_open": False, "opened_at": None, "opened_by": None},
    )


async def on_room_settings(rt: Moderates, peer: Peer, frame: Frame) -> None:
    found = await _moderator(rt, peer, frame)
    if found is None:
        return
    room, _found_at = found
    flag = frame.flag("moderator_only")
    await _system(
        rt,
        peer,
        frame,
        room,
        {"event": "room.settings", "moderator_only": flag},
        {"moderator_only": flag},
    )


# --- extensions ------------------------------------------------------------------------


async def extension(rt: Extends, peer: Peer, frame: Frame) -> None:
    entry = rt.registry.handlers[frame.type]
    room = frame.room if entry.room else None
    rank = GroupRole.NONE
    if room is not None:
        found = await access(rt, peer, frame, room)
        if found is None:
            return
        if found < entry.min_rank:
            fail(peer, frame, "forbidden", _("You cannot do that in this group."))
            return
        if entry.min_rank >= GroupRole.MODERATOR and await _needs_two_step(rt, peer, frame):
            return
        rank = found
    await entry.handler(FrameContext(api=rt, socket=peer, frame=frame, room_id=room, rank=rank))


HANDLERS: dict[str, Handler] = {
    "ping": on_ping,
    "subscribe": on_subscribe,
    "resume": on_resume,
    "unsubscribe": on_unsubscribe,
    "send": on_send,
    "history": on_history,
    "typing": on_typing,
    "read": on_read,
    "rules.accept": on_rules_accept,
    "session.open": on_room_open,
    "session.close": on_room_close,
    "room.settings": on_room_settings,
}
