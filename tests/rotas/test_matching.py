"""Matching's honest words (hazard H26): "with a moderator on duty" only when someone
is rostered for the group's next session, within 48 hours; "a moderator is here now"
only when one is in the room now."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import httpx
from sqlalchemy import delete
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from peerhub.models import GroupMember
from peerhub.realtime.protocol import Person
from peerhub.rotas.models import OFFERED, ROSTERED, RotaEntry
from tests.finding.conftest import add_group, add_user

Sessions = async_sessionmaker[AsyncSession]
# The fake clock is Monday 2 November 2026 09:00 UTC; the groups meet on Tuesdays at
# 18:00 Europe/London (GMT in November).
NEXT = "2026-11-03T18:00:00"
LATER = "2026-11-10T18:00:00"
ON_DUTY = "Meets in the next 48 hours, with a moderator on duty"
HERE = "A moderator is here now"
CRISIS = {"stage": "approaching_crisis"}


async def put(sessions: Sessions, group_id: str, user_id: str, key: str, status: str) -> None:
    start = datetime.strptime(key, "%Y-%m-%dT%H:%M:%S").replace(tzinfo=UTC)
    async with sessions() as db, db.begin():
        db.add(
            RotaEntry(
                group_id=group_id, session_key=key, starts_at=start, user_id=user_id, status=status
            )
        )


async def results(app: Any, client: httpx.AsyncClient) -> dict[str, dict[str, Any]]:
    app.state.match_index.invalidate()  # the rota rows were written behind its back
    response = await client.post("/api/match", json=CRISIS)
    assert response.status_code == 200, response.text
    return {r["name"]: r for r in response.json()["results"]}


async def test_on_duty_only_with_someone_rostered_for_the_next_session(
    app: Any, client: httpx.AsyncClient, sessions: Sessions
) -> None:
    mod = await add_user(sessions, "mod")
    kw = {"stages": ("approaching_crisis",), "moderators": (mod.id,)}
    rostered = await add_group(sessions, "Rostered", **kw)
    offered = await add_group(sessions, "Only Offered", **kw)
    later = await add_group(sessions, "Rostered Later", **kw)
    await add_group(sessions, "Moderated Only", **kw)
    await put(sessions, rostered.id, mod.id, NEXT, ROSTERED)
    await put(sessions, offered.id, mod.id, NEXT, OFFERED)
    await put(sessions, later.id, mod.id, LATER, ROSTERED)

    found = await results(app, client)
    assert ON_DUTY in found["Rostered"]["reasons"] and found["Rostered"]["crisis_priority"]
    assert next(iter(found)) == "Rostered"  # ranked first
    for name in ("Only Offered", "Rostered Later", "Moderated Only"):
        assert not any("on duty" in line for line in found[name]["reasons"]), name
        assert not found[name]["crisis_priority"], name
    assert not any(HERE in r["reasons"] for r in found.values())

    # The rostered moderator stops moderating: nobody is on duty any more.
    async with sessions() as db, db.begin():
        await db.execute(delete(GroupMember).where(GroupMember.group_id == rostered.id))
    found = await results(app, client)
    assert not any("on duty" in line for line in found["Rostered"]["reasons"])


async def test_a_moderator_is_here_now_only_when_one_is_in_the_room(
    app: Any, client: httpx.AsyncClient, sessions: Sessions
) -> None:
    mod = await add_user(sessions, "mod")
    kw = {"stages": ("approaching_crisis",), "moderators": (mod.id,)}
    here = await add_group(sessions, "Someone Here", **kw)
    await add_group(sessions, "Nobody Here", **kw)
    presence = app.state.realtime.presence
    presence.add(here.id, Person(mod.id, "mod", "member"))  # a member: not a moderator
    found = await results(app, client)
    assert not any(HERE in r["reasons"] for r in found.values())
    presence.add(here.id, Person(mod.id, "mod", "moderator"))
    found = await results(app, client)
    assert HERE in found["Someone Here"]["reasons"]
    assert HERE not in found["Nobody Here"]["reasons"]
    page = await client.get("/find", params={"search": "1", "stage": "approaching_crisis"})
    assert page.text.count(HERE) == 1
