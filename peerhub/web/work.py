"""The pages each role lands on for its own work (see :mod:`peerhub.web.landing`).

- ``GET /account/groups``, "Your groups": every group the person is in, has asked to
  join or waits for; for each place, the next meeting in plain words, whether the
  room is open now, and the way in.
- ``GET /moderate``, "Your rooms": the rooms a moderator or organiser looks after,
  open ones first, with what waits for them (reports, crisis alerts, held
  messages, requests to join).

Both are the signed-in person's own view: anyone signed in may open them, and they
show only that person's groups. Read-only; no action lives here.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute, selectinload
from sqlalchemy.sql.elements import ColumnElement
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from peerhub.checkins.models import CheckIn
from peerhub.groups import invitations, queries
from peerhub.i18n import _
from peerhub.models import Group, GroupMember, GroupRole, OrganisationOrganiser, User
from peerhub.moderation.models import CrisisAlert, Report
from peerhub.realtime.doors import Door, Presence, doors, nobody_present
from peerhub.realtime.models import RoomMessage
from peerhub.realtime.service import Realtime
from peerhub.rotas import queries as rota_queries
from peerhub.rotas.queries import NextCover
from peerhub.security.permissions import group_rank
from peerhub.web.guards import signed_in
from peerhub.web.render import ctx, render

# The statuses of "Your groups" that hold a place, and so a way into the room.
PLACE_STATUSES = frozenset({"member", "organiser"})


def presence_of(request: Request) -> Presence:
    """Whether a moderator is in a room now, as this process's real-time service knows."""
    found = getattr(request.app.state, "realtime", None)
    if isinstance(found, Realtime):
        return found.presence.moderator_present
    return nobody_present


# -- Your groups ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Place:
    """One line of "Your groups": the group, the person's standing, and its room."""

    group: queries.MyGroup
    door: Door | None
    # Who runs the next session (pseudonyms), for a place with a way into the room.
    cover: NextCover | None = None

    @property
    def has_room(self) -> bool:
        """The person may go into the room, and the page should link to it."""
        return (
            self.group.status in PLACE_STATUSES
            and self.door is not None
            and self.door.organisation_verified
        )


async def my_places(
    db: AsyncSession, user_id: str, now: datetime, presence: Presence = nobody_present
) -> list[Place]:
    mine = await queries.my_groups(db, user_id)
    found = await doors(db, [g.group_id for g in mine if g.status in PLACE_STATUSES], now, presence)
    placed = [g.group_id for g in mine if g.status in PLACE_STATUSES]
    groups = (await db.scalars(select(Group).where(Group.id.in_(placed)))).all() if placed else []
    covers = await rota_queries.next_cover(db, groups, now)
    return [Place(g, found.get(g.group_id), covers.get(g.group_id)) for g in mine]


@signed_in
async def your_groups(request: Request, user: User) -> Response:
    app = ctx(request)
    async with app.sessions() as db:
        places = await my_places(db, user.id, app.clock(), presence_of(request))
        # Invitations to moderate or organise wait here for the person's answer.
        waiting = await invitations.waiting_for(db, user.id, app.clock())
        # Private check-ins are never among the groups: a link to them, if there are any.
        check_ins = await db.scalar(
            select(func.count())
            .select_from(CheckIn)
            .where(or_(CheckIn.member_id == user.id, CheckIn.asked_by == user.id))
        )
    return render(
        request,
        "groups/mine.html",
        {"places": places, "invitations": waiting, "check_ins": int(check_ins or 0)},
    )


@dataclass(frozen=True, slots=True)
class YourPlace:
    """The signed-in person's place in one group, for that group's own pages."""

    rank: GroupRole
    door: Door | None

    @property
    def role_words(self) -> str:
        """ "an organiser", "a moderator" or "a member", in the page's language (prefer
        :attr:`standing`, a whole sentence, in pages)."""
        if self.rank == GroupRole.ORGANISER:
            return _("an organiser")
        if self.rank == GroupRole.MODERATOR:
            return _("a moderator")
        return _("a member")

    @property
    def standing(self) -> str:
        """ "You are a member of this group.", a whole sentence in the page's language."""
        if self.rank == GroupRole.ORGANISER:
            return _("You are an organiser of this group.")
        if self.rank == GroupRole.MODERATOR:
            return _("You are a moderator of this group.")
        return _("You are a member of this group.")

    @property
    def has_room(self) -> bool:
        return self.door is not None and self.door.organisation_verified


