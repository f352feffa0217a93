"""Everything PeerHub holds about a person, as one JSON document.

The export is the person's right of access and portability (UK GDPR articles 15 and
20). It is built from the database at the moment it is asked for; nothing is cached.

Every column in the schema that can hold a person's id is listed either in
:data:`COVERED` (the export section that carries it) or in :data:`EXCLUDED` (why it is
left out). ``tests/privacy/test_export.py`` walks ``peerhub.schema.metadata`` and fails when a new
column holding a person's id is in neither, so a new table cannot silently escape the
export (or the erasure, whose checks read the same lists).

Never exported: the password hash, sign-in token hashes and CSRF tokens, two-step
secrets, recovery-code and recovery-word hashes, and reset-code hashes
(:data:`SECRET_COLUMNS`).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime
from typing import Any

from babel.support import LazyProxy
from sqlalchemy import Column, Table, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from peerhub.accounts.models_2fa import RecoveryCode, TwoFactor
from peerhub.accounts.models_recovery import PasswordReset, RecoveryWords
from peerhub.groups.models import LeadInvitation, ModeratorInvitation, OrganiserInvitation
from peerhub.i18n import _, lazy_gettext
from peerhub.matching.kinds import DIMENSIONS
from peerhub.models import (
    AuditEvent,
    Block,
    Consent,
    Group,
    GroupMember,
    JoinAnswer,
    Organisation,
    OrganisationOrganiser,
    Referral,
    ReferralEvent,
    SafeguardingLead,
    SavedNeeds,
    SignIn,
    User,
    WaitlistEntry,
)
from peerhub.moderation.models import (
    CrisisAlert,
    NewcomerProgress,
    PersonalMute,
    Report,
    RoomModeration,
    Sanction,
)
from peerhub.outcomes.models import MatchOutcome, OutcomeLink
from peerhub.realtime.models import RoomMessage, RoomReadPosition, RoomRulesAcceptance
from peerhub.rotas.models import RotaEntry
from peerhub.schema import metadata
from peerhub.security.models import KnownDevice
from peerhub.security.signins import describe_device

EXPORT_FORMAT = "peerhub-personal-data"
EXPORT_VERSION = 1

# Column names that hold a person's id even where they are not foreign keys.
PERSON_COLUMN_NAMES = frozenset(
    {
        "user_id",
        "sender_id",
        "reporter_id",
        "actor_id",
        "subject_id",
        "professional_id",
        "person_user_id",
        "blocked_user_id",
    }
)

# "table.column" -> the export section that carries it.
COVERED: dict[str, str] = {
    "sign_ins.user_id": "sign_in_sessions",
    "known_devices.user_id": "known_devices",
    "two_factor.user_id": "two_step_sign_in",
    "recovery_codes.user_id": "two_step_sign_in",
    "recovery_words.user_id": "password_recovery",
    "password_resets.user_id": "password_recovery",
    "organisation_organisers.user_id": "organisations",
    "moderator_invitations.user_id": "invitations",
    "organiser_invitations.user_id": "invitations",
    "lead_invitations.user_id": "invitations",
    "safeguarding_leads.user_id": "safeguarding_leads",
    "group_members.user_id": "group_memberships, join_requests",
    "join_answers.user_id": "join_answers",
    "waitlist_entries.user_id": "waiting_lists",
    "saved_needs.user_id": "saved_needs",
    "outcome_links.user_id": "match_outcomes_followed",
    "referrals.person_user_id": "referrals_about_you",
    "referrals.professional_id": "referrals_you_made",
    "consents.user_id": "consents",
    "blocks.user_id": "blocks",
    "personal_mutes.user_id": "personal_mutes",
    "reports.reporter_id": "reports_you_made",
    "crisis_alerts.user_id": "crisis_alerts",
    "sanctions.user_id": "sanctions",
    "room_messages.sender_id": "room_messages",
    "room_read_positions.user_id": "room_read_positions",
    "room_rules_acceptances.user_id": "room_rules_acceptances",
    "newcomer_progress.user_id": "first_messages_approved",
    "room_moderation.pinned_by": "pinned_announcements",
    "audit_events.actor_id": "security_events",
    "audit_events.subject_id": "security_events",
    # The person's own details and choices (peerhub/sharing), exported whole.
    "person_profiles.user_id": "profile",
    "sharing_choices.user_id": "sharing_choices",
    "group_sharing_choices.user_id": "group_sharing_choices",
    "crisis_plans.user_id": "crisis_plan",
    # Duty notices (peerhub/notify): what the person was told, their channels and number.
    "notices.user_id": "duty_notices",
    "notice_settings.user_id": "duty_notice_settings",
    "push_subscriptions.user_id": "push_subscriptions",
    # Care for moderators (peerhub/care): their check-ins and answers, the training
    # organisers recorded for them, and their time away, exported whole.
    "care_check_ins.user_id": "moderator_check_ins",
    "moderator_training.user_id": "training_records",
    "moderator_unavailability.user_id": "time_away",
    "rota_entries.user_id": "rota",
    # Private check-ins (peerhub/checkins): those you were asked to, and those you asked.
    "check_ins.member_id": "private_check_ins",
    "check_ins.asked_by": "private_check_ins",
}

# "table.column" -> why the export leaves it out. Shown in the export itself.
EXCLUDED: dict[str, LazyProxy] = {
    "blocks.blocked_user_id": lazy_gettext(
        "Who has blocked you: a block is the other person's private safety choice, and "
        "telling you could put them at risk."
    ),
    "reports.subject_id": lazy_gettext(
        "Reports other people made about you: they would identify who reported you, and "
        "people must be safe to report. Any action taken against you is under 'sanctions'."
    ),
    "reports.resolved_by": lazy_gettext(
        "Which moderator handled a report: moderators' work, about others."
    ),
    "crisis_alerts.opened_by": lazy_gettext(
        "Which moderator said they were on a crisis alert: moderators' work. The export "
        "says whether and when each alert about your messages was seen to, not who."
    ),
    "crisis_alerts.reviewed_by": lazy_gettext(
        "Which safeguarding lead reviewed a serious incident: their work, about others."
    ),
    "lead_invitations.invited_by": lazy_gettext(
        "Invitations you sent, as an organiser, to be a safeguarding lead: records about "
        "the people you invited. Who invited you is exported with each of yours."
    ),
    "crisis_alerts.handled_by": lazy_gettext(
        "Which moderator saw to a crisis alert: moderators' work. The export says whether "
        "and when a moderator saw each alert about your messages, not who."
    ),
    "sanctions.created_by": lazy_gettext(
        "Which moderator timed out or banned someone: moderators' work. The reason given "
        "to you is exported under 'sanctions'."
    ),
    "sanctions.lifted_by": lazy_gettext("Which moderator lifted a sanction: moderators' work."),
    "join_answers.answered_by": lazy_gettext(
        "Answers you gave, as a moderator, to other people's requests to join: records "
        "about those people."
    ),
    "check_ins.closed_by": lazy_gettext(
        "Who ended a private check-in: the export says how each one ended (you left, "
        "the moderator closed it, or it was quiet)."
    ),
    "moderation_events.actor_id": lazy_gettext(
        "The group's moderation log (who did what, as a moderator): a record of the "
        "group's moderators' decisions, kept for accountability. What was done to you is "
        "under 'sanctions'."
    ),
    "moderation_events.subject_id": lazy_gettext(
        "The group's moderation log entries about you: the same facts as 'sanctions', "
        "with the moderators who acted, which are not yours to receive."
    ),
    "referral_events.actor_id": lazy_gettext(
        "Who changed a referral's state: each referral about you is exported with its "
        "history (when and why), without the group member who made each change."
    ),
    "rooms.opened_by": lazy_gettext(
        "Which moderator opened a room's current session: room state, not about you. "
        "Sessions you opened are events in the room's log."
    ),
    "password_resets.issued_by": lazy_gettext(
        "Reset codes you gave other people, as an organiser or administrator: records "
        "about those people. Who gave you a code is in your security events."
    ),
    "moderator_invitations.invited_by": lazy_gettext(
        "Invitations you sent, as an organiser, to moderate a group: records about the "
        "people you invited. Who invited you is exported with each of your invitations."
    ),
    "organiser_invitations.invited_by": lazy_gettext(
        "Invitations you sent, as an organiser, to organise an organisation: records "
        "about the people you invited. Who invited you is exported with each of yours."
    ),
    "community_proposals.proposed_by": lazy_gettext(
        "Communities you proposed for your organisation: a record of the organisation's, "
        "which its organisers see on its proposal page; it names no person to anyone."
    ),
    "community_proposals.decided_by": lazy_gettext(
        "Proposals you answered as an administrator: records about organisations' "
        "proposals, not about you. Each answer is in your security events."
    ),
    "added_communities.added_by": lazy_gettext(
        "Communities you added to PeerHub's list as an administrator: part of the "
        "public list, not about you. Each addition is in your security events."
    ),
    "rota_entries.assigned_by": lazy_gettext(
        "Who put other people on a group's rota, as an organiser: records about those "
        "people's sessions. Each of your own rota entries is exported under 'rota'."
    ),
    "rota_feeds.user_id": lazy_gettext(
        "Your rota's calendar feed: PeerHub keeps only a one-way hash of its secret "
        "address, which is no use to you. 'Your rota' says whether it is on."
    ),
    "consents.subject_id": lazy_gettext(
        "Not a person: the thing a consent is about (a referral, a group); exported with "
        "each consent."
    ),
}

# Never part of any export (or of anything else shown to anyone).
SECRET_COLUMNS = frozenset(
    {
        "users.password_hash",
        "sign_ins.token_hash",
        "sign_ins.csrf_token",
        "known_devices.token_hash",
        "known_devices.password_mark",
        "two_factor.secret",
        "two_factor.pending_secret",
        "two_factor.last_step",
        "recovery_codes.code_hash",
        "recovery_words.words_hash",
        "password_resets.secret_hash",
        "referrals.code_hash",
        # A browser's push address and keys: whoever holds them can send it notifications.
        "push_subscriptions.endpoint",
        "push_subscriptions.p256dh",
        "push_subscriptions.auth",
    }
)

# Tables that are only the person's own rows, exported whole (but for secrets).
OWNED_TABLES: dict[str, str] = {
    "person_profiles": "profile",
    "sharing_choices": "sharing_choices",
    "group_sharing_choices": "group_sharing_choices",
    "crisis_plans": "crisis_plan",
    "notices": "duty_notices",
    "notice_settings": "duty_notice_settings",
    "push_subscriptions": "push_subscriptions",
    "care_check_ins": "moderator_check_ins",
    "moderator_training": "training_records",
    "moderator_unavailability": "time_away",
}
SINGLE_ROW_SECTIONS = frozenset({"profile", "crisis_plan", "duty_notice_settings", "time_away"})


def person_columns() -> list[Column[Any]]:
    """Every column of the schema that can hold a person's id."""
    found: list[Column[Any]] = []
    for table in metadata.sorted_tables:
        for column in table.columns:
            to_users = any(fk.column.table.name == "users" for fk in column.foreign_keys)
            by_name = column.name in PERSON_COLUMN_NAMES or column.name.endswith("_by")
            if table.name != "users" and (to_users or by_name):
                found.append(column)
    return found


