"""Reads of the room log and of who may be in a room: no writes.

Everything here only reads (``SELECT``); every write to the real-time tables is in
:mod:`peerhub.realtime.writer` (tests/realtime/test_store_split.py keeps it so). The
writer's transaction uses the access re-checks below (:func:`live_sign_ins`,
:func:`ranks`) on its own connection, so each works on an ORM session or on a bare
connection.

- who may be here: :func:`live_sign_ins`, :func:`ranks`, :func:`check_access`;
- a room: :func:`group_room`, :func:`accepted_rules`, :func:`room_row` (put together,
  with the room's row made on first use, by :func:`peerhub.realtime.writer.room_info`),
  :func:`latest_seq`, :func:`tails`;
- the log: :func:`fetch_after` (catch-up and replay), :func:`fetch_before` (history),
  :func:`committed` (a retried message's original ack).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import String, any_, bindparam, literal, select, union_all
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession
from sqlalchemy.orm import selectinload

from peerhub.config import Settings
from peerhub.models import (
    Group,
    GroupMember,
    GroupRole,
    Organisation,
    OrganisationOrganiser,
    SignIn,
    User,
)
from peerhub.realtime.models import Room, RoomMessage, RoomReadPosition, RoomRulesAcceptance
from peerhub.realtime.protocol import MessageView


def rules_version(text: str) -> str:
    """A short digest of the rules' text: editing the rules makes a new version."""
    return hashlib.sha256(text.strip().encode()).hexdigest()[:16]


def role_name(rank: GroupRole) -> str:
    return {
        GroupRole.ORGANISER: "organiser",
        GroupRole.MODERATOR: "moderator",
    }.get(rank, "member")


# A group that welcomes people at this stage gets a room that opens only while a
# moderator is present, unless its moderators choose otherwise (docs/realtime.md).
CRISIS_STAGE = "approaching_crisis"


# The reads below work on an ORM session or on a bare connection (the writer's).
Db = AsyncSession | AsyncConnection


def dialect(db: Db) -> str:
    if isinstance(db, AsyncConnection):
        return db.dialect.name
    bind = db.bind
    assert bind is not None  # noqa: S101 - sessions come from a bound sessionmaker
    return bind.dialect.name


def among(db: Db, column: Any, values: Iterable[str]) -> Any:
    """``column IN values``. On PostgreSQL as ``= ANY($1)`` with one array parameter:
    the SQL text is then the same for any number of values, so asyncpg's prepared
    statement is reused instead of a new one planned for every batch size."""
    items = list(values)
    if dialect(db) == "postgresql":
        return column == any_(bindparam(None, items, type_=ARRAY(String()), unique=True))
    return column.in_(items)


class _Pg:
    """The access re-checks' statements for PostgreSQL, built once (as the writer's,
    :class:`peerhub.realtime.writer.Writer`, which runs them in every transaction).

    Each takes arrays (``= ANY``), so one prepared statement serves every batch, and
    SQLAlchemy does not rebuild and re-key a statement per batch (that was most of a
    small batch's CPU)."""

    def __init__(self) -> None:
        ids = ARRAY(String())
        when = SignIn.expires_at.type
        self.sessions = (
            select(SignIn.id, SignIn.user_id)
            .join(User, User.id == SignIn.user_id)
            .where(
                SignIn.id == any_(bindparam("ids", type_=ids)),
                SignIn.expires_at > bindparam("now", type_=when),
                SignIn.last_seen_at > bindparam("idle", type_=when),
                User.disabled_at.is_(None),
            )
        )
        groups, users = bindparam("groups", type_=ids), bindparam("users", type_=ids)
        self.ranks = union_all(
            select(GroupMember.group_id, GroupMember.user_id, GroupMember.role)
            .join(Group, Group.id == GroupMember.group_id)
            .join(Organisation, Organisation.id == Group.organisation_id)
            .where(
                GroupMember.group_id == any_(groups),
                GroupMember.user_id == any_(users),
                GroupMember.status == "active",
                Organisation.verified_at.is_not(None),
            ),
            select(Group.id, OrganisationOrganiser.user_id, literal("organiser"))
            .join(
                OrganisationOrganiser,
                OrganisationOrganiser.organisation_id == Group.organisation_id,
            )
            .join(Organisation, Organisation.id == Group.organisation_id)
            .where(
                Group.id == any_(groups),
                OrganisationOrganiser.user_id == any_(users),
                Organisation.verified_at.is_not(None),
                Group.kind == "group",  # a private check-in's room: its two people only
            ),
        )


_PG = _Pg()


# --- who may be here -------------------------------------------------------------------


