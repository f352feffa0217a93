"""A person with data in every corner of PeerHub, and ways to look for them afterwards."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from peerhub.accounts.models_2fa import RecoveryCode, TwoFactor
from peerhub.care.models import CheckIn as CareCheckIn
from peerhub.care.models import TrainingRecord, Unavailability
from peerhub.checkins.models import CheckIn
from peerhub.config import Settings
from peerhub.groups.models import ModeratorInvitation
from peerhub.models import (
    AuditEvent,
    Base,
    Block,
    Consent,
    Group,
    GroupMember,
    JoinAnswer,
    LoginThrottle,
    Organisation,
    OrganisationOrganiser,
    Referral,
    ReferralEvent,
    SafeguardingLead,
    SavedNeeds,
    User,
    WaitlistEntry,
)
from peerhub.moderation.models import (
    CrisisAlert,
    ModerationEvent,
    NewcomerProgress,
    PersonalMute,
    Report,
    RoomModeration,
    Sanction,
)
from peerhub.outcomes.models import MatchOutcome, OutcomeLink
from peerhub.realtime.models import Room, RoomMessage, RoomReadPosition, RoomRulesAcceptance
from peerhub.rotas.models import RotaEntry
from peerhub.security import throttle
from peerhub.security.models import KnownDevice
from peerhub.security.passwords import Passwords
from peerhub.security.signins import start_sign_in
from peerhub.security.tokens import digest
from tests.conftest import BASE, TEST_TOTP_SECRET

PASSWORD = "a long test password"
NAME = "Sam Quill"
# Words only Sam wrote: after "remove my messages" they must be nowhere.
SAM_WORDS = ("I had a hard week", "Nobody hears me", "I want to die some days")
FIRST_NAME = "Samantha"
EMAIL = "sam.quill@example.org"


@dataclass
class Seeded:
    sam: str
    token: str  # Sam's session cookie
    people: dict[str, str] = field(default_factory=dict)  # name -> id
    tokens: dict[str, str] = field(default_factory=dict)
    groups: dict[str, str] = field(default_factory=dict)  # slug -> id
    referral_id: str = ""


def _group(org: Organisation, slug: str, name: str, **extra: Any) -> Group:
    return Group(
        organisation_id=org.id,
        slug=slug,
        name=name,
        format="online",
        dtstart_local="2026-10-20T18:00:00",
        rrule="FREQ=WEEKLY;BYDAY=TU",
        time_zone="Europe/London",
        ground_rules="Be kind.",
        **extra,
    )


def _sharing(db: AsyncSession, user_id: str, group_id: str) -> None:
    """The person's own details (peerhub/sharing), if that package is installed."""
    classes = {m.class_.__tablename__: m.class_ for m in Base.registry.mappers}
    if "person_profiles" in classes:
        db.add(classes["person_profiles"](user_id=user_id, first_name=FIRST_NAME))
    if "sharing_choices" in classes:
        db.add(classes["sharing_choices"](user_id=user_id, audience="referrer", item="first_name"))
    if "group_sharing_choices" in classes:
        db.add(
            classes["group_sharing_choices"](
                group_id=group_id, user_id=user_id, audience="members", item="first_name"
            )
        )
    if "crisis_plans" in classes:
        db.add(classes["crisis_plans"](user_id=user_id, what_helps="Quiet music"))
    if "notices" in classes:  # duty notices (peerhub/notify)
        db.add(classes["notices"](user_id=user_id, topic="duty.alert", url="/duty", ref="alert:1"))
        db.add(classes["notice_settings"](user_id=user_id, phone="+447700900123"))
        db.add(
            classes["push_subscriptions"](
                user_id=user_id, endpoint="https://push.example/sub/1", p256dh="k", auth="a"
            )
        )