def iso(moment: datetime | None) -> str | None:
    return None if moment is None else moment.isoformat().replace("+00:00", "Z")


def _plain(value: Any) -> Any:
    if isinstance(value, datetime):
        return iso(value)
    if isinstance(value, date):
        return value.isoformat()
    return value


def _row(table: Table, values: Any) -> dict[str, Any]:
    """A row of an owned table, minus its owner's id and any secret."""
    out: dict[str, Any] = {}
    for column in table.columns:
        if column.name == "user_id" or f"{table.name}.{column.name}" in SECRET_COLUMNS:
            continue
        out[column.name] = _plain(values[column.name])
    return out


async def _names(db: AsyncSession, ids: Iterable[str | None]) -> dict[str, str]:
    wanted = sorted({i for i in ids if i})
    if not wanted:
        return {}
    rows = await db.execute(select(User.id, User.pseudonym).where(User.id.in_(wanted)))
    return {uid: name for uid, name in rows}


async def _groups(db: AsyncSession, ids: Iterable[str]) -> dict[str, dict[str, str]]:
    wanted = sorted(set(ids))
    if not wanted:
        return {}
    rows = await db.execute(select(Group.id, Group.name, Group.slug).where(Group.id.in_(wanted)))
    return {gid: {"id": gid, "name": name, "slug": slug} for gid, name, slug in rows}


