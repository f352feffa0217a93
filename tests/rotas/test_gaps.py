"""Gaps: a session entering its group's window with nobody rostered is told once, by
the gap check, whatever the clock, a restart or a second run does (hazard H26)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from peerhub.app import create_app
from peerhub.models import AuditEvent, Group, GroupMember, Organisation, User
from peerhub.outbox.models import OutboxEntry
from peerhub.rotas import gaps
from peerhub.rotas.models import ROSTERED, RotaEntry, RotaGap, RotaSettings
from tests.conftest import FakeClock, make_settings

Sessions = async_sessionmaker[AsyncSession]
MONDAY = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)  # the fake clock's start
NEXT = "2026-11-03T18:00:00"  # 33 hours after MONDAY
LATER = "2026-11-10T18:00:00"  # a week after NEXT


async def make_group(sessions: Sessions, name: str = "Tuesday Talk") -> tuple[str, str]:
    """A checked organisation's weekly group with one moderator: (group id, user id)."""
    slug = name.lower().replace(" ", "-")
    async with sessions() as db, db.begin():
        org = Organisation(slug=f"org-{slug}", name=f"Org {name}", verified_at=MONDAY)
        mod = User(pseudonym=f"Mod {name}", pseudonym_key=f"mod {slug}", password_hash="!")
        db.add_all([org, mod])
        await db.flush()
        group = Group(
            organisation_id=org.id,
            slug=slug,
            name=name,
            format="online",
            dtstart_local="2026-10-20T18:00:00",
            rrule="FREQ=WEEKLY;BYDAY=TU",
            time_zone="Europe/London",
        )
        db.add(group)
        await db.flush()
        db.add(GroupMember(group_id=group.id, user_id=mod.id, role="moderator"))
        return group.id, mod.id


async def roster(sessions: Sessions, group_id: str, user_id: str, key: str) -> None:
    starts = datetime.strptime(key, "%Y-%m-%dT%H:%M:%S").replace(tzinfo=UTC)  # GMT in Nov
    async with sessions() as db, db.begin():
        db.add(
            RotaEntry(
                group_id=group_id,
                session_key=key,
                starts_at=starts,
                user_id=user_id,
                status=ROSTERED,
            )
        )


async def check(sessions: Sessions, now: datetime) -> int:
    async with sessions() as db, db.begin():
        return await gaps.run_check(db, now)


async def told(sessions: Sessions) -> list[tuple[str, str]]:
    async with sessions() as db:
        rows = await db.scalars(
            select(AuditEvent.detail).where(AuditEvent.action == "rota.gap_told")
        )
        return [(d["session"], d["starts_at"]) for d in rows]


async def test_a_gap_is_told_once_when_it_enters_the_window(sessions: Sessions) -> None:
    clock = FakeClock(MONDAY - timedelta(days=2))  # Saturday: NEXT is 81 hours away
    await make_group(sessions)
    assert await check(sessions, clock()) == 0
    clock.advance(hours=34)  # 47 hours before NEXT: inside the 48-hour window
    assert await check(sessions, clock()) == 1
    assert [key for key, _at in await told(sessions)] == [NEXT]
    # Again, later, and as if a second process ran the same check: told once.
    assert await check(sessions, clock()) == 0
    clock.advance(hours=20)
    assert await check(sessions, clock()) == 0
    assert len(await told(sessions)) == 1


async def test_a_covered_session_is_no_gap(sessions: Sessions) -> None:
    group_id, mod = await make_group(sessions)
    await roster(sessions, group_id, mod, NEXT)
    assert await check(sessions, MONDAY) == 0
    # A week on, the next session (LATER) has nobody: told then.
    assert await check(sessions, MONDAY + timedelta(days=7)) == 1
    assert [key for key, _at in await told(sessions)] == [LATER]


async def test_the_window_is_the_groups_own(sessions: Sessions) -> None:
    group_id, _mod = await make_group(sessions)
    async with sessions() as db, db.begin():
        db.add(RotaSettings(group_id=group_id, gap_hours=12))
    assert await check(sessions, MONDAY) == 0  # 33 hours away: outside 12
    assert await check(sessions, MONDAY + timedelta(hours=22)) == 1  # 11 hours away
    async with sessions() as db, db.begin():
        await db.execute(update(RotaSettings).values(gap_hours=336))
    # Two weeks ahead now: the following session (10 November) is a gap too; the one
    # on 17 November, at 18:00, is still just outside.
    assert await check(sessions, MONDAY + timedelta(hours=22)) == 1
    assert [key for key, _at in await told(sessions)] == [NEXT, LATER]


async def test_a_disabled_or_unchecked_groups_sessions_are_not_checked(
    sessions: Sessions,
) -> None:
    group_id, _mod = await make_group(sessions)
    async with sessions() as db, db.begin():
        group = await db.get(Group, group_id)
        assert group is not None
        group.status = "paused"
    assert await check(sessions, MONDAY) == 0


async def test_the_check_schedules_its_next_run_once(sessions: Sessions) -> None:
    async with sessions() as db, db.begin():
        assert await gaps.ensure_scheduled(db)
    async with sessions() as db, db.begin():
        assert not await gaps.ensure_scheduled(db)  # one is waiting already
    await check(sessions, MONDAY)
    await check(sessions, MONDAY)  # a second run at the same time adds no second chain
    async with sessions() as db:
        pending = (
            await db.execute(
                select(OutboxEntry.run_at).where(
                    OutboxEntry.kind == gaps.CHECK.name, OutboxEntry.run_at.is_not(None)
                )
            )
        ).all()
    assert [row[0] for row in pending] == [MONDAY + gaps.EVERY]


async def test_old_gaps_are_forgotten(sessions: Sessions) -> None:
    await make_group(sessions)
    assert await check(sessions, MONDAY) == 1
    assert await check(sessions, MONDAY + timedelta(days=42)) == 1  # 15 December
    async with sessions() as db:
        keys = set(await db.scalars(select(RotaGap.session_key)))
        count = await db.scalar(select(func.count()).select_from(RotaGap))
    assert NEXT not in keys and count == len(keys)


async def test_a_served_process_runs_the_check_through_the_outbox(
    sessions: Sessions, db_url: str, tmp_path: Path
) -> None:
    await make_group(sessions)
    settings = make_settings(db_url, tmp_path, extra={"rota_gap_check": True})
    application = create_app(settings, clock=FakeClock())
    async with application.router.lifespan_context(application):
        await asyncio.wait_for(application.state.outbox.idle(), 10)
    assert [key for key, _at in await told(sessions)] == [NEXT]
    async with sessions() as db:
        waiting = list(
            await db.scalars(
                select(OutboxEntry.run_at).where(
                    OutboxEntry.kind == gaps.CHECK.name, OutboxEntry.done_at.is_(None)
                )
            )
        )
    assert waiting == [MONDAY + gaps.EVERY]
