"""The duty desk's pages.

- ``GET /duty``: what waits for the signed-in person: crisis alerts of their groups
  and organisations still open, serious incidents waiting for their review, and the
  safeguarding logs they keep.
- ``GET /duty/alerts/{id}``, ``POST`` (``action`` = open | close | review): one crisis
  alert's record: when it was raised, who was told and by which channel, who opened
  it and when, what was done. The organisation's safeguarding leads, PeerHub's
  administrators and whoever closed it see what was done and the words recorded;
  organisers and moderators see that it was handled.
- ``GET /duty/reports/{id}``: a report's state, for the link its escalation sends.
- ``GET /duty/log/{organisation_id}`` (``?format=csv`` for a file): the organisation's
  safeguarding log, for its safeguarding leads (and administrators), filterable by
  group, outcome, state and dates. It holds no message text: only what the person
  closing an alert chose to record.
"""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import and_, or_, select
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from peerhub import notify
from peerhub.db import transaction
from peerhub.duty import actions
from peerhub.duty.actions import Role
from peerhub.errors import FieldError, NotFound
from peerhub.groups.page_helpers import field, invalid
from peerhub.i18n import _, lazy_gettext
from peerhub.models import (
    Group,
    GroupMember,
    Organisation,
    OrganisationOrganiser,
    SafeguardingLead,
    User,
)
from peerhub.moderation.models import (
    ALERT_OUTCOMES,
    REPORT_CATEGORIES,
    CrisisAlert,
    ModerationEvent,
    Report,
)
from peerhub.moderation.pages import when
from peerhub.realtime.models import RoomMessage
from peerhub.web.guards import signed_in
from peerhub.web.render import ctx, render

LOG_LIMIT = 1000

CHANNEL_NAMES = {
    "page": lazy_gettext("on PeerHub"),
    "email": lazy_gettext("by e-mail"),
    "push": lazy_gettext("by push notification"),
    "sms": lazy_gettext("by text message"),
}
STATUS_NAMES = {
    "unread": lazy_gettext("not seen yet"),
    "seen": lazy_gettext("seen"),
    "sent": lazy_gettext("sent"),
    "failed": lazy_gettext("could not be sent"),
    "pending": lazy_gettext("waiting to be sent"),
}
LEVEL_NAMES = {
    0: lazy_gettext("the group’s moderators"),
    1: lazy_gettext("the group’s organisers"),
    2: lazy_gettext("the safeguarding leads"),
}


def _see_other(url: str) -> Response:
    return RedirectResponse(url, status_code=303)


async def _names(db: Any, ids: set[str | None]) -> dict[str, str]:
    wanted = sorted(i for i in ids if i)
    if not wanted:
        return {}
    rows = await db.execute(select(User.id, User.pseudonym).where(User.id.in_(wanted)))
    return {uid: name for uid, name in rows}


# --- one alert ---------------------------------------------------------------------------


