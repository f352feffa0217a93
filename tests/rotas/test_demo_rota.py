"""The demo shows rotas: rostered sessions in every group with moderators, and a gap."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from peerhub.demo import group_id, load_demo
from peerhub.demo_data import ROTA_GAPS
from peerhub.models import Group
from peerhub.rotas import queries
from peerhub.rotas.models import RotaEntry
from peerhub.security.passwords import Passwords

NOW = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)


async def test_the_demo_has_rostered_sessions_and_a_gap(
    sessions: async_sessionmaker[AsyncSession], passwords: Passwords
) -> None:
    await load_demo(sessions, passwords, NOW)
    async with sessions() as db:
        entries = await db.scalar(select(func.count()).select_from(RotaEntry))
        (gap_slug,) = ROTA_GAPS
        gap_group = await db.get(Group, group_id(gap_slug))
        assert gap_group is not None
        rota = await queries.group_rota(db, gap_group, NOW, 4)
        crisis = await db.get(Group, group_id("roshni-leeds-talking-space"))
        assert crisis is not None
        covered = await queries.group_rota(db, crisis, NOW, 1)
    assert entries and entries > 40
    assert not rota[0].covered and rota[1].covered
    assert covered[0].covered
    # Loading again adds nothing.
    await load_demo(sessions, passwords, NOW)
    async with sessions() as db:
        assert await db.scalar(select(func.count()).select_from(RotaEntry)) == entries