def _not_included() -> list[dict[str, str]]:
    return [{"what": key, "why": str(why)} for key, why in sorted(EXCLUDED.items())]


async def build_export(db: AsyncSession, user: User, now: datetime) -> dict[str, Any]:
    """Everything PeerHub holds about ``user``, as plain JSON-ready values."""
    uid = user.id
    out: dict[str, Any] = {
        "about": {
            "format": EXPORT_FORMAT,
            "version": EXPORT_VERSION,
            "exported_at": iso(now),
            "explanation": _(
                "Everything PeerHub holds about you. Times are UTC. Your password, "
                "sign-in tokens and two-step secrets are never included: PeerHub keeps "
                "only one-way hashes of them. 'not_included' lists what is left out on "
                "purpose, and why."
            ),
            "not_included": _not_included(),
        },
        "account": {
            "id": uid,
            "pseudonym": user.pseudonym,
            "email": user.email,
            "is_admin": user.is_admin,
            "professional_status": user.professional_status,
            "professional_role": user.professional_role,
            "professional_organisation": user.professional_organisation,
            "disabled_at": iso(user.disabled_at),
            "created_at": iso(user.created_at),
            "updated_at": iso(user.updated_at),
        },
    }
    out["sign_in_sessions"] = [
        {
            "device": describe_device(s.user_agent),
            "user_agent": s.user_agent,
            "started_at": iso(s.created_at),
            "last_used_at": iso(s.last_seen_at),
            "ends_at": iso(s.expires_at),
        }
        for s in await db.scalars(
            select(SignIn).where(SignIn.user_id == uid).order_by(SignIn.created_at)
        )
    ]
    out["known_devices"] = [
        {
            "device": describe_device(d.user_agent),
            "user_agent": d.user_agent,
            "remembered_at": iso(d.created_at),
            "last_used_at": iso(d.last_used_at),
            "forgotten_at": iso(d.expires_at),
        }
        for d in await db.scalars(
            select(KnownDevice).where(KnownDevice.user_id == uid).order_by(KnownDevice.created_at)
        )
    ]
    out["two_step_sign_in"] = await _two_factor(db, uid)
    out["password_recovery"] = await _recovery(db, uid)
    out["organisations"] = [
        {"id": org.id, "name": org.name, "slug": org.slug, "organiser_since": iso(added)}
        for org, added in await db.execute(
            select(Organisation, OrganisationOrganiser.added_at)
            .join(OrganisationOrganiser, OrganisationOrganiser.organisation_id == Organisation.id)
            .where(OrganisationOrganiser.user_id == uid)
            .order_by(Organisation.name)
        )
    ]
    out["invitations"] = await _invitations(db, uid)
    out["safeguarding_leads"] = [
        {"id": org.id, "name": org.name, "slug": org.slug, "lead_since": iso(added)}
        for org, added in await db.execute(
            select(Organisation, SafeguardingLead.added_at)
            .join(SafeguardingLead, SafeguardingLead.organisation_id == Organisation.id)
            .where(SafeguardingLead.user_id == uid)
            .order_by(Organisation.name)
        )
    ]
    await _groups_part(db, uid, out)
    out["saved_needs"] = await _saved_needs(db, uid)
    out["rota"] = await _rota(db, uid)
    out["match_outcomes_followed"] = await _outcomes_followed(db, uid)
    out["referrals_about_you"] = await _referrals_about(db, uid)
    out["referrals_you_made"] = await _referrals_made(db, user)
    out["consents"] = [
        {
            "kind": c.kind,
            "about": c.subject_id,
            "granted": c.granted,
            "version": c.version,
            "at": iso(c.at),
        }
        for c in await db.scalars(
            select(Consent).where(Consent.user_id == uid).order_by(Consent.id)
        )
    ]
    await _personal_controls(db, uid, out)
    await _moderation_part(db, uid, out)
    await _rooms_part(db, uid, out)
    out["security_events"] = await _security_events(db, uid)
    out["private_check_ins"] = await _check_ins(db, uid)
    for table_name, section in OWNED_TABLES.items():
        table = metadata.tables.get(table_name)
        if table is None:
            continue
        found = await db.execute(table.select().where(table.c.user_id == uid))
        rows = [_row(table, r) for r in found.mappings()]
        out[section] = (rows[0] if rows else None) if section in SINGLE_ROW_SECTIONS else rows
    return out