async def live_sign_ins(
    db: Db, settings: Settings, sign_in_ids: Iterable[str], now: datetime
) -> dict[str, str]:
    """Of these sign-ins, the ones still live, mapped to their user's id."""
    ids = list(set(sign_in_ids))
    if not ids:
        return {}
    idle = now - timedelta(seconds=settings.sign_in_idle_timeout)
    out: dict[str, str] = {}
    if dialect(db) == "postgresql":
        for start in range(0, len(ids), 500):
            params = {"ids": ids[start : start + 500], "now": now, "idle": idle}
            out.update({sid: uid for sid, uid in await db.execute(_PG.sessions, params)})
        return out
    for start in range(0, len(ids), 500):
        rows = await db.execute(
            select(SignIn.id, SignIn.user_id)
            .join(User, User.id == SignIn.user_id)
            .where(
                among(db, SignIn.id, ids[start : start + 500]),
                SignIn.expires_at > now,
                SignIn.last_seen_at > idle,
                User.disabled_at.is_(None),
            )
        )
        out.update({sid: uid for sid, uid in rows})
    return out


async def ranks(db: Db, pairs: Iterable[tuple[str, str]]) -> dict[tuple[str, str], GroupRole]:
    """Each (group id, user id) pair's rank in the group's room.

    As :func:`peerhub.security.permissions.group_rank`, except that nobody has a
    rank in the room of a group whose organisation PeerHub has not verified: such a
    room is closed to everyone, its organisers included, so subscribing, sending
    and every moderation frame there are refused (docs/groups.md, "Verification").
    In the room of a private check-in (``Group.kind == "check_in"``) only its two
    members have a rank: the organisation's organisers have none (docs/check-ins.md).
    """
    wanted = set(pairs)
    out = dict.fromkeys(wanted, GroupRole.NONE)
    ordered = sorted(wanted)
    for start in range(0, len(ordered), 500):
        out.update(await _ranks_of(db, set(ordered[start : start + 500])))
    return out


async def _ranks_of(db: Db, wanted: set[tuple[str, str]]) -> dict[tuple[str, str], GroupRole]:
    out = dict.fromkeys(wanted, GroupRole.NONE)
    if not wanted:
        return out
    groups = sorted({g for g, _ in wanted})
    users = sorted({u for _, u in wanted})
    if dialect(db) == "postgresql":
        rows = await db.execute(_PG.ranks, {"groups": groups, "users": users})
        return _rank_rows(out, rows)
    # One round trip: active memberships and organiserships of these people here, in
    # groups of verified organisations only.
    members = (
        select(GroupMember.group_id, GroupMember.user_id, GroupMember.role)
        .join(Group, Group.id == GroupMember.group_id)
        .join(Organisation, Organisation.id == Group.organisation_id)
        .where(
            among(db, GroupMember.group_id, groups),
            among(db, GroupMember.user_id, users),
            GroupMember.status == "active",
            Organisation.verified_at.is_not(None),
        )
    )
    organisers = (
        select(Group.id, OrganisationOrganiser.user_id, literal("organiser"))
        .join(
            OrganisationOrganiser,
            OrganisationOrganiser.organisation_id == Group.organisation_id,
        )
        .join(Organisation, Organisation.id == Group.organisation_id)
        .where(
            among(db, Group.id, groups),
            among(db, OrganisationOrganiser.user_id, users),
            Organisation.verified_at.is_not(None),
            Group.kind == "group",  # a private check-in's room: its two people only
        )
    )
    return _rank_rows(out, await db.execute(union_all(members, organisers)))


def _rank_rows(
    out: dict[tuple[str, str], GroupRole], rows: Iterable[Any]
) -> dict[tuple[str, str], GroupRole]:
    for gid, uid, role in rows:
        if (gid, uid) not in out:
            continue
        rank = _RANKS.get(role, GroupRole.MEMBER)
        if rank > out[gid, uid]:
            out[gid, uid] = rank
    return out


_RANKS = {
    "organiser": GroupRole.ORGANISER,
    "moderator": GroupRole.MODERATOR,
    "member": GroupRole.MEMBER,
}


async def check_access(
    db: AsyncSession,
    settings: Settings,
    sign_in_id: str,
    user_id: str,
    room_id: str,
    now: datetime,
) -> GroupRole | None:
    """None when the sign-in has ended; else the person's rank in the group."""
    live = await live_sign_ins(db, settings, [sign_in_id], now)
    if live.get(sign_in_id) != user_id:
        return None
    return (await ranks(db, [(room_id, user_id)]))[room_id, user_id]