async def place_in(
    db: AsyncSession,
    user: User | None,
    group_id: str,
    now: datetime,
    presence: Presence = nobody_present,
) -> YourPlace | None:
    """The person's place in the group (with its room's door), or None if they have none."""
    rank = await group_rank(db, user, group_id)
    if rank == GroupRole.NONE:
        return None
    return YourPlace(rank, (await doors(db, [group_id], now, presence)).get(group_id))


# -- Your rooms -----------------------------------------------------------------------------


@dataclass(slots=True)
class Waiting:
    reports: int = 0
    alerts: int = 0
    held: int = 0
    requests: int = 0

    @property
    def total(self) -> int:
        return self.reports + self.alerts + self.held + self.requests


@dataclass(frozen=True, slots=True)
class RoomLine:
    group: Group
    role: str  # moderator | organiser
    door: Door
    waiting: Waiting = field(default_factory=Waiting)


async def _rooms_of(db: AsyncSession, user_id: str) -> list[tuple[Group, str]]:
    """Groups the person moderates or organises (organisers first in a tie)."""
    organised = select(OrganisationOrganiser.organisation_id).where(
        OrganisationOrganiser.user_id == user_id
    )
    moderated = select(GroupMember.group_id).where(
        GroupMember.user_id == user_id,
        GroupMember.role == "moderator",
        GroupMember.status == "active",
    )
    groups = (
        await db.scalars(
            select(Group)
            .where(
                or_(Group.organisation_id.in_(organised), Group.id.in_(moderated)),
                Group.kind == "group",  # a private check-in: on /check-ins
            )
            .options(selectinload(Group.organisation))
            .order_by(Group.name)
        )
    ).all()
    mine = set(await db.scalars(organised))
    return [(g, "organiser" if g.organisation_id in mine else "moderator") for g in groups]


async def _counts(
    db: AsyncSession, column: InstrumentedAttribute[str], where: ColumnElement[bool]
) -> dict[str, int]:
    rows = await db.execute(select(column, func.count()).where(where).group_by(column))
    return {gid: int(n) for gid, n in rows}


async def waiting_in(db: AsyncSession, ids: Collection[str]) -> dict[str, Waiting]:
    """What waits for a moderator in each room: reports, alerts, held messages, requests."""
    if not ids:
        return {}
    wanted = sorted(ids)
    reports = await _counts(
        db, Report.group_id, (Report.status == "open") & Report.group_id.in_(wanted)
    )
    alerts = await _counts(
        db,
        CrisisAlert.group_id,
        CrisisAlert.handled_at.is_(None) & CrisisAlert.group_id.in_(wanted),
    )
    held = await _counts(
        db, RoomMessage.room_id, (RoomMessage.status == "held") & RoomMessage.room_id.in_(wanted)
    )
    requests = await _counts(
        db,
        GroupMember.group_id,
        (GroupMember.status == "requested") & GroupMember.group_id.in_(wanted),
    )
    return {
        gid: Waiting(
            reports.get(gid, 0), alerts.get(gid, 0), held.get(gid, 0), requests.get(gid, 0)
        )
        for gid in ids
    }


async def room_lines(
    db: AsyncSession, user_id: str, now: datetime, presence: Presence = nobody_present
) -> list[RoomLine]:
    """The person's rooms: open ones first, then rooms where something waits."""
    rooms = await _rooms_of(db, user_id)
    ids = [g.id for g, _ in rooms]
    found = await doors(db, ids, now, presence)
    waiting = await waiting_in(db, ids)
    lines = [RoomLine(g, role, found[g.id], waiting[g.id]) for g, role in rooms if g.id in found]
    return sorted(
        lines,
        key=lambda line: (
            not line.door.is_open,
            line.waiting.total == 0,
            line.group.name.casefold(),
        ),
    )


@signed_in
async def your_rooms(request: Request, user: User) -> Response:
    app = ctx(request)
    async with app.sessions() as db:
        lines = await room_lines(db, user.id, app.clock(), presence_of(request))
    return render(
        request,
        "groups/rooms.html",
        {
            "lines": lines,
            "rooms_open": sum(1 for line in lines if line.door.is_open),
            "waiting_total": sum(line.waiting.total for line in lines),
        },
    )


routes: list[BaseRoute] = [
    Route("/account/groups", your_groups, methods=["GET"]),
    Route("/moderate", your_rooms, methods=["GET"]),
]