async def _check_ins(db: AsyncSession, uid: str) -> list[dict[str, Any]]:
    from peerhub.checkins.models import CheckIn

    return [
        {
            "id": c.id,
            "you": "asked" if c.asked_by == uid else "were_asked",
            "room": c.group_id,  # your messages there are under 'room_messages'
            "from": c.source,
            "status": c.status,
            "asked_at": iso(c.created_at),
            "answered_at": iso(c.answered_at),
            "closed_at": iso(c.closed_at),
            "how_it_ended": c.closed_reason,
        }
        for c in await db.scalars(
            select(CheckIn)
            .where(or_(CheckIn.member_id == uid, CheckIn.asked_by == uid))
            .order_by(CheckIn.created_at)
        )
    ]


async def _two_factor(db: AsyncSession, uid: str) -> dict[str, Any]:
    row = await db.get(TwoFactor, uid)
    codes = list(await db.scalars(select(RecoveryCode).where(RecoveryCode.user_id == uid)))
    return {
        "enabled": bool(row is not None and row.enrolled),
        "set_up_at": iso(row.confirmed_at) if row is not None else None,
        "recovery_codes": {
            "issued": len(codes),
            "used": sorted(iso(c.used_at) or "" for c in codes if c.used_at is not None),
        },
    }


async def _recovery(db: AsyncSession, uid: str) -> dict[str, Any]:
    words = await db.scalar(select(RecoveryWords).where(RecoveryWords.user_id == uid))
    resets = await db.scalars(
        select(PasswordReset).where(PasswordReset.user_id == uid).order_by(PasswordReset.created_at)
    )
    return {
        "recovery_words_made_at": iso(words.created_at) if words is not None else None,
        "reset_links_and_codes": [
            {
                "kind": r.kind,
                "created_at": iso(r.created_at),
                "expires_at": iso(r.expires_at),
                "used_at": iso(r.used_at),
                "stopped_early_because": r.ended,
            }
            for r in resets
        ],
    }


