"""Nobody is given a role, a place or an obligation by someone else alone: moderators
and organisers are invited and say yes (peerhub/groups/invitations.py). Over HTTP and
against the actions, on both databases."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from peerhub.errors import FieldError, NotFound
from peerhub.groups import invitations
from peerhub.groups.models import ModeratorInvitation
from peerhub.models import AuditEvent, Consent, GroupMember, OrganisationOrganiser, User
from peerhub.moderation.models import Sanction
from tests.conftest import FakeClock, enrol_me, sign_up
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


async def _checked_group(client: httpx.AsyncClient, **overrides: Any) -> tuple[str, str]:
    await sign_up(client, "Olu")
    org_id = await register_org(client)
    await verify_org(client, org_id)
    return org_id, await create_group(client, org_id, **overrides)


async def _consents(app: Any, user_id: str) -> list[tuple[str, str | None, bool]]:
    async with app.state.ctx.sessions() as db:
        rows = await db.scalars(
            select(Consent).where(Consent.user_id == user_id).order_by(Consent.id)
        )
        return [(c.kind, c.subject_id, c.granted) for c in rows]


async def _invite(client: httpx.AsyncClient, group_id: str, name: str) -> httpx.Response:
    return await post(
        client, f"/organise/groups/{group_id}/moderators", {"pseudonym": name, "action": "invite"}
    )


async def _answer(who: httpx.AsyncClient, kind: str, place_id: str, answer: str) -> httpx.Response:
    return await post(
        who, "/account/invitations", {"kind": kind, "place_id": place_id, "answer": answer}
    )


async def test_an_invitation_changes_nothing_until_the_person_says_yes(
    client: httpx.AsyncClient, app: Any
) -> None:
    """The review's forced set-up: being named gave a role that sent the person to
    set up two-step sign-in (and closed their sockets). An invitation does neither."""
    _, group_id = await _checked_group(client)
    async with person(app, "Quiet Member") as quiet:
        assert (await _invite(client, group_id, "Quiet Member")).status_code == 303
        quiet_id = (await user_row(app.state.ctx.sessions, "Quiet Member")).id
        async with app.state.ctx.sessions() as db:
            assert await db.get(GroupMember, (group_id, quiet_id)) is None
        for page in ("/account/groups", "/account", "/account/crisis-plan", "/groups"):
            assert (await quiet.get(page)).status_code == 200, page
        mine = await quiet.get("/account/groups")
        assert "Invitations for you" in mine.text and "Moderate Tuesday Talk" in mine.text
        assert "Olu, an organiser of Calder Peer Network" in mine.text
        assert "Two-step sign-in" in mine.text and "ground rules" in mine.text
        organiser_page = await client.get(f"/organise/groups/{group_id}")
        assert "Invited, waiting for their answer" in organiser_page.text
        # Saying yes: the role, the place, consent on record, then two-step set-up.
        said = await _answer(quiet, "moderator", group_id, "accept")
        assert said.status_code == 303
        assert said.headers["location"].startswith("/account/2fa?next=")
        async with app.state.ctx.sessions() as db:
            place = await db.get(GroupMember, (group_id, quiet_id))
            assert place is not None and (place.role, place.status) == ("moderator", "active")
            assert not list(await db.scalars(select(ModeratorInvitation)))
            (appointed,) = await db.scalars(
                select(AuditEvent).where(AuditEvent.action == "group.moderator_appointed")
            )
        assert appointed.actor_id == quiet_id  # their own act
        consents = await _consents(app, quiet_id)
        assert ("group.join", group_id, True) in consents
        assert ("share.group", group_id, False) in consents  # sharing nothing yet
        assert ("group.moderator", group_id, True) in consents
        assert (await quiet.get("/account/groups")).headers["location"].startswith("/account/2fa")
        await enrol_me(quiet)
        assert "Invitations for you" not in (await quiet.get("/account/groups")).text


async def test_saying_no_changes_nothing_and_is_not_asked_again_at_once(
    client: httpx.AsyncClient, app: Any, clock: FakeClock
) -> None:
    _, group_id = await _checked_group(client)
    async with person(app, "Sky") as sky:
        assert (await post(sky, f"/groups/{SLUG}/join", {})).status_code == 303
        await _invite(client, group_id, "Sky")
        no = await _answer(sky, "moderator", group_id, "decline")
        assert no.status_code == 303 and "done=invitation_declined" in no.headers["location"]
        sky_id = (await user_row(app.state.ctx.sessions, "Sky")).id
        async with app.state.ctx.sessions() as db:
            place = await db.get(GroupMember, (group_id, sky_id))
        assert place is not None and place.role == "member"
        again = await _invite(client, group_id, "Sky")
        assert again.status_code == 422 and "said no to this recently" in again.text
        # A second answer to the same invitation finds nothing.
        assert (await _answer(sky, "moderator", group_id, "accept")).status_code == 404
    # A month later, the organiser may ask again.
    clock.advance(days=31)
    async with app.state.ctx.sessions() as db, db.begin():
        olu = await db.scalar(select(User).where(User.pseudonym == "Olu"))
        assert olu is not None
        await invitations.invite_moderator(db, olu, group_id, "Sky", clock())


async def test_only_the_person_invited_can_answer_and_only_while_it_waits(
    client: httpx.AsyncClient, app: Any, clock: FakeClock
) -> None:
    _, group_id = await _checked_group(client)
    async with person(app, "Sky") as sky, person(app, "Other") as other_person:
        await _invite(client, group_id, "Sky")
        assert (await _answer(other_person, "moderator", group_id, "accept")).status_code == 404
        assert (await _answer(sky, "organiser", group_id, "accept")).status_code == 404
        assert (await _answer(sky, "moderator", "no-such-group", "accept")).status_code == 404
        for bad in ({"kind": "king", "place_id": group_id, "answer": "accept"}, {}):
            assert (await post(sky, "/account/invitations", bad)).status_code == 422
        # A month on (signing in again, as sessions end after two idle hours), it has
        # run out: it is no longer shown, and saying yes finds nothing.
        clock.advance(days=31)
        await post(sky, "/login", {"pseudonym": "Sky", "password": "a long test password"})
        assert "Invitations for you" not in (await sky.get("/account/groups")).text
        assert (await _answer(sky, "moderator", group_id, "accept")).status_code == 404


async def test_invitations_are_refused_where_they_would_reach_someone_they_should_not(
    client: httpx.AsyncClient, app: Any, sessions: Any
) -> None:
    """Not from an organisation PeerHub has not checked (its name is anyone's text), not
    to someone banned from the group, not more than ten waiting at once."""
    await sign_up(client, "Olu")
    org_id = await register_org(client)
    group_id = await create_group(client, org_id)
    async with person(app, "Sky") as sky:
        early = await _invite(client, group_id, "Sky")
        assert early.status_code == 422 and "once PeerHub has checked" in early.text
        await verify_org(client, org_id)
        sky_id = (await user_row(sessions, "Sky")).id
        async with sessions() as db, db.begin():
            db.add(Sanction(group_id=group_id, user_id=sky_id, kind="ban", reason="x"))
        banned = await _invite(client, group_id, "Sky")
        assert banned.status_code == 422 and "banned" in banned.text
        assert "Invitations for you" not in (await sky.get("/account/groups")).text
    async with sessions() as db, db.begin():
        for i in range(invitations.WAITING_PER_PLACE + 1):
            db.add(User(pseudonym=f"Person {i}", pseudonym_key=f"person {i}", password_hash="!"))
    for i in range(invitations.WAITING_PER_PLACE):
        assert (await _invite(client, group_id, f"Person {i}")).status_code == 303
    full = await _invite(client, group_id, f"Person {invitations.WAITING_PER_PLACE}")
    assert full.status_code == 422 and "waiting for an answer already" in full.text
    # Withdrawing one makes room.
    first = (await user_row(sessions, "Person 0")).id
    withdrawn = await post(
        client,
        f"/organise/groups/{group_id}/moderators",
        {"action": "withdraw", "user_id": first},
    )
    assert withdrawn.status_code == 303
    last = f"Person {invitations.WAITING_PER_PLACE}"
    assert (await _invite(client, group_id, last)).status_code == 303


async def test_saying_yes_is_refused_if_the_organisation_is_no_longer_checked(
    client: httpx.AsyncClient, app: Any, sessions: Any
) -> None:
    org_id, group_id = await _checked_group(client)
    async with person(app, "Sky") as sky:
        await _invite(client, group_id, "Sky")
        from peerhub.models import Organisation

        async with sessions() as db, db.begin():
            org = await db.get(Organisation, org_id)
            assert org is not None
            org.verified_at = None
        refused = await _answer(sky, "moderator", group_id, "accept")
        assert refused.status_code == 409 and "invitation is kept" in refused.text
        await verify_org(client, org_id)
        assert (await _answer(sky, "moderator", group_id, "accept")).status_code == 303


async def test_an_organiser_invitation_gives_the_role_only_on_a_yes(
    client: httpx.AsyncClient, app: Any, sessions: Any
) -> None:
    org_id, _ = await _checked_group(client)
    async with person(app, "Priya") as priya:
        r = await post(
            client, f"/organise/organisations/{org_id}/organisers", {"pseudonym": "Priya"}
        )
        assert r.status_code == 303
        priya_id = (await user_row(sessions, "Priya")).id
        async with sessions() as db:
            assert await db.get(OrganisationOrganiser, (org_id, priya_id)) is None
        # Not an organiser, so not sent to set up two-step sign-in.
        assert (await priya.get("/account")).status_code == 200
        assert "Organise Calder Peer Network" in (await priya.get("/account")).text
        yes = await _answer(priya, "organiser", org_id, "accept")
        assert yes.status_code == 303 and yes.headers["location"].startswith("/account/2fa")
        async with sessions() as db:
            assert await db.get(OrganisationOrganiser, (org_id, priya_id)) is not None
        assert ("organisation.organiser", org_id, True) in await _consents(app, priya_id)


async def test_invitation_actions_check_rank_and_state(sessions: Any, clock: FakeClock) -> None:
    """The actions themselves, without the pages: outsiders learn nothing (NotFound)."""
    from tests.groups.test_actions import NOW, _world

    people, org_id, group_id = await _world(sessions)
    async with sessions() as db, db.begin():
        with pytest.raises(NotFound):
            await invitations.invite_moderator(db, people["Out"], group_id, "Sam", NOW)
        with pytest.raises(NotFound):
            await invitations.invite_organiser(db, people["Mo"], org_id, "Sam", NOW)
        with pytest.raises(NotFound):
            await invitations.withdraw(db, people["Oth"], "organiser", org_id, "x", NOW)
        with pytest.raises(FieldError, match="not waiting"):
            await invitations.withdraw(db, people["Olu"], "moderator", group_id, "x", NOW)
        await invitations.invite_moderator(db, people["Olu"], group_id, "Sam", NOW)
    async with sessions() as db:
        waiting = await invitations.waiting_for(db, people["Sam"].id, NOW + timedelta(days=1))
        assert [(w.kind, w.place_name, w.invited_by) for w in waiting] == [
            ("moderator", "Tuesday Talk", "Olu")
        ]
        assert await invitations.waiting_for(db, people["Sam"].id, NOW + timedelta(days=31)) == []
    async with sessions() as db, db.begin():
        with pytest.raises(NotFound):
            await invitations.answer(db, people["Sam"], "nonsense", group_id, NOW, accept=True)


async def test_a_moderator_removed_stays_the_member_they_chose_to_be(
    client: httpx.AsyncClient, app: Any
) -> None:
    _, group_id = await _checked_group(client)
    async with person(app, "Moss") as moss:
        await make_moderator(client, moss, group_id, "Moss")
        r = await post(
            client,
            f"/organise/groups/{group_id}/moderators",
            {"pseudonym": "Moss", "action": "remove"},
        )
        assert r.status_code == 303
        moss_id = (await user_row(app.state.ctx.sessions, "Moss")).id
        async with app.state.ctx.sessions() as db:
            place = await db.get(GroupMember, (group_id, moss_id))
            assert place is not None and place.role == "member"
            assert await invitations.has_joined(db, moss_id, group_id)
