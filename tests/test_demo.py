"""The demo data set keeps its promises, loads once, and a second load changes nothing."""

from __future__ import annotations

import re
from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from dateutil.rrule import rrulestr
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from peerhub import taxonomy
from peerhub.accounts import actions, twofactor
from peerhub.accounts.models_2fa import TwoFactor
from peerhub.db import transaction
from peerhub.demo import (
    DEMO_PASSWORD,
    DEMO_TOTP_SECRET,
    Tally,
    group_id,
    group_tags,
    load_demo,
    organisation_id,
)
from peerhub.demo_data import (
    DEMO_ACCOUNTS,
    GROUPS,
    ORGANISATIONS,
    ROLE_ACCOUNTS,
    DemoGroup,
    problems,
)
from peerhub.models import (
    Base,
    Group,
    GroupMember,
    GroupTag,
    Organisation,
    OrganisationOrganiser,
    TagKind,
    User,
)
from peerhub.security import totp
from peerhub.security.passwords import Passwords

NOW = datetime(2026, 8, 20, 9, 0, tzinfo=UTC)
LONDON = ZoneInfo("Europe/London")
POSTCODE = re.compile(r"^[A-Z]{1,2}[0-9][A-Z0-9]? [0-9][A-Z]{2}$")
SLUG = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
# Meetings are stored as local wall-clock times (RFC 5545 with a separate time zone),
# so these bounds are naive on purpose.
AUTUMN_START = datetime(2026, 9, 1)  # noqa: DTZ001
AUTUMN_END = datetime(2026, 12, 1)  # noqa: DTZ001


def _all(attr: str) -> set[str]:
    return {value for g in GROUPS for value in getattr(g, attr)}


def _in_person(g: DemoGroup) -> bool:
    return g.format in ("in_person", "hybrid")


def _is_fortnightly(rule: str) -> bool:
    parts = dict(p.split("=") for p in rule.split(";"))
    return parts["FREQ"] == "WEEKLY" and parts.get("INTERVAL") == "2"


def _is_weekly(rule: str) -> bool:
    parts = dict(p.split("=") for p in rule.split(";"))
    return parts["FREQ"] == "WEEKLY" and parts.get("INTERVAL", "1") == "1"


# --- The data itself ----------------------------------------------------------------


def test_the_data_set_checks_itself_clean() -> None:
    assert problems() == []


def test_organisations_are_fictional_and_mostly_lived_experience_led() -> None:
    assert 8 <= len(ORGANISATIONS) <= 12
    led = sum(o.lived_experience_led for o in ORGANISATIONS)
    assert led > len(ORGANISATIONS) / 2
    for org in ORGANISATIONS:
        assert org.website.startswith("https://")
        assert org.website.endswith(".example.org")
        assert org.email.endswith(".example.org")
        assert SLUG.fullmatch(org.slug)
        assert len(org.description) > 80
        assert org.organisers


def test_at_least_44_groups_with_unique_url_safe_slugs_and_stable_ids() -> None:
    assert len(GROUPS) >= 44
    slugs = [g.slug for g in GROUPS]
    assert len(set(slugs)) == len(slugs)
    assert all(SLUG.fullmatch(s) and len(s) <= 100 for s in slugs)
    ids = {group_id(s) for s in slugs}
    assert len(ids) == len(slugs)
    assert group_id(slugs[0]) == group_id(slugs[0])  # deterministic
    assert organisation_id("x") != group_id("x")


def test_languages_include_the_eight_named_and_at_least_ten_in_all() -> None:
    languages = _all("languages")
    assert len(languages) >= 10
    assert {"en", "bfi", "cy", "ur", "pl", "so", "ar", "yue"} <= languages
    assert languages & {"pa", "pa-Guru"}
    assert languages & {"bn", "ro", "ti"}
    assert languages | _all("interpretation") <= taxonomy.LANGUAGE_NAMES.keys()
    multilingual = [g for g in GROUPS if len(g.languages) > 1]
    assert len(multilingual) >= 10
    interpreted = [g for g in GROUPS if g.interpretation]
    assert len(interpreted) >= 2
    assert "bfi" in _all("interpretation")


