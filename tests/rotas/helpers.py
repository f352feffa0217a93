"""A group with an organiser, two moderators and a member, over HTTP, for rota tests.

The fake clock is Monday 2 November 2026 09:00 UTC; the group (Tuesday Talk) meets
on Tuesdays at 18:00 Europe/London (GMT then), for 90 minutes: its next session,
``NEXT``, is 33 hours away (inside the default 48-hour gap window), and ``LATER``,
a week after, is outside it.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx

from tests.conftest import sign_up
from tests.groups.helpers import (
    create_group,
    make_moderator,
    person,
    post,
    register_org,
    user_row,
    verify_org,
)

SLUG = "tuesday-talk"
NEXT = "2026-11-03T18:00:00"
LATER = "2026-11-10T18:00:00"


@dataclass
class World:
    app: Any
    group_id: str
    organiser: httpx.AsyncClient
    moss: httpx.AsyncClient  # a moderator
    pat: httpx.AsyncClient  # another moderator
    mia: httpx.AsyncClient  # a member
    ids: dict[str, str]

    @property
    def rota(self) -> str:
        return f"/organise/groups/{self.group_id}/rota"

    async def act(self, who: httpx.AsyncClient, **data: str) -> httpx.Response:
        return await post(who, self.rota, data)


@contextlib.asynccontextmanager
async def world(app: Any, client: httpx.AsyncClient) -> AsyncIterator[World]:
    await sign_up(client, "Olu")
    org_id = await register_org(client)
    await verify_org(client, org_id)
    group_id = await create_group(client, org_id)
    async with person(app, "Moss") as moss, person(app, "Pat") as pat, person(app, "Mia") as mia:
        await make_moderator(client, moss, group_id, "Moss")
        await make_moderator(client, pat, group_id, "Pat")
        joined = await post(mia, f"/groups/{SLUG}/join", {})
        assert joined.status_code == 303, joined.text
        ids = {
            name: (await user_row(app.state.ctx.sessions, name)).id
            for name in ("Olu", "Moss", "Pat", "Mia")
        }
        yield World(app, group_id, client, moss, pat, mia, ids)
