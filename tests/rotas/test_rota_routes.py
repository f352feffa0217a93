"""The rota over HTTP: offers, confirmations, assignments, swaps, stepping back, the
settings, and who may do each (issue 14, part 1; docs/rotas.md; hazard H26)."""

from __future__ import annotations

from typing import Any

import httpx
from sqlalchemy import select

from peerhub.models import AuditEvent
from peerhub.rotas import queries
from peerhub.rotas.models import RotaEntry, RotaGap
from tests.groups.helpers import anonymous, person, post
from tests.rotas.helpers import LATER, NEXT, World, world


async def covering(w: World, key: str) -> list[str]:
    async with w.app.state.ctx.sessions() as db:
        return await queries.covering(db, w.group_id, key)


async def audit_actions(w: World) -> list[str]:
    async with w.app.state.ctx.sessions() as db:
        return list(
            await db.scalars(
                select(AuditEvent.action)
                .where(AuditEvent.action.like("rota.%"))
                .order_by(AuditEvent.id)
            )
        )


async def test_an_offer_waits_for_an_organiser_then_the_moderator_is_rostered(
    app: Any, client: httpx.AsyncClient
) -> None:
    async with world(app, client) as w:
        r = await w.act(w.moss, action="offer", session=NEXT)
        assert r.status_code == 303 and "done=offered" in r.headers["location"]
        assert await covering(w, NEXT) == []  # an offer is not cover
        page = await w.organiser.get(w.rota)
        assert "Offered to cover, waiting for an organiser" in page.text
        assert "Gap: nobody rostered" in page.text  # the next session is 33 hours away

        again = await w.act(w.moss, action="offer", session=NEXT)
        assert again.status_code == 422

        r = await w.act(w.organiser, action="confirm", session=NEXT, user_id=w.ids["Moss"])
        assert r.status_code == 303 and "done=confirmed" in r.headers["location"]
        assert await covering(w, NEXT) == [w.ids["Moss"]]
        page = await w.organiser.get(w.rota)
        assert page.text.count("Gap: nobody rostered") == 0
        assert await audit_actions(w) == ["rota.offered", "rota.confirmed"]


async def test_offers_stand_when_the_group_says_so(app: Any, client: httpx.AsyncClient) -> None:
    async with world(app, client) as w:
        r = await w.act(w.organiser, action="settings", gap_hours="24", offers_stand="1")
        assert r.status_code == 303
        r = await w.act(w.moss, action="offer", session=LATER)
        assert "done=rostered" in r.headers["location"]
        assert await covering(w, LATER) == [w.ids["Moss"]]
        for bad in ("0", "337", "two", "1.5", ""):
            r = await w.act(w.organiser, action="settings", gap_hours=bad)
            assert r.status_code == 422, bad
            assert 'id="gap_hours-error"' in r.text


async def test_organisers_assign_swap_and_remove(app: Any, client: httpx.AsyncClient) -> None:
    async with world(app, client) as w:
        r = await w.act(w.organiser, action="assign", session=NEXT, user_id=w.ids["Moss"])
        assert r.status_code == 303 and "done=assigned" in r.headers["location"]
        assert await covering(w, NEXT) == [w.ids["Moss"]]
        twice = await w.act(w.organiser, action="assign", session=NEXT, user_id=w.ids["Moss"])
        assert twice.status_code == 422

        r = await w.act(
            w.organiser,
            action="swap",
            session=NEXT,
            user_id=w.ids["Moss"],
            to_user_id=w.ids["Pat"],
        )
        assert r.status_code == 303 and "done=swapped" in r.headers["location"]
        assert await covering(w, NEXT) == [w.ids["Pat"]]
        # An organiser may be rostered too.
        r = await w.act(w.organiser, action="assign", session=NEXT, user_id=w.ids["Olu"])
        assert r.status_code == 303
        assert sorted(await covering(w, NEXT)) == sorted([w.ids["Pat"], w.ids["Olu"]])

        r = await w.act(w.organiser, action="remove", session=NEXT, user_id=w.ids["Pat"])
        assert r.status_code == 303 and "done=removed" in r.headers["location"]
        assert await covering(w, NEXT) == [w.ids["Olu"]]
        assert "rota.swapped" in await audit_actions(w)


async def test_nobody_but_moderators_and_organisers_can_be_rostered(
    app: Any, client: httpx.AsyncClient
) -> None:
    async with world(app, client) as w:
        member = await w.act(w.organiser, action="assign", session=NEXT, user_id=w.ids["Mia"])
        assert member.status_code == 422
        nobody = await w.act(w.organiser, action="assign", session=NEXT, user_id="no-such-id")
        assert nobody.status_code == 422
        swap_to_member = await w.act(
            w.organiser, action="swap", session=NEXT, user_id=w.ids["Moss"], to_user_id="x"
        )
        assert swap_to_member.status_code == 422
        for key in ("2026-11-04T18:00:00", "2026-10-27T18:00:00", "soon", ""):
            r = await w.act(w.moss, action="offer", session=key)
            assert r.status_code == 422, key
        odd = await w.act(w.moss, action="dance", session=NEXT)
        assert odd.status_code == 422