async def seed(
    sessions: async_sessionmaker[AsyncSession],
    settings: Settings,
    passwords: Passwords,
    now: datetime,
) -> Seeded:
    """Sam Quill: a member with a row in every table that can hold a person."""
    earlier = now - timedelta(days=3)
    async with sessions() as db, db.begin():
        org = Organisation(slug="calder", name="Calder Peer Network", verified_at=earlier)
        db.add(org)
        await db.flush()
        talk = _group(org, "tuesday-talk", "Tuesday Talk")
        full = _group(org, "full-circle", "Full Circle", capacity=1)
        asks = _group(org, "ask-first", "Ask First", join_policy="request")
        db.add_all([talk, full, asks])
        await db.flush()
        groups = {g.slug: g.id for g in (talk, full, asks)}
        hashed = await passwords.hash(PASSWORD)
        people: dict[str, User] = {}
        for key, pseudonym in (
            ("sam", NAME),
            ("ana", "Ana"),
            ("ben", "Ben"),
            ("mo", "Mo"),
            ("olga", "Olga"),
            ("gp", "Doctor Who"),
        ):
            user = User(
                pseudonym=pseudonym,
                pseudonym_key=pseudonym.casefold(),
                password_hash=hashed,
                created_at=earlier,
                updated_at=earlier,
            )
            db.add(user)
            people[key] = user
        people["sam"].email = EMAIL
        people["gp"].professional_status = "verified"
        people["gp"].professional_role = "GP"
        people["gp"].professional_organisation = "Calder Surgery"
        await db.flush()
        sam, ana, ben, mo, olga, gp = (
            people[k].id for k in ("sam", "ana", "ben", "mo", "olga", "gp")
        )
        tokens = {}
        for key, user in people.items():
            new = await start_sign_in(
                db, settings, user, now, "Mozilla/5.0 (X11; Linux) Firefox/130"
            )
            tokens[key] = new.token
        # Roles that need two-step sign-in have it; Sam has it too (with codes).
        for uid in (mo, olga, gp, sam):
            db.add(TwoFactor(user_id=uid, secret=TEST_TOTP_SECRET, confirmed_at=earlier))
        db.add(RecoveryCode(user_id=sam, code_hash=digest("code-one"), used_at=earlier))
        db.add(RecoveryCode(user_id=sam, code_hash=digest("code-two")))
        db.add(OrganisationOrganiser(organisation_id=org.id, user_id=olga))
        # Sam runs a small organisation alone (the erase page warns about that).
        circle = Organisation(slug="sams-circle", name="Riverside Circle")
        db.add(circle)
        await db.flush()
        db.add(OrganisationOrganiser(organisation_id=circle.id, user_id=sam))
        db.add(SafeguardingLead(organisation_id=circle.id, user_id=sam))
        db.add_all(
            [
                GroupMember(group_id=talk.id, user_id=sam, joined_at=earlier),
                GroupMember(group_id=talk.id, user_id=ana, joined_at=earlier),
                GroupMember(group_id=talk.id, user_id=ben, joined_at=earlier),
                GroupMember(group_id=talk.id, user_id=mo, role="moderator", joined_at=earlier),
                GroupMember(group_id=full.id, user_id=ana, joined_at=earlier),
                GroupMember(group_id=asks.id, user_id=sam, status="requested", joined_at=earlier),
                WaitlistEntry(group_id=full.id, user_id=sam, fit=0.8, created_at=earlier),
                # Sam once offered to cover a session of Tuesday Talk (peerhub/rotas).
                RotaEntry(
                    group_id=talk.id,
                    session_key="2026-09-01T18:00:00",
                    starts_at=datetime(2026, 9, 1, 17, 0, tzinfo=UTC),
                    user_id=sam,
                    status="offered",
                    assigned_by=sam,
                    created_at=earlier,
                    updated_at=earlier,
                ),
                # Olga has invited Sam to moderate the full circle; no answer yet.
                ModeratorInvitation(
                    group_id=full.id, user_id=sam, invited_by=olga, created_at=earlier
                ),
                JoinAnswer(
                    group_id=asks.id,
                    user_id=sam,
                    answered_by=mo,
                    accepted=False,
                    message="Not this month, sorry.",
                    answered_at=earlier,
                ),
                SavedNeeds(user_id=sam, needs={"languages": ["en"], "stage": "recovery"}),
                # A search showed Sam the full circle, which PeerHub is following.
                MatchOutcome(
                    id="outcome-sam-full",
                    shown_week=earlier.date(),
                    fit="good",
                    language="first",
                    community="not_asked",
                    stage="met",
                    relaxed="none",
                    rank="1",
                    format="online",
                    attendance_seen=True,
                ),
                OutcomeLink(
                    outcome_id="outcome-sam-full", user_id=sam, group_id=full.id, shown_at=earlier
                ),
                Block(user_id=sam, blocked_user_id=ben),
                Block(user_id=ana, blocked_user_id=sam),
                PersonalMute(user_id=sam, kind="word", value="weather"),
                PersonalMute(user_id=sam, kind="person", value=ben),
                PersonalMute(user_id=ana, kind="person", value=sam),
                # Every kind of throttle counter that names Sam (by name or by id).
                *(
                    LoginThrottle(key=key, score=1.0, updated_at=now)
                    for key in (
                        throttle.account_key(NAME.casefold()),
                        throttle.pair_key(NAME.casefold(), "198.51.100.23", "a secret"),
                        throttle.device_key(sam, "a-device"),
                        throttle.second_factor_key(sam),
                        throttle.recovery_account_key(NAME.casefold()),
                        throttle.recovery_pair_key(NAME.casefold(), "198.51.100.23", "s"),
                        throttle.recovery_device_key(sam, "a-device"),
                    )
                ),
                KnownDevice(
                    user_id=sam,
                    token_hash=digest("sam's phone"),
                    password_mark=digest("sam's password hash"),
                    user_agent="Mozilla/5.0 (Linux; Android 14) Chrome/126.0 Mobile",
                    created_at=earlier,
                    last_used_at=earlier,
                    expires_at=now + timedelta(days=100),
                ),
            ]
        )
        referral = Referral(
            code_hash=digest("REFERRAL-CODE"),
            group_id=talk.id,
            professional_id=gp,
            person_user_id=sam,
            person_name="Sam",
            contact_method="email",
            contact_value=EMAIL,
            note="Sam would like a group on Tuesdays.",
            consent_confirmed_at=earlier,
            state="joined",
            share_progress=False,
            outcome=None,
            created_at=earlier,
        )
        db.add(referral)
        await db.flush()
        db.add_all(
            [
                ReferralEvent(referral_id=referral.id, state="sent", actor_id=gp, at=earlier),
                ReferralEvent(
                    referral_id=referral.id,
                    state="joined",
                    actor_id=sam,
                    at=earlier,
                    reason="Sam joined on Tuesday.",
                ),
                Consent(user_id=sam, kind="referral.take_up", subject_id=referral.id, granted=True),
            ]
        )
        # The room: Sam's words, a reply, a held message, events that name Sam.
        db.add(Room(id=talk.id, next_seq=8))
        person = {"id": sam, "name": NAME}

        def message(seq: int, sender: str | None, body: str = "", **extra: Any) -> RoomMessage:
            return RoomMessage(
                room_id=talk.id,
                seq=seq,
                sender_id=sender,
                client_id=f"c{seq}",
                body=body,
                created_at=earlier + timedelta(minutes=seq),
                **extra,
            )

        db.add_all(
            [
                message(1, sam, SAM_WORDS[0]),
                message(2, ana, "Sorry to hear that."),
                message(3, sam, SAM_WORDS[1], status="held"),
                message(
                    4,
                    None,
                    kind="system",
                    data={"event": "member.timed_out", "user": person, "by": mo, "until": "x"},
                ),
                message(
                    5,
                    None,
                    kind="system",
                    data={
                        "event": "message.approved",
                        "seq": 3,
                        "by": mo,
                        "message": {
                            "seq": 3,
                            "sender": person,
                            "body": SAM_WORDS[1],
                            "status": "visible",
                        },
                    },
                ),
                message(6, sam, SAM_WORDS[2]),
                message(7, mo, kind="system", data={"event": "session.opened"}),
            ]
        )
        await db.flush()
        db.add_all(
            [
                RoomReadPosition(room_id=talk.id, user_id=sam, last_read_seq=6),
                NewcomerProgress(group_id=talk.id, user_id=sam, approved=2),
                RoomRulesAcceptance(room_id=talk.id, user_id=sam, version="abc"),
                RoomModeration(room_id=talk.id, pinned_text="Welcome, all.", pinned_by=sam),
                Report(group_id=talk.id, reporter_id=sam, subject_id=ben, category="unkind"),
                Report(
                    group_id=talk.id,
                    reporter_id=ana,
                    subject_id=sam,
                    message_seq=1,
                    category="other",
                    words="Worried about them.",
                ),
                Report(group_id=talk.id, reporter_id=ben, subject_id=sam, category="unkind"),
                CrisisAlert(group_id=talk.id, user_id=sam, message_seq=6),
                Sanction(
                    group_id=talk.id,
                    user_id=sam,
                    kind="timeout",
                    until=earlier + timedelta(minutes=10),
                    reason="Please take a breather.",
                    created_by=mo,
                    lifted_at=earlier + timedelta(minutes=5),
                ),
                ModerationEvent(group_id=talk.id, actor_id=mo, action="timeout", subject_id=sam),
                AuditEvent(
                    at=earlier,
                    action="login.succeeded",
                    actor_id=sam,
                    subject_id=sam,
                    client_ip="198.51.100.23",
                ),
            ]
        )
        # Care for moderators (peerhub/care): a check-in Sam answered after an alert,
        # a training record, time away.
        await db.flush()
        db.add_all(
            [
                CareCheckIn(
                    user_id=sam,
                    group_id=talk.id,
                    created_at=earlier,
                    feeling="shaken",
                    words="That one stayed with me",
                    closed_at=earlier,
                    debrief="requested",
                    debrief_asked_at=earlier,
                ),
                TrainingRecord(
                    organisation_id=org.id,
                    user_id=sam,
                    course="Suicide first aid",
                    completed_on=earlier.date(),
                ),
                Unavailability(user_id=sam, starts_at=earlier),
            ]
        )
        _sharing(db, sam, talk.id)
        # A private check-in a moderator asked Sam to (peerhub/checkins).
        hidden = _group(org, "check-in-sam", "Private check-in", kind="check_in")
        db.add(hidden)
        await db.flush()
        db.add(
            CheckIn(
                group_id=hidden.id,
                organisation_id=org.id,
                source_group_id=talk.id,
                source="alert",
                source_id="a-1",
                asked_by=mo,
                member_id=sam,
                status="closed",
                closed_reason="left",
                closed_by=sam,
                closed_at=now,
            )
        )
    return Seeded(
        sam=sam,
        token=tokens["sam"],
        people={k: u.id for k, u in people.items()},
        tokens=tokens,
        groups=groups,
        referral_id=referral.id,
    )


def signed_in(app: Any, settings: Settings, token: str) -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=app, client=("203.0.113.50", 50050))
    client = httpx.AsyncClient(transport=transport, base_url=BASE)
    client.cookies.set(settings.sign_in_cookie_name, token)
    return client


async def every_value(sessions: async_sessionmaker[AsyncSession]) -> list[tuple[str, str, str]]:
    """(table, column, value as text) for every non-empty value in the database."""
    found: list[tuple[str, str, str]] = []
    async with sessions() as db:
        for table in Base.metadata.sorted_tables:
            for row in (await db.execute(select(table))).mappings():
                for column, value in row.items():
                    if value is None:
                        continue
                    text = (
                        json.dumps(value, ensure_ascii=False)
                        if isinstance(value, dict | list)
                        else str(value)
                    )
                    found.append((table.name, column, text))
    return found
