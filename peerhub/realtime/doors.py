"""Whether members can write in a group's room now, and when its next meeting is, in
plain words.

For the pages that link to rooms ("Your groups", "Your rooms"). The room itself
decides who may write in the same way (``Realtime.gate`` in service.py, and
docs/realtime.md, "Opening a room"):

- a room that is not *moderator-only* is open to its members at any time; a moderator
  opening it there only marks the time together;
- a moderator-only room takes members' messages only while a moderator has opened it
  (``Room.is_open``) **and** a moderator or organiser is in the room.

Whether the room is open is read from the database (the room row, written in the same
transaction as the ``session.opened`` or ``session.closed`` system event). Whether a
moderator is in the room is presence, which lives in the real-time service: it knows
every room that has a socket in this process, and hears the other processes' snapshots
for those rooms. A room nobody here is in is reported without a moderator, which for an
open moderator-only room says "you can read, and write once a moderator joins": never
more open than it is.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from peerhub.i18n import _
from peerhub.models import Group, GroupTag, Organisation
from peerhub.realtime.models import Room
from peerhub.realtime.queries import CRISIS_STAGE
from peerhub.schedule import meeting_words, next_meeting

# Whether a moderator or organiser is in a room now, by room id.
Presence = Callable[[str], bool]


def nobody_present(room: str) -> bool:
    return False


@dataclass(frozen=True, slots=True)
class Door:
    group_id: str
    # A moderator opened the room (``Room.is_open``); whether members can write now is
    # ``open_now``, which also asks for a moderator in a moderator-only room.
    is_open: bool
    moderator_only: bool
    moderator_present: bool
    # Pages link to a room only once PeerHub has checked the group's organisation
    # (unchecked organisations run no rooms: docs/groups.md).
    organisation_verified: bool
    # The next meeting (or the one on now), in plain words, and when it starts.
    next_meeting: str | None
    next_start: datetime | None

    @property
    def open_now(self) -> bool:
        """Members can write in the room now."""
        return not self.moderator_only or (self.is_open and self.moderator_present)

    @property
    def label(self) -> str:
        """Two or three words for a tag: "Open now", "Read only now", "Closed now"."""
        if self.open_now:
            return _("Open now")
        return _("Read only now") if self.is_open else _("Closed now")

    @property
    def words(self) -> str:
        """What the person can do in the room now, in a sentence or two."""
        if not self.moderator_only:
            if self.is_open:
                return _("A session is on now. You can also write in the room at any time.")
            return _("You can read and write in the room at any time.")
        if self.open_now:
            return _("A session is on now, with a moderator.")
        if self.is_open:
            return _(
                "A session is on, but no moderator is in the room yet. You can read, "
                "and write once a moderator joins."
            )
        return _(
            "You can read what was said. You can write during sessions, while a moderator is there."
        )

    @property
    def for_moderators(self) -> str:
        """The same, as a moderator needs it: what members can do now."""
        if not self.moderator_only:
            return _("Members can write in this room at any time.")
        if self.open_now:
            return _("A moderator is in the room: members can write.")
        if self.is_open:
            return _("No moderator is in the room, so members can only read until one joins.")
        return _("Members can write only during a session, while a moderator is there.")


def _next(group: Group, now: datetime) -> tuple[str | None, datetime | None]:
    found = next_meeting(group, now)
    if found is None:
        return None, None
    return meeting_words(found.start, found.end, now), found.start


async def doors(
    db: AsyncSession,
    group_ids: Collection[str],
    now: datetime,
    moderator_present: Presence = nobody_present,
) -> dict[str, Door]:
    """The door of each group's room, by group id (unknown ids are left out)."""
    if not group_ids:
        return {}
    rows = (
        await db.execute(
            select(
                Group,
                Organisation.verified_at,
                Room.is_open,
                Room.moderator_only,
                # A room's row is made on first use (writer.ensure_room); until then it
                # would open as ensure_room will make it: moderator-only for groups
                # that welcome people approaching crisis.
                select(GroupTag.group_id)
                .where(
                    GroupTag.group_id == Group.id,
                    GroupTag.kind == "stage",
                    GroupTag.value == CRISIS_STAGE,
                )
                .exists(),
            )
            .join(Organisation, Organisation.id == Group.organisation_id)
            .outerjoin(Room, Room.id == Group.id)
            .where(Group.id.in_(sorted(group_ids)))
        )
    ).all()
    out: dict[str, Door] = {}
    for group, verified_at, is_open, moderator_only, crisis_stage in rows:
        words, start = _next(group, now)
        out[group.id] = Door(
            group_id=group.id,
            is_open=bool(is_open),
            moderator_only=bool(crisis_stage if moderator_only is None else moderator_only),
            moderator_present=moderator_present(group.id),
            organisation_verified=verified_at is not None,
            next_meeting=words,
            next_start=start,
        )
    return out