def test_every_code_is_in_the_taxonomy() -> None:
    assert _all("communities") <= taxonomy.COMMUNITY_CODES
    assert _all("stages") <= taxonomy.STAGE_CODES
    assert _all("topics") <= taxonomy.TOPIC_CODES
    assert _all("access") <= taxonomy.ACCESS_CODES


def test_communities_cover_at_least_eight_including_the_named_ones() -> None:
    communities = _all("communities")
    assert len(communities) >= 8
    assert {
        "black_african_caribbean",
        "south_asian",
        "lgbtq",
        "deaf",
        "gypsy_roma_traveller",
        "eastern_european",
        "young_adults",
    } <= communities
    assert any(c.startswith("faith_") for c in communities)


def test_all_three_stages_and_several_groups_welcome_people_approaching_crisis() -> None:
    assert _all("stages") == taxonomy.STAGE_CODES
    crisis = [g for g in GROUPS if "approaching_crisis" in g.stages]
    assert len(crisis) >= 5
    for group in crisis:
        # Welcoming people near crisis means saying where to go in an emergency.
        assert "999" in group.ground_rules, group.slug
        assert "Need help now?" in group.ground_rules, group.slug


def test_online_groups_have_no_place_and_the_others_have_uk_postcodes() -> None:
    online = [g for g in GROUPS if g.format == "online"]
    in_person = [g for g in GROUPS if g.format == "in_person"]
    hybrid = [g for g in GROUPS if g.format == "hybrid"]
    assert len(online) >= 8
    assert len(in_person) >= 20
    assert len(hybrid) >= 3
    assert all(g.place is None for g in online)
    districts = set()
    for group in [*in_person, *hybrid]:
        place = group.place
        assert place is not None, group.slug
        assert POSTCODE.fullmatch(place.postcode), place.postcode
        assert 49.8 <= place.latitude <= 60.9, group.slug
        assert -8.7 <= place.longitude <= 1.8, group.slug
        assert round(place.latitude, 4) == place.latitude
        assert round(place.longitude, 4) == place.longitude
        assert place.address and place.town
        districts.add(place.postcode.split()[0])
    wanted = {"LS1", "BD1", "B1", "B10", "M1", "CF10", "SA1", "E1", "N1", "SE1", "NW1"}
    wanted |= {"BS1", "LE1", "G1", "NE1", "S1", "LU1", "UB1"}
    assert wanted <= districts
    assert len({g.place.town for g in [*in_person, *hybrid] if g.place}) >= 15


def test_meetings_are_valid_rfc5545_in_autumn_2026() -> None:
    weekly = fortnightly = monthly = 0
    for group in GROUPS:
        assert group.time_zone == "Europe/London"
        assert ZoneInfo(group.time_zone) == LONDON
        start = datetime.fromisoformat(group.dtstart_local)
        assert start.tzinfo is None  # local wall-clock time in time_zone
        assert AUTUMN_START <= start < AUTUMN_END, group.slug
        rule = rrulestr(group.rrule, dtstart=start)
        # The first meeting is an occurrence of the rule, and there are more to come.
        assert rule[0] == start, group.slug
        assert rule.after(AUTUMN_END) is not None
        for cancelled in group.exdates:
            stamp = datetime.fromisoformat(cancelled)
            assert rule.after(stamp, inc=True) == stamp, group.slug
        assert 30 <= group.duration_minutes <= 180
        if _is_weekly(group.rrule):
            weekly += 1
        elif _is_fortnightly(group.rrule):
            fortnightly += 1
            assert rule[1] - rule[0] == timedelta(days=14)
        elif group.rrule.startswith("FREQ=MONTHLY"):
            monthly += 1
    assert weekly >= 10
    assert fortnightly >= 10
    assert monthly >= 2


def test_capacities_age_ranges_and_join_policies() -> None:
    with_capacity = [g for g in GROUPS if g.capacity is not None]
    assert len(with_capacity) == len(GROUPS)
    full = [g for g in with_capacity if len(g.members) == g.capacity]
    nearly = [g for g in with_capacity if g.capacity and len(g.members) == g.capacity - 1]
    assert len(full) >= 2
    assert len(nearly) >= 2
    for group in GROUPS:
        if "young_adults" in group.communities:
            assert (group.age_min, group.age_max) == (18, 25), group.slug
    assert sum(g.age_min is not None for g in GROUPS) >= 6
    assert {g.join_policy for g in GROUPS} == {"open", "request"}
    statuses = Counter(g.status for g in GROUPS)
    assert statuses["paused"] == 1
    assert statuses["active"] == len(GROUPS) - 1