async def _alert_context(request: Request, user: User, alert_id: str) -> dict[str, Any]:
    async with ctx(request).sessions() as db:
        found = await actions.find(db, user, alert_id)
        alert, group = found.alert, found.group
        told = await notify.deliveries(db, f"alert:{alert.id}")
        told += await notify.deliveries(db, f"review:{alert.id}")
        events = list(
            await db.scalars(
                select(ModerationEvent)
                .where(
                    ModerationEvent.group_id == group.id,
                    ModerationEvent.message_seq == alert.message_seq,
                    ModerationEvent.action.in_(
                        (
                            "alert.opened",
                            "alert.escalated",
                            "alert.seen",
                            "alert.reviewed",
                            "alert.review_overdue",
                        )
                    ),
                )
                .order_by(ModerationEvent.id)
            )
        )
        message = await db.get(RoomMessage, (group.id, alert.message_seq))
        names = await _names(
            db,
            {alert.user_id, alert.opened_by, alert.handled_by, alert.reviewed_by}
            | {t.user_id for t in told}
            | {e.actor_id for e in events},
        )
        plan = None
        # Beside the alert as in the room's console: for the group's own moderators and
        # organisers, only as the person shared it with them.
        if found.role in (Role.MODERATOR, Role.ORGANISER) and alert.user_id:
            from peerhub.sharing.rules import view_for

            person = await db.get(User, alert.user_id)
            audience = "organisers" if found.role == Role.ORGANISER else "moderators"
            if person is not None:
                plan = (await view_for(db, person, audience, group.id)).get("crisis_plan")
    sees_record = found.role >= Role.LEAD or alert.handled_by == user.id
    # The flagged message itself, as the room holds it now (redacted or removed: not shown).
    words = message.body if message is not None and message.status == "visible" else None
    return {
        "alert": alert,
        "group": group,
        "role": int(found.role),
        "is_lead": found.role >= Role.LEAD,
        "sees_record": sees_record,
        "person": names.get(alert.user_id or "") or _("Someone"),
        "words": words,
        "plan": plan,
        "raised": when(alert.created_at),
        "opened_by": names.get(alert.opened_by or ""),
        "opened": when(alert.opened_at) if alert.opened_at else None,
        "handled_by": names.get(alert.handled_by or ""),
        "handled": when(alert.handled_at) if alert.handled_at else None,
        "outcome": ALERT_OUTCOMES.get(alert.outcome or ""),
        "review_due": when(alert.review_due_at) if alert.review_due_at else None,
        "reviewed_by": names.get(alert.reviewed_by or ""),
        "reviewed": when(alert.reviewed_at) if alert.reviewed_at else None,
        "level": LEVEL_NAMES.get(alert.level, LEVEL_NAMES[2]),
        "told": [
            {
                "name": names.get(t.user_id) or _("Someone"),
                "channel": CHANNEL_NAMES.get(t.channel, t.channel),
                "status": STATUS_NAMES.get(t.status, t.status),
                "when": when(t.at),
                "at": t.at.isoformat(),
                "attempts": t.attempts,
            }
            for t in told
        ],
        "steps": [
            {
                "when": when(e.at),
                "at": e.at.isoformat(),
                "text": _step_text(e, names),
            }
            for e in events
        ],
        "outcomes": ALERT_OUTCOMES,
        "values": {},
        "errors": {},
    }


def _step_text(event: ModerationEvent, names: dict[str, str]) -> str:
    who = names.get(event.actor_id or "") or _("Someone")
    if event.action == "alert.opened":
        return _("%(name)s opened it.", name=who)
    if event.action == "alert.escalated":
        level = int(event.detail.get("step", 1)) if isinstance(event.detail, dict) else 1
        told = int(event.detail.get("told", 0)) if isinstance(event.detail, dict) else 0
        return _(
            "Nobody on duty had opened it: %(who)s were told (%(count)s people).",
            who=LEVEL_NAMES.get(level, LEVEL_NAMES[2]),
            count=told,
        )
    if event.action == "alert.seen":
        return _("%(name)s closed it.", name=who)
    if event.action == "alert.reviewed":
        return _("%(name)s reviewed it.", name=who)
    return _("The review fell due: the safeguarding leads were reminded.")


@signed_in
async def alert_page(request: Request, user: User) -> Response:
    context = await _alert_context(request, user, request.path_params["alert_id"])
    return render(request, "duty/alert.html", context)


@signed_in
async def alert_act(request: Request, user: User) -> Response:
    app = ctx(request)
    alert_id = request.path_params["alert_id"]
    form = await request.form()
    what = field(form, "action", 20)
    values = {"outcome": field(form, "outcome", 20), "note": field(form, "note", 2000)}
    try:
        async with transaction(app.sessions) as db:
            found = await actions.find(db, user, alert_id, lock=True)
            now = app.clock()
            if what == "open":
                if found.alert.handled_at is None:
                    actions.open_alert(db, found.alert, user.id, now)
            elif what == "close":
                await actions.close_alert(
                    db, found.alert, found.group, user.id, values["outcome"], values["note"], now
                )
            elif what == "review":
                await actions.review(db, found, user.id, field(form, "review", 4000), now)
            else:
                raise FieldError("outcome", _("Choose what to do."))
    except FieldError as exc:
        context = await _alert_context(request, user, alert_id)
        context["values"] = values
        return invalid(request, "duty/alert.html", context, exc)
    return _see_other(f"/duty/alerts/{alert_id}?done={what}")


# --- one report ---------------------------------------------------------------------------