# --- a room ----------------------------------------------------------------------------


@dataclass(slots=True)
class RoomInfo:
    group: Group
    room: Room
    rules_accepted: bool
    last_read: int


async def group_room(
    db: AsyncSession, room_id: str, user_id: str
) -> tuple[Group, Room | None, int] | None:
    """The group, its room's row (None until it is made), and this person's read position;
    None when there is no such group."""
    row = (
        await db.execute(
            select(Group, Room, RoomReadPosition.last_read_seq)
            .outerjoin(Room, Room.id == Group.id)
            .outerjoin(
                RoomReadPosition,
                (RoomReadPosition.room_id == Group.id) & (RoomReadPosition.user_id == user_id),
            )
            .where(Group.id == room_id)
            .options(selectinload(Group.texts))
            .execution_options(populate_existing=True)
        )
    ).first()
    if row is None:
        return None
    group, room, last_read = row
    return group, room, int(last_read or 0)


async def room_row(db: AsyncSession, room_id: str) -> Room | None:
    """The room's row, read afresh."""
    return await db.get(Room, room_id, populate_existing=True)


async def accepted_rules(db: AsyncSession, room_id: str, user_id: str, rules: str) -> bool:
    """Whether this person accepted this version of the ground rules in the room."""
    versions = set(
        await db.scalars(
            select(RoomRulesAcceptance.version).where(
                RoomRulesAcceptance.room_id == room_id, RoomRulesAcceptance.user_id == user_id
            )
        )
    )
    return rules_version(rules) in versions


async def latest_seq(db: AsyncSession, room_id: str) -> int:
    value = await db.scalar(select(Room.next_seq).where(Room.id == room_id))
    return int(value) - 1 if value is not None else 0


async def tails(db: AsyncSession, room_ids: Sequence[str]) -> dict[str, int]:
    """The last committed seq of each room."""
    out: dict[str, int] = {}
    for start in range(0, len(room_ids), 500):
        rows = await db.execute(
            select(Room.id, Room.next_seq).where(among(db, Room.id, room_ids[start : start + 500]))
        )
        out.update({rid: int(nxt) - 1 for rid, nxt in rows})
    return out


_VIEW_COLUMNS = (
    RoomMessage.room_id,
    RoomMessage.seq,
    RoomMessage.kind,
    RoomMessage.sender_id,
    User.pseudonym,
    RoomMessage.client_id,
    RoomMessage.body,
    RoomMessage.status,
    RoomMessage.created_at,
    RoomMessage.data,
    RoomMessage.redaction_reason,
)


def _views(rows: Iterable[Any]) -> list[MessageView]:
    return [
        MessageView(
            room=r[0],
            seq=r[1],
            kind=r[2],
            sender_id=r[3],
            sender_name=r[4],
            client_id=r[5],
            body=r[6],
            status=r[7],
            at=r[8],
            data=r[9],
            redaction_reason=r[10],
        )
        for r in rows
    ]


async def fetch_after(
    db: AsyncSession, room_id: str, after: int, upto: int, limit: int
) -> list[MessageView]:
    """Messages with ``after < seq <= upto``, oldest first, at most ``limit``."""
    rows = await db.execute(
        select(*_VIEW_COLUMNS)
        .outerjoin(User, User.id == RoomMessage.sender_id)
        .where(RoomMessage.room_id == room_id, RoomMessage.seq > after, RoomMessage.seq <= upto)
        .order_by(RoomMessage.seq)
        .limit(limit)
    )
    return _views(rows)


async def fetch_before(
    db: AsyncSession, room_id: str, before: int, limit: int
) -> list[MessageView]:
    """The ``limit`` messages just before ``before``, oldest first."""
    rows = await db.execute(
        select(*_VIEW_COLUMNS)
        .outerjoin(User, User.id == RoomMessage.sender_id)
        .where(RoomMessage.room_id == room_id, RoomMessage.seq < before)
        .order_by(RoomMessage.seq.desc())
        .limit(limit)
    )
    return list(reversed(_views(rows)))


async def committed(
    db: AsyncSession, room_id: str, sender_id: str, client_id: str
) -> tuple[int, str, datetime] | None:
    """The seq, status and time of a message this sender already committed with this
    client id (a retry gets the original's ack); None if there is none."""
    row = (
        await db.execute(
            select(RoomMessage.seq, RoomMessage.status, RoomMessage.created_at).where(
                RoomMessage.room_id == room_id,
                RoomMessage.sender_id == sender_id,
                RoomMessage.client_id == client_id,
            )
        )
    ).first()
    return None if row is None else (row[0], row[1], row[2])