def test_every_group_has_a_moderator_and_moderators_are_spread() -> None:
    assert all(g.moderators for g in GROUPS)
    per_moderator = Counter(m for g in GROUPS for m in g.moderators)
    assert len(per_moderator) >= 8
    assert per_moderator["demo-moderator"] >= 3
    assert sum("demo-member" in g.members for g in GROUPS) >= 2
    assert sum("demo-organiser" in o.organisers for o in ORGANISATIONS) >= 2


def test_demo_accounts_one_per_role() -> None:
    by_name = {a.pseudonym: a for a in DEMO_ACCOUNTS}
    assert set(ROLE_ACCOUNTS) == {"admin", "professional", "organiser", "moderator", "member"}
    for role, pseudonym in ROLE_ACCOUNTS.items():
        assert by_name[pseudonym].role == role
    assert by_name["demo-admin"].is_admin
    assert [a.pseudonym for a in DEMO_ACCOUNTS if a.is_admin] == ["demo-admin"]
    gp = by_name["demo-gp"]
    assert (gp.professional_role, gp.professional_organisation) == (
        "GP",
        "Fictional Street Surgery",
    )
    assert DEMO_PASSWORD == "peerhub-demo-2026"


def test_descriptions_use_plain_respectful_language() -> None:
    # Words that stigmatise, or that talk about suicide as a crime.
    unkind = re.compile(
        r"\b(suffer\w*|commit\w* suicide|mentally ill|lunatic|crazy|psycho|schizo\w*|"
        r"nutter|insane|victim\w*|sufferer\w*|service users?)\b",
        re.IGNORECASE,
    )
    texts = [g.description for g in GROUPS] + [o.description for o in ORGANISATIONS]
    texts += [g.ground_rules for g in GROUPS]
    for text in texts:
        assert not unkind.search(text), text
    assert all(len(g.description) >= 80 for g in GROUPS)


# --- Loading ------------------------------------------------------------------------


async def _count(db: AsyncSession, model: type[Base]) -> int:
    return int(await db.scalar(select(func.count()).select_from(model)) or 0)


async def _snapshot(sessions: async_sessionmaker[AsyncSession]) -> dict[str, list[str]]:
    """Every row of every table, in a comparable form."""
    out: dict[str, list[str]] = {}
    async with sessions() as db:
        for table in Base.metadata.sorted_tables:
            rows = (await db.execute(select(table))).all()
            out[table.name] = sorted(repr(tuple(row)) for row in rows)
    return out


def _expected_memberships() -> int:
    return sum(len(g.moderators) + len(g.members) + len(g.requests) for g in GROUPS)