@signed_in
async def report_page(request: Request, user: User) -> Response:
    report_id = request.path_params["report_id"]
    async with ctx(request).sessions() as db:
        report = await db.get(Report, report_id)
        group = await db.get(Group, report.group_id) if report is not None else None
        if report is None or group is None:
            raise NotFound(report_id)
        role = await actions.role_for(db, user, group)
        if role == Role.NONE:
            raise NotFound(report_id)
    return render(
        request,
        "duty/report.html",
        {
            "report": report,
            "group": group,
            "in_room": role in (Role.MODERATOR, Role.ORGANISER),
            "category": REPORT_CATEGORIES.get(report.category, report.category),
            "raised": when(report.created_at),
            "level": LEVEL_NAMES.get(report.level, LEVEL_NAMES[2]),
            "resolved": when(report.resolved_at) if report.resolved_at else None,
        },
    )


# --- the desk -----------------------------------------------------------------------------


@signed_in
async def desk(request: Request, user: User) -> Response:
    async with ctx(request).sessions() as db:
        led = list(
            await db.scalars(
                select(Organisation)
                .join(SafeguardingLead, SafeguardingLead.organisation_id == Organisation.id)
                .where(SafeguardingLead.user_id == user.id)
                .order_by(Organisation.name)
            )
        )
        organised = select(OrganisationOrganiser.organisation_id).where(
            OrganisationOrganiser.user_id == user.id
        )
        moderated = select(GroupMember.group_id).where(
            GroupMember.user_id == user.id,
            GroupMember.role == "moderator",
            GroupMember.status == "active",
        )
        mine = or_(
            # (Not a private check-in's room: its organisers have no rank there.)
            and_(Group.organisation_id.in_(organised), Group.kind == "group"),
            Group.organisation_id.in_([o.id for o in led]),
            Group.id.in_(moderated),
        )
        if user.is_admin:
            mine = or_(mine, CrisisAlert.level >= 2)
        rows = (
            await db.execute(
                select(CrisisAlert, Group)
                .join(Group, Group.id == CrisisAlert.group_id)
                .where(
                    mine,
                    or_(
                        CrisisAlert.handled_at.is_(None),
                        and_(
                            CrisisAlert.review_due_at.is_not(None),
                            CrisisAlert.reviewed_at.is_(None),
                            Group.organisation_id.in_([o.id for o in led]),
                        ),
                    ),
                )
                .order_by(CrisisAlert.created_at)
                .limit(200)
            )
        ).all()
    open_alerts = [
        {
            "id": a.id,
            "group": g.name,
            "when": when(a.created_at),
            "opened": a.opened_at is not None,
            "level": LEVEL_NAMES.get(a.level, LEVEL_NAMES[2]),
        }
        for a, g in rows
        if a.handled_at is None
    ]
    reviews = [
        {
            "id": a.id,
            "group": g.name,
            "when": when(a.created_at),
            "due": when(a.review_due_at) if a.review_due_at else "",
        }
        for a, g in rows
        if a.handled_at is not None
    ]
    return render(
        request,
        "duty/desk.html",
        {"open_alerts": open_alerts, "reviews": reviews, "led": led},
    )


# --- the safeguarding log ---------------------------------------------------------------------

STATES = {
    "open": lazy_gettext("Still open"),
    "closed": lazy_gettext("Closed"),
    "review": lazy_gettext("Review waiting"),
}


def _day(text: str) -> date | None:
    try:
        return date.fromisoformat(text) if text else None
    except ValueError:
        return None