async def test_members_and_outsiders_are_refused(app: Any, client: httpx.AsyncClient) -> None:
    async with world(app, client) as w:
        assert (await w.mia.get(w.rota)).status_code == 403
        assert (await w.act(w.mia, action="offer", session=NEXT)).status_code == 403
        # Moderators may offer, but not confirm, assign, swap, remove or set the settings.
        await w.act(w.pat, action="offer", session=NEXT)
        for data in (
            {"action": "confirm", "user_id": w.ids["Pat"]},
            {"action": "assign", "user_id": w.ids["Moss"]},
            {"action": "remove", "user_id": w.ids["Pat"]},
            {"action": "swap", "user_id": w.ids["Pat"], "to_user_id": w.ids["Moss"]},
            {"action": "settings", "gap_hours": "12"},
        ):
            r = await w.act(w.moss, session=NEXT, **data)
            assert r.status_code == 403, data
        async with person(app, "Stranger") as stranger:
            assert (await stranger.get(w.rota)).status_code == 404
            assert (await w.act(stranger, action="offer", session=NEXT)).status_code == 404
        async with anonymous(app) as anon:
            r = await anon.get(w.rota)
            assert r.status_code in (303, 401)
        assert await covering(w, NEXT) == []


async def test_stepping_back_close_to_the_session_makes_a_gap_told_at_once(
    app: Any, client: httpx.AsyncClient
) -> None:
    async with world(app, client) as w:
        for key in (NEXT, LATER):
            await w.act(w.organiser, action="assign", session=key, user_id=w.ids["Moss"])
        # A week ahead: outside the 48-hour window, no gap is told yet.
        r = await w.act(w.moss, action="step_back", session=LATER)
        assert "done=stepped_back" in r.headers["location"]
        # 33 hours ahead: the session has nobody now, and that is told at once.
        r = await w.act(w.moss, action="step_back", session=NEXT)
        assert "done=gap" in r.headers["location"]
        page = await w.moss.get(r.headers["location"])
        assert "organisers and moderators have been told" in page.text
        async with app.state.ctx.sessions() as db:
            gaps = list(await db.scalars(select(RotaGap.session_key)))
            told = list(
                await db.scalars(
                    select(AuditEvent.detail).where(AuditEvent.action == "rota.gap_told")
                )
            )
        assert gaps == [NEXT]
        assert sorted(told[0]["told"]) == sorted([w.ids["Olu"], w.ids["Moss"], w.ids["Pat"]])
        assert [a for a in await audit_actions(w) if a == "rota.stepped_back"] == [
            "rota.stepped_back"
        ] * 2
        # Not on the rota any more: stepping back again is a 422, not a crash.
        again = await w.act(w.moss, action="step_back", session=NEXT)
        assert again.status_code == 422
        # Someone rostered again clears the gap: a later gap there is told again.
        await w.act(w.organiser, action="assign", session=NEXT, user_id=w.ids["Pat"])
        async with app.state.ctx.sessions() as db:
            assert list(await db.scalars(select(RotaGap))) == []


async def test_a_moderator_who_is_no_longer_one_does_not_count_as_cover(
    app: Any, client: httpx.AsyncClient
) -> None:
    async with world(app, client) as w:
        await w.act(w.organiser, action="assign", session=NEXT, user_id=w.ids["Moss"])
        assert await covering(w, NEXT) == [w.ids["Moss"]]
        r = await post(
            w.organiser,
            f"/organise/groups/{w.group_id}/moderators",
            {"pseudonym": "Moss", "action": "remove"},
        )
        assert r.status_code == 303, r.text
        assert await covering(w, NEXT) == []
        async with app.state.ctx.sessions() as db:
            # The row stays (with who put it there); it just no longer counts.
            assert (await db.scalar(select(RotaEntry.assigned_by))) == w.ids["Olu"]


async def test_an_organisers_own_offer_stands_at_once(app: Any, client: httpx.AsyncClient) -> None:
    async with world(app, client) as w:
        r = await post(
            w.organiser,
            "/account/rota",
            {"action": "offer", "group_id": w.group_id, "session": NEXT},
        )
        assert r.status_code == 303 and "done=rostered" in r.headers["location"]
        assert await covering(w, NEXT) == [w.ids["Olu"]]