async def test_load_writes_the_whole_data_set(
    sessions: async_sessionmaker[AsyncSession], passwords: Passwords
) -> None:
    summary = await load_demo(sessions, passwords, NOW)

    assert summary.skipped == ()
    assert summary.accounts.created == len(DEMO_ACCOUNTS)
    assert summary.organisations.created == len(ORGANISATIONS)
    assert summary.organisers.created == sum(len(o.organisers) for o in ORGANISATIONS)
    assert summary.groups.created == len(GROUPS)
    assert summary.tags.created == sum(len(group_tags(g)) for g in GROUPS)
    assert summary.memberships.created == _expected_memberships()
    assert all(t.present == 0 for t in summary.tallies().values())
    assert "Demo data loaded." in str(summary)

    async with sessions() as db:
        assert await _count(db, User) == len(DEMO_ACCOUNTS)
        assert await _count(db, Organisation) == len(ORGANISATIONS)
        assert await _count(db, Group) == len(GROUPS)
        assert await _count(db, GroupTag) == summary.tags.created
        assert await _count(db, GroupMember) == summary.memberships.created

        ids = set(await db.scalars(select(Group.id)))
        assert ids == {group_id(g.slug) for g in GROUPS}
        org_ids = set(await db.scalars(select(Organisation.id)))
        assert org_ids == {organisation_id(o.slug) for o in ORGANISATIONS}

        # Every group has an active moderator.
        moderated = set(
            await db.scalars(
                select(GroupMember.group_id).where(
                    GroupMember.role == "moderator", GroupMember.status == "active"
                )
            )
        )
        assert moderated == ids

        # Some groups are full once the demo members are in.
        taken_rows = await db.execute(
            select(GroupMember.group_id, func.count())
            .where(GroupMember.role == "member", GroupMember.status == "active")
            .group_by(GroupMember.group_id)
        )
        taken = {gid: n for gid, n in taken_rows}
        capacities = {gid: cap for gid, cap in await db.execute(select(Group.id, Group.capacity))}
        full = [gid for gid, cap in capacities.items() if cap is not None and taken.get(gid) == cap]
        assert len(full) >= 2

        # A sample group is written as the data says.
        sample = next(g for g in GROUPS if g.exdates and g.place)
        row = await db.get(Group, group_id(sample.slug))
        assert row is not None and sample.place is not None
        assert (row.postcode, row.latitude, row.longitude) == (
            sample.place.postcode,
            sample.place.latitude,
            sample.place.longitude,
        )
        assert (row.dtstart_local, row.rrule, row.time_zone) == (
            sample.dtstart_local,
            sample.rrule,
            "Europe/London",
        )
        assert row.exdates == list(sample.exdates)
        languages = (
            await db.scalars(
                select(GroupTag.value)
                .where(GroupTag.group_id == row.id, GroupTag.kind == TagKind.LANGUAGE.value)
                .order_by(GroupTag.position)
            )
        ).all()
        assert tuple(languages) == sample.languages
        interpreted = set(
            await db.scalars(
                select(GroupTag.group_id).where(
                    GroupTag.kind == TagKind.INTERPRETATION.value, GroupTag.value == "bfi"
                )
            )
        )
        assert len(interpreted) >= 2


async def _user(db: AsyncSession, pseudonym: str) -> User:
    user = await db.scalar(select(User).where(User.pseudonym_key == pseudonym))
    assert user is not None, pseudonym
    return user


async def test_each_role_account_has_its_role(
    sessions: async_sessionmaker[AsyncSession], passwords: Passwords
) -> None:
    await load_demo(sessions, passwords, NOW)
    async with sessions() as db:
        admin = await _user(db, "demo-admin")
        assert admin.is_admin

        gp = await _user(db, "demo-gp")
        assert gp.is_professional and not gp.is_admin
        assert gp.professional_status == "verified"
        assert (gp.professional_role, gp.professional_organisation) == (
            "GP",
            "Fictional Street Surgery",
        )

        organiser = await _user(db, "demo-organiser")
        organises = await db.scalar(
            select(func.count()).where(OrganisationOrganiser.user_id == organiser.id)
        )
        assert organises is not None and organises >= 2

        async def roles(user: User) -> Counter[tuple[str, str]]:
            rows = await db.execute(
                select(GroupMember.role, GroupMember.status).where(GroupMember.user_id == user.id)
            )
            return Counter((role, status) for role, status in rows)

        moderator = await _user(db, "demo-moderator")
        assert (await roles(moderator))[("moderator", "active")] >= 3
        member = await _user(db, "demo-member")
        member_roles = await roles(member)
        assert member_roles[("member", "active")] >= 2
        assert member_roles[("moderator", "active")] == 0

        for user in (gp, organiser, moderator, member):
            assert not user.is_admin


async def test_loading_twice_adds_and_changes_nothing(
    sessions: async_sessionmaker[AsyncSession], passwords: Passwords
) -> None:
    first = await load_demo(sessions, passwords, NOW)
    before = await _snapshot(sessions)

    second = await load_demo(sessions, passwords, NOW + timedelta(days=3))
    after = await _snapshot(sessions)

    assert {t: len(rows) for t, rows in after.items()} == {
        t: len(rows) for t, rows in before.items()
    }
    assert after == before  # not even a timestamp moved
    assert second.created == 0
    assert second.skipped == ()
    for name, tally in second.tallies().items():
        assert tally.present == first.tallies()[name].created, name
    assert "already loaded" in str(second)