@signed_in
async def log_page(request: Request, user: User) -> Response:
    organisation_id = request.path_params["organisation_id"]
    q = request.query_params
    chosen = {
        "group": q.get("group", "")[:36],
        "outcome": q.get("outcome", "")[:20],
        "state": q.get("state", "")[:10],
        "from": q.get("from", "")[:10],
        "to": q.get("to", "")[:10],
    }
    async with ctx(request).sessions() as db:
        org = await db.get(Organisation, organisation_id) if len(organisation_id) <= 36 else None
        if org is None or not (user.is_admin or await actions.is_lead(db, user.id, org.id)):
            raise NotFound(organisation_id)
        groups = list(
            await db.scalars(
                select(Group).where(Group.organisation_id == org.id).order_by(Group.name)
            )
        )
        query = (
            select(CrisisAlert, Group)
            .join(Group, Group.id == CrisisAlert.group_id)
            .where(Group.organisation_id == org.id)
        )
        if chosen["group"] in {g.id for g in groups}:
            query = query.where(Group.id == chosen["group"])
        if chosen["outcome"] in ALERT_OUTCOMES:
            query = query.where(CrisisAlert.outcome == chosen["outcome"])
        if chosen["state"] == "open":
            query = query.where(CrisisAlert.handled_at.is_(None))
        elif chosen["state"] == "closed":
            query = query.where(CrisisAlert.handled_at.is_not(None))
        elif chosen["state"] == "review":
            query = query.where(
                CrisisAlert.review_due_at.is_not(None), CrisisAlert.reviewed_at.is_(None)
            )
        start, end = _day(chosen["from"]), _day(chosen["to"])
        if start is not None:
            query = query.where(CrisisAlert.created_at >= datetime.combine(start, time(), UTC))
        if end is not None:
            query = query.where(
                CrisisAlert.created_at < datetime.combine(end, time(), UTC) + timedelta(days=1)
            )
        rows = (
            await db.execute(query.order_by(CrisisAlert.created_at.desc()).limit(LOG_LIMIT))
        ).all()
        names = await _names(
            db,
            {a.user_id for a, _g in rows}
            | {a.opened_by for a, _g in rows}
            | {a.handled_by for a, _g in rows}
            | {a.reviewed_by for a, _g in rows},
        )
    entries = [
        {
            "id": a.id,
            "group": g.name,
            "raised": when(a.created_at),
            "raised_at": a.created_at.isoformat(),
            "person": names.get(a.user_id or "") or _("Someone"),
            "level": LEVEL_NAMES.get(a.level, LEVEL_NAMES[2]),
            "opened": (
                _(
                    "%(name)s, %(when)s",
                    name=names.get(a.opened_by or "") or _("Someone"),
                    when=when(a.opened_at),
                )
                if a.opened_at
                else ""
            ),
            "closed": (
                _(
                    "%(name)s, %(when)s",
                    name=names.get(a.handled_by or "") or _("Someone"),
                    when=when(a.handled_at),
                )
                if a.handled_at
                else ""
            ),
            "outcome": str(ALERT_OUTCOMES.get(a.outcome or "", "")),
            "note": a.outcome_note,
            "review": (
                _(
                    "Reviewed by %(name)s, %(when)s",
                    name=names.get(a.reviewed_by or "") or _("Someone"),
                    when=when(a.reviewed_at),
                )
                if a.reviewed_at
                else (_("Due by %(when)s", when=when(a.review_due_at)) if a.review_due_at else "")
            ),
            "review_note": a.review_note,
        }
        for a, g in rows
    ]
    if q.get("format") == "csv":
        return _csv(org, entries)
    return render(
        request,
        "duty/log.html",
        {
            "org": org,
            "groups": groups,
            "entries": entries,
            "chosen": chosen,
            "outcomes": ALERT_OUTCOMES,
            "states": STATES,
            "limit": LOG_LIMIT,
            "query": request.url.query,
        },
    )


def _csv(org: Organisation, entries: list[dict[str, Any]]) -> Response:
    out = io.StringIO()
    writer = csv.writer(out)
    columns = [
        ("raised_at", _("Raised")),
        ("group", _("Group")),
        ("person", _("Person")),
        ("level", _("Told up to")),
        ("opened", _("Opened")),
        ("closed", _("Closed")),
        ("outcome", _("What was done")),
        ("note", _("Recorded words")),
        ("review", _("Review")),
        ("review_note", _("Review notes")),
    ]
    writer.writerow([str(title) for _key, title in columns])
    for entry in entries:
        writer.writerow([_spreadsheet_safe(str(entry[key])) for key, _title in columns])
    name = f"safeguarding-log-{org.slug}.csv"
    return Response(
        out.getvalue(),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


def _spreadsheet_safe(value: str) -> str:
    """A cell a spreadsheet will not run as a formula (CSV injection, OWASP)."""
    return "'" + value if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value


routes: list[BaseRoute] = [
    Route("/duty", desk, methods=["GET"]),
    Route("/duty/alerts/{alert_id}", alert_page, methods=["GET"]),
    Route("/duty/alerts/{alert_id}", alert_act, methods=["POST"]),
    Route("/duty/reports/{report_id}", report_page, methods=["GET"]),
    Route("/duty/log/{organisation_id}", log_page, methods=["GET"]),
]