async def _invitations(db: AsyncSession, uid: str) -> list[dict[str, Any]]:
    """Invitations to moderate a group or organise an organisation, answered or not."""
    mods = list(
        await db.scalars(select(ModeratorInvitation).where(ModeratorInvitation.user_id == uid))
    )
    orgs = list(
        await db.scalars(select(OrganiserInvitation).where(OrganiserInvitation.user_id == uid))
    )
    leads = list(await db.scalars(select(LeadInvitation).where(LeadInvitation.user_id == uid)))
    names = await _names(
        db,
        [i.invited_by for i in mods] + [i.invited_by for i in orgs] + [i.invited_by for i in leads],
    )
    groups = await _groups(db, [i.group_id for i in mods])
    organisations = {
        o.id: {"id": o.id, "name": o.name}
        for o in await db.scalars(
            select(Organisation).where(
                Organisation.id.in_(
                    [i.organisation_id for i in orgs] + [i.organisation_id for i in leads]
                )
            )
        )
    }
    found = (
        [
            {
                "to": "moderate",
                "group": groups.get(i.group_id),
                "invited_by": names.get(i.invited_by or ""),
                "at": iso(i.created_at),
                "declined_at": iso(i.declined_at),
            }
            for i in mods
        ]
        + [
            {
                "to": "organise",
                "organisation": organisations.get(i.organisation_id),
                "invited_by": names.get(i.invited_by or ""),
                "at": iso(i.created_at),
                "declined_at": iso(i.declined_at),
            }
            for i in orgs
        ]
        + [
            {
                "to": "be a safeguarding lead",
                "organisation": organisations.get(i.organisation_id),
                "invited_by": names.get(i.invited_by or ""),
                "at": iso(i.created_at),
                "declined_at": iso(i.declined_at),
            }
            for i in leads
        ]
    )
    return sorted(found, key=lambda i: str(i["at"]))