async def test_a_rerun_puts_back_only_what_is_missing(
    sessions: async_sessionmaker[AsyncSession], passwords: Passwords
) -> None:
    await load_demo(sessions, passwords, NOW)
    sample = GROUPS[0]
    async with transaction(sessions) as db:
        member = await db.scalar(
            select(GroupMember).where(
                GroupMember.group_id == group_id(sample.slug), GroupMember.role == "member"
            )
        )
        tag = await db.scalar(select(GroupTag).where(GroupTag.group_id == group_id(sample.slug)))
        assert member is not None and tag is not None
        await db.delete(member)
        await db.delete(tag)
        # An organiser's edit to a demo group is kept: the loader never overwrites.
        group = await db.get(Group, group_id(sample.slug))
        assert group is not None
        group.name = "Renamed by its organiser"

    again = await load_demo(sessions, passwords, NOW)

    assert again.memberships.created == 1
    assert again.tags.created == 1
    assert again.created == 2
    async with sessions() as db:
        group = await db.get(Group, group_id(sample.slug))
        assert group is not None and group.name == "Renamed by its organiser"


async def test_an_unchanged_rerun_checks_no_password(
    sessions: async_sessionmaker[AsyncSession],
    passwords: Passwords,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """argon2 is slow on purpose; a re-run with nothing to add must not pay for it."""
    await load_demo(sessions, passwords, NOW)
    checked: list[str | None] = []
    real_verify = passwords.verify

    async def counting_verify(stored: str | None, password: str) -> bool:
        checked.append(stored)
        return await real_verify(stored, password)

    monkeypatch.setattr(passwords, "verify", counting_verify)
    second = await load_demo(sessions, passwords, NOW)
    assert second.created == 0
    assert checked == []


async def test_demo_passwords_log_in(
    sessions: async_sessionmaker[AsyncSession], passwords: Passwords
) -> None:
    await load_demo(sessions, passwords, NOW)
    for account in DEMO_ACCOUNTS:
        result = await actions.authenticate(
            sessions,
            passwords,
            NOW,
            pseudonym=account.pseudonym,
            password=DEMO_PASSWORD,
            client_ip="192.0.2.10",
            secret_key="test-secret",
        )
        assert result.user is not None, account.pseudonym
        assert result.user.pseudonym == account.pseudonym
        assert result.user.is_admin == account.is_admin
    wrong = await actions.authenticate(
        sessions,
        passwords,
        NOW,
        pseudonym="demo-admin",
        password="not the demo password",
        client_ip="192.0.2.11",
        secret_key="test-secret",
    )
    assert wrong.user is None


async def test_accounts_whose_role_needs_it_have_the_published_two_step_key(
    sessions: async_sessionmaker[AsyncSession], passwords: Passwords
) -> None:
    """Everyone running the demo can sign in as every role: no visitor's own key locks
    the others out. Members keep it optional (and off)."""
    summary = await load_demo(sessions, passwords, NOW)
    privileged = [a for a in DEMO_ACCOUNTS if a.role != "member"]
    assert summary.two_factor.created == len(privileged)
    async with sessions() as db:
        for account in DEMO_ACCOUNTS:
            user = await _user(db, account.pseudonym)
            row = await db.get(TwoFactor, user.id)
            if account.role == "member":
                assert row is None, account.pseudonym
            else:
                assert row is not None and row.enrolled, account.pseudonym
                assert row.secret == DEMO_TOTP_SECRET
                standing = await twofactor.standing(db, user)
                assert standing.required and not standing.must_enrol, account.pseudonym
    assert totp.decode_secret(DEMO_TOTP_SECRET) == b"peerhub demo 2fa key"
    again = await load_demo(sessions, passwords, NOW)
    assert again.two_factor == Tally(0, len(privileged))


async def test_someone_elses_account_is_never_given_a_demo_role(
    sessions: async_sessionmaker[AsyncSession], passwords: Passwords
) -> None:
    """Signing up as ``demo-admin`` before the demo is loaded must not make you admin."""
    async with transaction(sessions) as db:
        for name in ("demo-admin", "river"):
            await actions.signup(db, passwords, NOW, pseudonym=name, password="my own secret words")

    summary = await load_demo(sessions, passwords, NOW)

    assert any("'demo-admin'" in s for s in summary.skipped)
    assert any("'river'" in s for s in summary.skipped)
    # With no demo admin to verify it, the GP stays pending rather than self-verified.
    assert any("'demo-gp'" in s and "pending" in s for s in summary.skipped)
    assert summary.accounts.created == len(DEMO_ACCOUNTS) - 2
    async with sessions() as db:
        for name in ("demo-admin", "river"):
            user = await _user(db, name)
            assert not user.is_admin
            memberships = await db.scalar(
                select(func.count()).where(GroupMember.user_id == user.id)
            )
            organises = await db.scalar(
                select(func.count()).where(OrganisationOrganiser.user_id == user.id)
            )
            assert memberships == 0 and organises == 0
        gp = await _user(db, "demo-gp")
        assert gp.professional_status == "pending"
        assert await _count(db, Group) == len(GROUPS)
        # Nor is someone else's account given the published two-step key.
        taken = await _user(db, "demo-admin")
        assert await db.get(TwoFactor, taken.id) is None

    again = await load_demo(sessions, passwords, NOW)
    assert again.created == 0


async def test_a_taken_organisation_address_is_skipped_not_clobbered(
    sessions: async_sessionmaker[AsyncSession], passwords: Passwords
) -> None:
    taken = ORGANISATIONS[1]
    async with transaction(sessions) as db:
        db.add(
            Organisation(
                slug=taken.slug, name="A real organisation", created_at=NOW, updated_at=NOW
            )
        )

    summary = await load_demo(sessions, passwords, NOW)

    assert any(repr(taken.slug) in s for s in summary.skipped)
    its_groups = [g for g in GROUPS if g.organisation == taken.slug]
    assert its_groups
    assert summary.groups.created == len(GROUPS) - len(its_groups)
    async with sessions() as db:
        row = await db.scalar(select(Organisation).where(Organisation.slug == taken.slug))
        assert row is not None and row.name == "A real organisation"
        assert await _count(db, Organisation) == len(ORGANISATIONS)


async def test_now_must_be_timezone_aware(passwords: Passwords) -> None:
    unbound: async_sessionmaker[AsyncSession] = async_sessionmaker()
    naive: Any = datetime(2026, 8, 20, 9, 0)  # noqa: DTZ001 - naive on purpose
    with pytest.raises(ValueError, match="timezone-aware"):
        await load_demo(unbound, passwords, naive)


async def test_the_arabic_and_welsh_versions_are_loaded_and_shown(
    sessions: async_sessionmaker[AsyncSession], passwords: Passwords
) -> None:
    """The online Arabic wellbeing circle has an Arabic name and description, and a Welsh
    bereavement group a Welsh one (drafts, marked so in demo_data.py); loading twice
    adds no second version."""
    from peerhub.groups.texts import text_for
    from peerhub.models import Group, GroupText

    await load_demo(sessions, passwords, NOW)
    await load_demo(sessions, passwords, NOW + timedelta(days=1))
    async with sessions() as db:
        rows = list(await db.scalars(select(GroupText)))
        by_group = {r.group_id: r for r in rows}
        arabic = await db.scalar(
            select(Group).where(Group.slug == "sukoon-arabic-wellbeing-online")
        )
        welsh = await db.scalar(select(Group).where(Group.slug == "cylch-galar-a-cholled-ar-lein"))
    assert arabic is not None and welsh is not None
    assert sorted((r.group_id, r.language) for r in rows) == sorted(
        [(arabic.id, "ar"), (welsh.id, "cy")]
    )
    shown = text_for(arabic, [by_group[arabic.id]], "ar")
    assert shown.name.text == "حلقة العافية العربية عبر الإنترنت" and not shown.name.foreign
    assert shown.ground_rules.foreign and shown.ground_rules.language_name == "الإنجليزية"
    assert text_for(welsh, [by_group[welsh.id]], "cy").name.text.startswith("Galar a Cholled")
