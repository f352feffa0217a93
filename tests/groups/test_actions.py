"""Group actions against the database (SQLite and PostgreSQL): writes and permissions."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from peerhub.errors import FieldError, Forbidden, NotFound
from peerhub.groups import actions, answers, invitations, queries
from peerhub.groups.validation import OrganisationInput, parse_group
from peerhub.models import (
    AuditEvent,
    Group,
    GroupMember,
    GroupTag,
    OrganisationOrganiser,
    User,
    WaitlistEntry,
)
from peerhub.models import JoinAnswer as JoinAnswerRow
from tests.groups.helpers import group_form

NOW = datetime(2026, 10, 19, 9, 0, tzinfo=UTC)
Maker = async_sessionmaker[AsyncSession]


def _input(**overrides: object):  # type: ignore[no-untyped-def]
    data = group_form(**overrides)  # type: ignore[arg-type]
    values = {k: v for k, v in data.items() if isinstance(v, str)}
    lists = {k: v for k, v in data.items() if isinstance(v, list)}
    lists["languages"] = [values.pop("languages")]
    lists["interpretation"] = [values.pop("interpretation")]
    return parse_group(values, lists)


ORG = OrganisationInput("Calder Peer Network", "Peer groups.", None, None, None, True)


async def _people(sessions: Maker, *names: str, admin: str | None = None) -> dict[str, User]:
    users = {
        n: User(pseudonym=n, pseudonym_key=n.lower(), password_hash="x", is_admin=n == admin)
        for n in names
    }
    async with sessions() as db, db.begin():
        db.add_all(users.values())
    return users


async def _world(sessions: Maker) -> tuple[dict[str, User], str, str]:
    """An organisation run by Olu with one open group; Mo moderates it, Mia is a member.
    Oth runs another organisation; Ann is an admin; Out has no place anywhere."""
    people = await _people(sessions, "Olu", "Mo", "Mia", "Oth", "Ann", "Out", "Sam", admin="Ann")
    async with sessions() as db, db.begin():
        org = await actions.register_organisation(db, people["Olu"], NOW, ORG)
        assert org.verified_at is None
        other = await actions.register_organisation(db, people["Oth"], NOW, ORG)
        assert other.slug == "calder-peer-network-2"
        group = await actions.create_group(db, people["Olu"], org.id, _input(), NOW)
        # Checked by PeerHub, so people can join its groups.
        await actions.verify_organisation(db, people["Ann"], org.id, NOW, verified=True)
        # Mo is invited to moderate it, and says yes.
        await invitations.invite_moderator(db, people["Olu"], group.id, "mo", NOW)
        await invitations.answer(db, people["Mo"], "moderator", group.id, NOW, accept=True)
        await actions.join_group(db, people["Mia"], group.slug, NOW)
    return people, org.id, group.id


async def test_registering_makes_the_person_an_organiser(sessions: Maker) -> None:
    people, org_id, group_id = await _world(sessions)
    async with sessions() as db:
        org = await actions.organisation_for_organiser(db, people["Olu"], org_id)
        assert org.lived_experience_led and org.verified_at == NOW
        for outsider in ("Oth", "Ann", "Mo"):
            with pytest.raises(NotFound):
                await actions.organisation_for_organiser(db, people[outsider], org_id)
        with pytest.raises(NotFound):
            await actions.organisation_for_organiser(db, people["Olu"], "no-such-id")
        group = await actions.load_group(db, group_id)
        assert group.tag_values("language") == ["en", "bfi"]
        assert group.tag_values("interpretation") == ["pl"]
        assert group.tag_values("access") == ["captions", "camera_optional"]
        assert group.exdates == []


async def test_updating_and_adding_organisers(sessions: Maker) -> None:
    people, org_id, _ = await _world(sessions)
    changed = OrganisationInput("Calder Peers", "", "https://calder.example", None, None, False)
    async with sessions() as db, db.begin():
        org = await actions.update_organisation(db, people["Olu"], org_id, NOW, changed)
        assert org.slug == "calder-peer-network"  # addresses stay stable
        with pytest.raises(NotFound):
            await actions.update_organisation(db, people["Oth"], org_id, NOW, changed)
        added = await invitations.invite_organiser(db, people["Olu"], org_id, "SAM", NOW)
        assert added.pseudonym == "Sam"
        with pytest.raises(FieldError, match="invited Sam already"):
            await invitations.invite_organiser(db, people["Olu"], org_id, "Sam", NOW)
        with pytest.raises(FieldError) as caught:
            await invitations.invite_organiser(db, people["Olu"], org_id, "Nobody Here", NOW)
        assert caught.value.field == "pseudonym"
        with pytest.raises(NotFound):
            await invitations.invite_organiser(db, people["Oth"], org_id, "Out", NOW)
    async with sessions() as db:
        # Invited is not yet an organiser: only saying yes makes one.
        assert not await actions.is_organiser(db, people["Sam"], org_id)
    async with sessions() as db, db.begin():
        await invitations.answer(db, people["Sam"], "organiser", org_id, NOW, accept=True)
        with pytest.raises(FieldError, match="already an organiser"):
            await invitations.invite_organiser(db, people["Olu"], org_id, "Sam", NOW)
    async with sessions() as db:
        assert await actions.is_organiser(db, people["Sam"], org_id)
        names = [u.pseudonym for u in await queries.organisers_of(db, org_id)]
        assert names == ["Olu", "Sam"]


async def test_only_admins_verify_organisations(sessions: Maker) -> None:
    people, org_id, _ = await _world(sessions)
    async with sessions() as db, db.begin():
        await actions.verify_organisation(db, people["Ann"], org_id, NOW, verified=False)
    async with sessions() as db, db.begin():
        with pytest.raises(Forbidden):
            await actions.verify_organisation(db, people["Olu"], org_id, NOW, verified=True)
        with pytest.raises(NotFound):
            await actions.verify_organisation(db, people["Ann"], "nope", NOW, verified=True)
        org = await actions.verify_organisation(db, people["Ann"], org_id, NOW, verified=True)
        assert org.verified_at == NOW
    async with sessions() as db, db.begin():
        assert org_id not in [o.id for o in await queries.unverified_organisations(db)]
        assert org_id in [o.id for o in await queries.verified_organisations(db)]
        org = await actions.verify_organisation(db, people["Ann"], org_id, NOW, verified=False)
        assert org.verified_at is None
        assert org_id in [o.id for o in await queries.unverified_organisations(db)]


async def test_group_permissions_follow_rank(sessions: Maker) -> None:
    people, org_id, group_id = await _world(sessions)
    data = _input(name="Tuesday Talk (new name)", capacity="12")
    async with sessions() as db, db.begin():
        for outsider in ("Oth", "Ann", "Out"):
            with pytest.raises(NotFound):
                await actions.update_group(db, people[outsider], group_id, data, NOW)
            with pytest.raises(NotFound):
                await actions.create_group(db, people[outsider], org_id, data, NOW)
        for insider in ("Mo", "Mia"):
            with pytest.raises(Forbidden):
                await actions.update_group(db, people[insider], group_id, data, NOW)
        with pytest.raises(Forbidden):
            await invitations.invite_moderator(db, people["Mo"], group_id, "Mia", NOW)
        with pytest.raises(NotFound):
            await actions.update_group(db, people["Olu"], "no-such-group", data, NOW)
        group = await actions.update_group(db, people["Olu"], group_id, data, NOW)
        assert group.name == "Tuesday Talk (new name)" and group.slug == "tuesday-talk"
        assert group.capacity == 12
    async with sessions() as db:
        tags = await db.scalar(
            select(func.count()).select_from(GroupTag).where(GroupTag.group_id == group_id)
        )
        assert tags == 2 + 1 + 1 + 2 + 2 + 2  # no duplicates left behind by the edit


async def test_switching_to_online_forgets_the_venue(sessions: Maker) -> None:
    people, _, group_id = await _world(sessions)
    async with sessions() as db, db.begin():
        venue = _input(format="hybrid", address="Hall, 1 Park Lane", postcode="LS1 4AP")
        group = await actions.update_group(db, people["Olu"], group_id, venue, NOW)
        assert group.postcode == "LS1 4AP" and group.latitude is not None
        group = await actions.update_group(db, people["Olu"], group_id, _input(), NOW)
        assert (group.address, group.postcode, group.latitude) == (None, None, None)


async def test_moderators_are_invited_and_removed_by_organisers(sessions: Maker) -> None:
    people, _, group_id = await _world(sessions)
    async with sessions() as db, db.begin():
        with pytest.raises(FieldError, match="already a moderator"):
            await invitations.invite_moderator(db, people["Olu"], group_id, "Mo", NOW)
        with pytest.raises(FieldError, match="organiser"):
            await invitations.invite_moderator(db, people["Olu"], group_id, "Olu", NOW)
        with pytest.raises(FieldError, match="not a moderator"):
            await actions.remove_moderator(db, people["Olu"], group_id, "Mia", NOW)
        await invitations.invite_moderator(db, people["Olu"], group_id, "Mia", NOW)
    async with sessions() as db:
        # Invited, not appointed: nothing changes until Mia says yes.
        roster = await queries.roster(db, group_id)
        assert [p.pseudonym for p in roster.moderators] == ["Mo"]
    async with sessions() as db, db.begin():
        await invitations.answer(db, people["Mia"], "moderator", group_id, NOW, accept=True)
        await actions.remove_moderator(db, people["Olu"], group_id, "Mo", NOW)
    async with sessions() as db:
        roster = await queries.roster(db, group_id)
        assert [p.pseudonym for p in roster.moderators] == ["Mia"]
        assert [p.pseudonym for p in roster.members] == ["Mo"]


async def test_cancelling_and_restoring_a_meeting(sessions: Maker) -> None:
    people, _, group_id = await _world(sessions)
    async with sessions() as db, db.begin():
        group = await actions.set_meeting_cancelled(
            db, people["Mo"], group_id, "2026-10-27T18:00:00", NOW, cancelled=True
        )
        assert group.exdates == ["2026-10-27T18:00:00"]
        await actions.set_meeting_cancelled(
            db, people["Olu"], group_id, "2026-10-20T18:00:00", NOW, cancelled=True
        )
        for bad in ("2026-10-28T18:00:00", "not a date", "2026-10-27T18:30:00"):
            with pytest.raises(FieldError) as caught:
                await actions.set_meeting_cancelled(
                    db, people["Olu"], group_id, bad, NOW, cancelled=True
                )
            assert caught.value.field == "session"
        with pytest.raises(FieldError, match="already happened"):
            await actions.set_meeting_cancelled(
                db,
                people["Olu"],
                group_id,
                "2026-10-27T18:00:00",
                datetime(2026, 10, 27, 19, 30, tzinfo=UTC),  # it has just ended
                cancelled=True,
            )
        with pytest.raises(Forbidden):
            await actions.set_meeting_cancelled(
                db, people["Mia"], group_id, "2026-11-03T18:00:00", NOW, cancelled=True
            )
        with pytest.raises(NotFound):
            await actions.set_meeting_cancelled(
                db, people["Oth"], group_id, "2026-11-03T18:00:00", NOW, cancelled=True
            )
        group = await actions.set_meeting_cancelled(
            db, people["Mo"], group_id, "2026-10-27T18:00:00", NOW, cancelled=False
        )
    async with sessions() as db:
        stored = await db.get(Group, group_id)
        assert stored is not None and stored.exdates == ["2026-10-20T18:00:00"]


async def test_a_new_timetable_drops_cancellations_it_no_longer_has(sessions: Maker) -> None:
    people, _, group_id = await _world(sessions)
    async with sessions() as db, db.begin():
        for key in ("2026-10-27T18:00:00", "2026-11-03T18:00:00"):
            await actions.set_meeting_cancelled(
                db, people["Olu"], group_id, key, NOW, cancelled=True
            )
        fortnightly = _input(repeat="fortnightly")  # 20 Oct, 3 Nov, 17 Nov ...
        group = await actions.update_group(db, people["Olu"], group_id, fortnightly, NOW)
        assert group.exdates == ["2026-11-03T18:00:00"]


async def _member(sessions: Maker, group_id: str, user: User) -> GroupMember | None:
    async with sessions() as db:
        return await db.get(GroupMember, (group_id, user.id))


async def test_joining_an_open_group_and_leaving_it(sessions: Maker) -> None:
    people, _, group_id = await _world(sessions)
    async with sessions() as db, db.begin():
        result = await actions.join_group(db, people["Sam"], "tuesday-talk", NOW)
        assert result.outcome == "joined"
        again = await actions.join_group(db, people["Sam"], "tuesday-talk", NOW)
        assert again.outcome == "already_member"
        assert (await actions.join_group(db, people["Olu"], "tuesday-talk", NOW)).outcome == (
            "organiser"
        )
        assert (await actions.join_group(db, people["Mo"], "tuesday-talk", NOW)).outcome == (
            "already_member"
        )
        with pytest.raises(NotFound):
            await actions.join_group(db, people["Sam"], "no-such-group", NOW)
    member = await _member(sessions, group_id, people["Sam"])
    assert member is not None and (member.status, member.role) == ("active", "member")
    async with sessions() as db, db.begin():
        assert await actions.leave_group(db, people["Sam"], "tuesday-talk", NOW) is True
        assert await actions.leave_group(db, people["Sam"], "tuesday-talk", NOW) is False
        with pytest.raises(NotFound):
            await actions.leave_group(db, people["Sam"], "no-such-group", NOW)
    assert await _member(sessions, group_id, people["Sam"]) is None


async def test_paused_and_closed_groups_take_no_one(sessions: Maker) -> None:
    people, _, group_id = await _world(sessions)
    for status in ("paused", "closed"):
        async with sessions() as db, db.begin():
            await actions.update_group(db, people["Olu"], group_id, _input(status=status), NOW)
            result = await actions.join_group(db, people["Sam"], "tuesday-talk", NOW)
            assert result.outcome == "not_open"
    assert await _member(sessions, group_id, people["Sam"]) is None


async def test_a_full_group_puts_people_on_its_waiting_list(sessions: Maker) -> None:
    people, _, group_id = await _world(sessions)
    async with sessions() as db, db.begin():
        # One place, taken by Mia; the moderator does not use up a place.
        await actions.update_group(db, people["Olu"], group_id, _input(capacity="1"), NOW)
        result = await actions.join_group(db, people["Sam"], "tuesday-talk", NOW)
        assert result.outcome == "waiting_list"
        again = await actions.join_group(db, people["Sam"], "tuesday-talk", NOW)
        assert again.outcome == "already_waiting"
    async with sessions() as db:
        assert await db.get(WaitlistEntry, (group_id, people["Sam"].id)) is not None
        assert [p.pseudonym for p in (await queries.roster(db, group_id)).waiting] == ["Sam"]
        mine = await queries.my_groups(db, people["Sam"].id)
        assert [(g.slug, g.status) for g in mine] == [("tuesday-talk", "waiting")]
    async with sessions() as db, db.begin():
        assert await actions.leave_group(db, people["Sam"], "tuesday-talk", NOW)
    async with sessions() as db:
        assert await db.get(WaitlistEntry, (group_id, people["Sam"].id)) is None


async def test_requests_are_accepted_or_declined_with_a_message(sessions: Maker) -> None:
    people, _, group_id = await _world(sessions)
    later = NOW + timedelta(hours=2)
    async with sessions() as db, db.begin():
        await actions.update_group(db, people["Olu"], group_id, _input(join_policy="request"), NOW)
        assert (await actions.join_group(db, people["Sam"], "tuesday-talk", NOW)).outcome == (
            "requested"
        )
        assert (await actions.join_group(db, people["Sam"], "tuesday-talk", NOW)).outcome == (
            "already_asked"
        )
        minute_later = NOW + timedelta(minutes=1)
        assert (
            await actions.join_group(db, people["Out"], "tuesday-talk", minute_later)
        ).outcome == "requested"
    async with sessions() as db:
        # Asking gives no rank: a pending request is not a member.
        assert [p.pseudonym for p in (await queries.roster(db, group_id)).requests] == [
            "Sam",
            "Out",
        ]
    async with sessions() as db, db.begin():
        with pytest.raises(Forbidden):
            await actions.decide_join_request(
                db, people["Mia"], group_id, people["Sam"].id, later, accept=True, message=""
            )
        with pytest.raises(NotFound):
            await actions.decide_join_request(
                db, people["Oth"], group_id, people["Sam"].id, later, accept=True, message=""
            )
        with pytest.raises(NotFound):  # Mia did not ask: there is nothing to answer
            await actions.decide_join_request(
                db, people["Mo"], group_id, people["Mia"].id, later, accept=True, message=""
            )
        with pytest.raises(FieldError) as caught:
            await actions.decide_join_request(
                db, people["Mo"], group_id, people["Out"].id, later, accept=False, message="  "
            )
        assert caught.value.field == f"message-{people['Out'].id}"
        with pytest.raises(FieldError, match="1,000"):
            await actions.decide_join_request(
                db,
                people["Mo"],
                group_id,
                people["Out"].id,
                later,
                accept=False,
                message="x" * 1001,
            )
        yes = await actions.decide_join_request(
            db, people["Mo"], group_id, people["Sam"].id, later, accept=True, message="Welcome!"
        )
        assert (yes.person.pseudonym, yes.answer.accepted, yes.answer.message) == (
            "Sam",
            True,
            "Welcome!",
        )
        no = await actions.decide_join_request(
            db,
            people["Olu"],
            group_id,
            people["Out"].id,
            later,
            accept=False,
            message="This group is for carers.\r\nTry the Monday group.",
        )
        assert no.answer.message == "This group is for carers.\nTry the Monday group."
    sam = await _member(sessions, group_id, people["Sam"])
    assert sam is not None and sam.status == "active" and sam.joined_at == later
    assert await _member(sessions, group_id, people["Out"]) is None
    async with sessions() as db:
        sam_groups = await queries.my_groups(db, people["Sam"].id)
        assert [(g.status, g.answer.message if g.answer else None) for g in sam_groups] == [
            ("member", "Welcome!")
        ]
        out_groups = await queries.my_groups(db, people["Out"].id)
        assert [(g.status, g.role) for g in out_groups] == [("declined", "none")]
        assert out_groups[0].answer is not None
        assert out_groups[0].answer.message.startswith("This group is for carers.")
        # The message lives in join_answers; the audit trail records only the decision.
        events = (
            await db.scalars(select(AuditEvent).where(AuditEvent.action == answers.ANSWER_ACTION))
        ).all()
        assert len(events) == 2
        assert all("message" not in (e.detail or {}) for e in events)
        stored = (await db.scalars(select(JoinAnswerRow))).all()
        assert sorted(a.message[:8] for a in stored) == ["This gro", "Welcome!"]
    async with sessions() as db, db.begin():
        # Asking again hides the old answer until the new one comes.
        assert (await actions.join_group(db, people["Out"], "tuesday-talk", later)).outcome == (
            "requested"
        )
    async with sessions() as db:
        again = await queries.my_groups(db, people["Out"].id)
        assert [(g.status, g.answer) for g in again] == [("requested", None)]


async def test_accepting_into_a_full_group_is_refused(sessions: Maker) -> None:
    people, _, group_id = await _world(sessions)
    async with sessions() as db, db.begin():
        await actions.update_group(
            db, people["Olu"], group_id, _input(join_policy="request", capacity="2"), NOW
        )
        await actions.join_group(db, people["Sam"], "tuesday-talk", NOW)
        await actions.join_group(db, people["Out"], "tuesday-talk", NOW)
        await actions.decide_join_request(
            db, people["Mo"], group_id, people["Sam"].id, NOW, accept=True, message=""
        )
        with pytest.raises(FieldError, match="full"):
            await actions.decide_join_request(
                db, people["Mo"], group_id, people["Out"].id, NOW, accept=True, message=""
            )


async def test_my_groups_lists_every_kind_of_place(sessions: Maker) -> None:
    people, org_id, _ = await _world(sessions)
    async with sessions() as db, db.begin():
        second = await actions.create_group(
            db, people["Olu"], org_id, _input(name="Again Group", join_policy="request"), NOW
        )
        await actions.join_group(db, people["Mo"], second.slug, NOW)
    async with sessions() as db:
        olu = await queries.my_groups(db, people["Olu"].id)
        assert [(g.name, g.status, g.can_leave) for g in olu] == [
            ("Again Group", "organiser", False),
            ("Tuesday Talk", "organiser", False),
        ]
        mo = await queries.my_groups(db, people["Mo"].id)
        assert [(g.name, g.role, g.status) for g in mo] == [
            ("Tuesday Talk", "moderator", "member"),
            ("Again Group", "member", "requested"),
        ]
        assert [g.name for g in await queries.moderated_groups(db, people["Mo"].id)] == [
            "Tuesday Talk"
        ]
        assert await queries.my_groups(db, people["Out"].id) == []
        orgs = await queries.my_organisations(db, people["Olu"].id)
        assert [sorted(g.name for g in o.groups) for o in orgs] == [["Again Group", "Tuesday Talk"]]
        count = await db.scalar(
            select(func.count())
            .select_from(OrganisationOrganiser)
            .where(OrganisationOrganiser.organisation_id == org_id)
        )
        assert count == 1


async def test_a_declined_request_withdraws_what_the_person_chose_to_share_on_record(
    sessions: Maker,
) -> None:
    """Like leaving: the request (and the choices made when asking) ends, with the
    withdrawals and the end of the agreement to the group's terms on record."""
    from peerhub.models import Consent

    people, _, group_id = await _world(sessions)
    async with sessions() as db, db.begin():
        await actions.update_group(db, people["Olu"], group_id, _input(join_policy="request"), NOW)
        share = {("organisers", "contact")}
        await actions.join_group(db, people["Sam"], "tuesday-talk", NOW, share=share)
    async with sessions() as db, db.begin():
        await actions.decide_join_request(
            db, people["Mo"], group_id, people["Sam"].id, NOW, accept=False, message="Sorry."
        )
    async with sessions() as db:
        rows = (
            await db.execute(
                select(Consent.kind, Consent.granted)
                .where(Consent.user_id == people["Sam"].id, Consent.subject_id == group_id)
                .order_by(Consent.id)
            )
        ).all()
    assert [tuple(r) for r in rows] == [
        ("group.join", True),
        ("share.group", True),
        ("share.organisers.contact", True),
        ("share.organisers.contact", False),
        ("group.join", False),
    ]