async def _groups_part(db: AsyncSession, uid: str, out: dict[str, Any]) -> None:
    members = list(
        await db.scalars(
            select(GroupMember).where(GroupMember.user_id == uid).order_by(GroupMember.joined_at)
        )
    )
    answers = list(
        await db.scalars(
            select(JoinAnswer).where(JoinAnswer.user_id == uid).order_by(JoinAnswer.answered_at)
        )
    )
    waiting = list(
        await db.scalars(
            select(WaitlistEntry)
            .where(WaitlistEntry.user_id == uid)
            .order_by(WaitlistEntry.created_at)
        )
    )
    groups = await _groups(
        db,
        [m.group_id for m in members]
        + [a.group_id for a in answers]
        + [w.group_id for w in waiting],
    )
    out["group_memberships"] = [
        {"group": groups.get(m.group_id), "role": m.role, "since": iso(m.joined_at)}
        for m in members
        if m.status == "active"
    ]
    out["join_requests"] = [
        {"group": groups.get(m.group_id), "asked_at": iso(m.joined_at)}
        for m in members
        if m.status == "requested"
    ]
    out["join_answers"] = [
        {
            "group": groups.get(a.group_id),
            "accepted": a.accepted,
            "message": a.message,
            "answered_at": iso(a.answered_at),
        }
        for a in answers
    ]
    out["waiting_lists"] = [
        {
            "group": groups.get(w.group_id),
            "status": w.status,
            "fit": w.fit,
            "since": iso(w.created_at),
            "offered_at": iso(w.offered_at),
        }
        for w in waiting
    ]


async def _rota(db: AsyncSession, uid: str) -> list[dict[str, Any]]:
    """The sessions the person offered to cover or is rostered for (peerhub/rotas)."""
    entries = list(
        await db.scalars(
            select(RotaEntry).where(RotaEntry.user_id == uid).order_by(RotaEntry.starts_at)
        )
    )
    groups = await _groups(db, [e.group_id for e in entries])
    return [
        {
            "group": groups.get(e.group_id),
            "session": e.session_key,
            "starts_at": iso(e.starts_at),
            "status": e.status,
            "since": iso(e.created_at),
        }
        for e in entries
    ]


async def _saved_needs(db: AsyncSession, uid: str) -> dict[str, Any] | None:
    saved = await db.get(SavedNeeds, uid)
    if saved is None:
        return None
    return {
        "needs": saved.needs,
        "tell_me_about_new_groups": saved.notify_new_groups,
        "updated_at": iso(saved.updated_at),
    }


async def _outcomes_followed(db: AsyncSession, uid: str) -> list[dict[str, Any]]:
    """Groups a search showed them that PeerHub is still following (docs/matching.md,
    "Outcomes"): the group, when, and what has been seen so far. Once settled, the
    link to them is deleted and the anonymous outcome is no longer theirs."""
    rows = await db.execute(
        select(OutcomeLink, MatchOutcome)
        .join(MatchOutcome, MatchOutcome.id == OutcomeLink.outcome_id)
        .where(OutcomeLink.user_id == uid)
        .order_by(OutcomeLink.shown_at, OutcomeLink.group_id)
    )
    pairs = rows.all()
    groups = await _groups(db, [link.group_id for link, _ in pairs])
    return [
        {
            "group": groups.get(link.group_id, {"id": link.group_id}),
            "shown_at": iso(link.shown_at),
            "joined_at": iso(link.joined_at),
            "first_came_at": iso(link.first_came_at),
            "last_came_at": iso(link.last_came_at),
            "kind": {name: getattr(outcome, name) for name in DIMENSIONS},
        }
        for link, outcome in pairs
    ]


async def _referral_events(db: AsyncSession, ids: list[str]) -> dict[str, list[dict[str, Any]]]:
    out: dict[str, list[dict[str, Any]]] = {rid: [] for rid in ids}
    if not ids:
        return out
    for event in await db.scalars(
        select(ReferralEvent).where(ReferralEvent.referral_id.in_(ids)).order_by(ReferralEvent.id)
    ):
        out[event.referral_id].append(
            {"at": iso(event.at), "state": event.state, "reason": event.reason}
        )
    return out


async def _referrals_about(db: AsyncSession, uid: str) -> list[dict[str, Any]]:
    rows = (
        await db.execute(
            select(Referral, Group, User.professional_role, User.professional_organisation)
            .join(Group, Group.id == Referral.group_id)
            .outerjoin(User, User.id == Referral.professional_id)
            .where(Referral.person_user_id == uid)
            .order_by(Referral.created_at)
        )
    ).all()
    events = await _referral_events(db, [r.id for r, *_ in rows])
    return [
        {
            "id": r.id,
            "group": {"id": g.id, "name": g.name, "slug": g.slug},
            # The referrer as the person sees them on the referral's page: role and
            # organisation, never more.
            "referred_by": {"role": role, "organisation": organisation},
            "name_given": r.person_name,
            "contact_method": r.contact_method,
            "contact": r.contact_value,
            "note_for_the_group": r.note,
            "consent_confirmed_by_referrer_at": iso(r.consent_confirmed_at),
            "state": r.state,
            "outcome": r.outcome,
            "referrer_may_see_progress": r.share_progress,
            "created_at": iso(r.created_at),
            "history": events[r.id],
        }
        for r, g, role, organisation in rows
    ]


async def _referrals_made(db: AsyncSession, user: User) -> list[dict[str, Any]]:
    from peerhub.referrals.actions import sent_by

    # Exactly what the professional's own page shows: progress only where the person
    # chose to share it (hazard H6), so the export cannot leak more than the page. A
    # hidden "joined" or "closed" reads as "accepted", with an "accepted" history, and
    # nothing says that anything is hidden (docs/referrals.md).
    return [
        {
            "id": view.referral.id,
            "group": {"id": view.group.id, "name": view.group.name, "slug": view.group.slug},
            "person_name": view.referral.person_name,
            "contact_method": view.referral.contact_method,
            "contact": view.referral.contact_value,
            "note_for_the_group": view.referral.note,
            "state": view.state,
            "outcome": view.outcome,
            "created_at": iso(view.referral.created_at),
            "history": [
                {"at": iso(e.at), "state": e.state, "reason": e.reason} for e in view.events
            ],
        }
        for view in await sent_by(db, user)
    ]


async def _personal_controls(db: AsyncSession, uid: str, out: dict[str, Any]) -> None:
    blocks = list(
        await db.scalars(select(Block).where(Block.user_id == uid).order_by(Block.created_at))
    )
    mutes = list(
        await db.scalars(
            select(PersonalMute)
            .where(PersonalMute.user_id == uid)
            .order_by(PersonalMute.created_at)
        )
    )
    names = await _names(
        db, [b.blocked_user_id for b in blocks] + [m.value for m in mutes if m.kind == "person"]
    )
    out["blocks"] = [
        {
            "person": {"id": b.blocked_user_id, "name": names.get(b.blocked_user_id)},
            "at": iso(b.created_at),
        }
        for b in blocks
    ]
    out["personal_mutes"] = [
        {"word": m.value, "at": iso(m.created_at)}
        if m.kind == "word"
        else {"person": {"id": m.value, "name": names.get(m.value)}, "at": iso(m.created_at)}
        for m in mutes
    ]


async def _moderation_part(db: AsyncSession, uid: str, out: dict[str, Any]) -> None:
    reports = list(
        await db.scalars(
            select(Report).where(Report.reporter_id == uid).order_by(Report.created_at)
        )
    )
    alerts = list(
        await db.scalars(
            select(CrisisAlert).where(CrisisAlert.user_id == uid).order_by(CrisisAlert.created_at)
        )
    )
    sanctions = list(
        await db.scalars(
            select(Sanction).where(Sanction.user_id == uid).order_by(Sanction.created_at)
        )
    )
    pinned = list(await db.scalars(select(RoomModeration).where(RoomModeration.pinned_by == uid)))
    groups = await _groups(
        db,
        [r.group_id for r in reports]
        + [a.group_id for a in alerts]
        + [s.group_id for s in sanctions]
        + [p.room_id for p in pinned],
    )
    names = await _names(db, [r.subject_id for r in reports])
    # Reports you made: what you said and what became of it. Not the moderators'
    # notes, and not who handled it.
    out["reports_you_made"] = [
        {
            "group": groups.get(r.group_id),
            "about_message_seq": r.message_seq,
            "about_person": names.get(r.subject_id or ""),
            "category": r.category,
            "your_words": r.words,
            "status": r.status,
            "outcome": r.outcome,
            "made_at": iso(r.created_at),
            "resolved_at": iso(r.resolved_at),
            "you_were_told_at": iso(r.reporter_told_at),
        }
        for r in reports
    ]
    # A crisis alert is about you: that it exists, for which message, and whether a
    # moderator saw to it. Never who, and never anything a moderator wrote.
    out["crisis_alerts"] = [
        {
            "group": groups.get(a.group_id),
            "message_seq": a.message_seq,
            "raised_at": iso(a.created_at),
            "seen_by_a_moderator": a.handled_at is not None,
            "seen_at": iso(a.handled_at),
        }
        for a in alerts
    ]
    out["sanctions"] = [
        {
            "group": groups.get(s.group_id),
            "kind": s.kind,
            "until": iso(s.until),
            "reason_given": s.reason,
            "at": iso(s.created_at),
            "lifted_at": iso(s.lifted_at),
        }
        for s in sanctions
    ]
    out["pinned_announcements"] = [
        {"group": groups.get(p.room_id), "text": p.pinned_text, "pinned_at": iso(p.pinned_at)}
        for p in pinned
    ]


async def _rooms_part(db: AsyncSession, uid: str, out: dict[str, Any]) -> None:
    reads = list(await db.scalars(select(RoomReadPosition).where(RoomReadPosition.user_id == uid)))
    rules = list(
        await db.scalars(
            select(RoomRulesAcceptance)
            .where(RoomRulesAcceptance.user_id == uid)
            .order_by(RoomRulesAcceptance.accepted_at)
        )
    )
    approved = list(
        await db.scalars(select(NewcomerProgress).where(NewcomerProgress.user_id == uid))
    )
    # Only the person's own messages: the rest of each conversation is other people's.
    messages = list(
        await db.scalars(
            select(RoomMessage)
            .where(RoomMessage.sender_id == uid)
            .order_by(RoomMessage.room_id, RoomMessage.seq)
        )
    )
    groups = await _groups(
        db,
        [r.room_id for r in reads]
        + [r.room_id for r in rules]
        + [m.room_id for m in messages]
        + [a.group_id for a in approved],
    )
    # How many of their first messages in a group moderators approved (docs/moderation.md).
    out["first_messages_approved"] = [
        {"group": groups.get(a.group_id), "approved": a.approved, "at": iso(a.updated_at)}
        for a in approved
    ]
    out["room_read_positions"] = [
        {"group": groups.get(r.room_id), "last_read_seq": r.last_read_seq, "at": iso(r.updated_at)}
        for r in reads
    ]
    out["room_rules_acceptances"] = [
        {"group": groups.get(r.room_id), "rules_version": r.version, "at": iso(r.accepted_at)}
        for r in rules
    ]
    out["room_messages"] = [
        {
            "group": groups.get(m.room_id),
            "room": m.room_id,
            "seq": m.seq,
            "kind": m.kind,
            "at": iso(m.created_at),
            # A redacted message's text is gone for everyone, its writer included.
            "body": "" if m.status == "redacted" else m.body,
            "status": m.status,
            "redaction_reason": m.redaction_reason,
        }
        for m in messages
    ]


async def _security_events(db: AsyncSession, uid: str) -> list[dict[str, Any]]:
    rows = await db.scalars(
        select(AuditEvent)
        .where(or_(AuditEvent.actor_id == uid, AuditEvent.subject_id == uid))
        .order_by(AuditEvent.id)
    )
    # The address is included only for what the person did themselves: a failed
    # sign-in "about" them may come from somebody else's address.
    return [
        {
            "at": iso(e.at),
            "action": e.action,
            "by_you": e.actor_id == uid,
            "address": e.client_ip if e.actor_id == uid else None,
        }
        for e in rows
    ]
