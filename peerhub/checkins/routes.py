"""The pages of private check-ins (docs/check-ins.md).

- ``POST /check-ins`` (``source`` = alert | report, ``source_id``, ``person`` for a
  report: subject | reporter): a moderator or organiser of the group asks.
- ``GET /check-ins``: the person's private conversations (as the member or the
  moderator who asked); they are never listed with their groups.
- ``GET /check-ins/{id}``, ``POST`` (``action`` = accept | decline | leave | close):
  for its two people only. The member sees who is asking and who can read it, and
  accepts, declines or leaves; the moderator sees how it stands, the member's crisis
  plan as the member shared it with the source group's moderators, and closes it.
- ``GET /duty/check-ins/{id}``: the organisation's safeguarding leads read the
  conversation (read only); ``GET /duty/organisations/{id}/check-ins`` lists the
  organisation's check-ins for them (linked from their duty desk). Anyone else: 404.
- ``GET``/``POST /organise/organisations/{id}/check-ins``: the organisation's quiet
  period, for its organisers.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from peerhub import i18n
from peerhub.checkins import actions
from peerhub.checkins.models import CheckIn
from peerhub.db import transaction
from peerhub.duty.actions import is_lead
from peerhub.errors import FieldError, NotFound
from peerhub.groups.page_helpers import field
from peerhub.i18n import _, lazy_gettext
from peerhub.models import Group, GroupRole, Organisation, OrganisationOrganiser, User
from peerhub.realtime.models import RoomMessage
from peerhub.security.permissions import group_rank
from peerhub.web.guards import signed_in
from peerhub.web.render import ctx, error, render

STATUS_NAMES = {
    "asked": lazy_gettext("Waiting for an answer"),
    "open": lazy_gettext("Open"),
    "declined": lazy_gettext("Declined"),
    "closed": lazy_gettext("Ended"),
}
REASON_NAMES = {
    "left": lazy_gettext("The member left it."),
    "closed": lazy_gettext("The moderator closed it."),
    "quiet": lazy_gettext("It closed by itself after a quiet period."),
    "declined": lazy_gettext("The member said no."),
}
#: At most this many messages on the leads' read-only page.
READ_LIMIT = 2000
#: At most this many check-ins on a list.
LIST_LIMIT = 500


def when(moment: datetime) -> str:
    """A moment in the page's language, day and minute (as the moderation log writes it)."""
    joined = str(i18n.current().locale.datetime_formats["medium"])
    return joined.replace("{1}", i18n.format_date(moment, "medium")).replace(
        "{0}", i18n.format_time(moment, "short")
    )


def _see_other(url: str) -> Response:
    return RedirectResponse(url, status_code=303)


async def _names(db: Any, ids: set[str | None]) -> dict[str, str]:
    wanted = sorted(i for i in ids if i)
    if not wanted:
        return {}
    rows = await db.execute(select(User.id, User.pseudonym).where(User.id.in_(wanted)))
    return {uid: name for uid, name in rows}


@signed_in
async def start(request: Request, user: User) -> Response:
    app = ctx(request)
    form = await request.form()
    kind = field(form, "source", 12)
    source_id = field(form, "source_id", 40)
    person = field(form, "person", 12)
    try:
        async with transaction(app.sessions) as db:
            source = await actions.source_of(db, kind, source_id, person)
            check_in = await actions.start(db, user, source, app.clock())
            found = check_in.id
    except FieldError as exc:
        return error(request, 422, exc.message, field=exc.field)
    return _see_other(f"/check-ins/{found}?done=asked")


@signed_in
async def mine(request: Request, user: User) -> Response:
    async with ctx(request).sessions() as db:
        rows = list(
            await db.scalars(
                select(CheckIn)
                .where(or_(CheckIn.member_id == user.id, CheckIn.asked_by == user.id))
                .order_by(CheckIn.created_at.desc())
                .limit(100)
            )
        )
        names = await _names(db, {c.asked_by for c in rows} | {c.member_id for c in rows})
    items = [
        {
            "id": c.id,
            "with": names.get((c.member_id if c.asked_by == user.id else c.asked_by) or "")
            or _("Someone"),
            "asked_by_me": c.asked_by == user.id,
            "status": STATUS_NAMES.get(c.status, c.status),
            "when": when(c.created_at),
            "at": c.created_at.isoformat(),
        }
        for c in rows
    ]
    return render(request, "checkins/mine.html", {"items": items})


async def _page_context(request: Request, user: User, check_in_id: str) -> dict[str, Any]:
    async with ctx(request).sessions() as db:
        check_in = await actions.find(db, user, check_in_id)
        group = await db.get(Group, check_in.group_id)
        if group is None:
            raise NotFound(check_in_id)
        names = await _names(db, {check_in.asked_by, check_in.member_id})
        is_asker = check_in.asked_by == user.id
        plan = None
        # Beside the conversation, as beside the alert: the member's crisis plan only as
        # they shared it with the moderators (organisers) of the group it came from.
        if is_asker and check_in.member_id and check_in.source_group_id:
            from peerhub.sharing.rules import view_for

            member = await db.get(User, check_in.member_id)
            rank = await group_rank(db, user, check_in.source_group_id)
            audience = "organisers" if rank >= GroupRole.ORGANISER else "moderators"
            if member is not None and rank >= GroupRole.MODERATOR:
                view = await view_for(db, member, audience, check_in.source_group_id)
                plan = view.get("crisis_plan")
        quiet = await actions.quiet_minutes(db, check_in.organisation_id)
    return {
        "check_in": check_in,
        "group": group,
        "is_asker": is_asker,
        "is_member": check_in.member_id == user.id,
        "asker": names.get(check_in.asked_by or "") or _("A moderator"),
        "member": names.get(check_in.member_id or "") or _("Someone"),
        "status": STATUS_NAMES.get(check_in.status, check_in.status),
        "reason": REASON_NAMES.get(check_in.closed_reason or ""),
        "asked": when(check_in.created_at),
        "closed": when(check_in.closed_at) if check_in.closed_at else None,
        "quiet": quiet,
        "plan": plan,
        "room_url": f"/groups/{group.slug}/room",
    }


@signed_in
async def page(request: Request, user: User) -> Response:
    context = await _page_context(request, user, request.path_params["check_in_id"])
    return render(request, "checkins/check_in.html", context)


@signed_in
async def act(request: Request, user: User) -> Response:
    app = ctx(request)
    check_in_id = request.path_params["check_in_id"]
    form = await request.form()
    what = field(form, "action", 12)
    try:
        async with transaction(app.sessions) as db:
            check_in = await actions.find(db, user, check_in_id, lock=True)
            now = app.clock()
            if what == "accept":
                await actions.accept(db, user, check_in, now)
            elif what == "decline":
                await actions.decline(db, user, check_in, now)
            elif what == "leave":
                await actions.leave(db, user, check_in, now)
            elif what == "close":
                await actions.close(db, user, check_in, now)
            else:
                raise FieldError("action", _("Choose what to do."))
            hidden = await db.get(Group, check_in.group_id)
            slug = hidden.slug if hidden is not None else ""
    except FieldError as exc:
        return error(request, 422, exc.message, field=exc.field)
    if what == "accept":
        return _see_other(f"/groups/{slug}/room")
    return _see_other(f"/check-ins/{check_in_id}?done={what}")


# --- the safeguarding leads' read-only page ------------------------------------------------


@signed_in
async def lead_page(request: Request, user: User) -> Response:
    check_in_id = request.path_params["check_in_id"]
    async with ctx(request).sessions() as db:
        check_in = await db.get(CheckIn, check_in_id) if len(check_in_id) <= 36 else None
        # Only the organisation's safeguarding leads: not its organisers, not the
        # administrators (docs/check-ins.md); everyone else learns nothing.
        if check_in is None or not await is_lead(db, user.id, check_in.organisation_id):
            raise NotFound(check_in_id)
        source_group = (
            await db.get(Group, check_in.source_group_id) if check_in.source_group_id else None
        )
        rows = (
            await db.execute(
                select(RoomMessage, User.pseudonym)
                .outerjoin(User, User.id == RoomMessage.sender_id)
                .where(RoomMessage.room_id == check_in.group_id, RoomMessage.kind == "text")
                .order_by(RoomMessage.seq)
                .limit(READ_LIMIT)
            )
        ).all()
        names = await _names(db, {check_in.asked_by, check_in.member_id, check_in.closed_by})
    messages = [
        {
            "who": name or _("Someone"),
            "when": when(m.created_at),
            "at": m.created_at.isoformat(),
            "body": m.body if m.status in ("visible", "held", "rejected") else None,
            "status": m.status,
        }
        for m, name in rows
    ]
    return render(
        request,
        "checkins/lead.html",
        {
            "check_in": check_in,
            "source_group": source_group,
            "asker": names.get(check_in.asked_by or "") or _("Someone"),
            "member": names.get(check_in.member_id or "") or _("Someone"),
            "status": STATUS_NAMES.get(check_in.status, check_in.status),
            "reason": REASON_NAMES.get(check_in.closed_reason or ""),
            "asked": when(check_in.created_at),
            "closed": when(check_in.closed_at) if check_in.closed_at else None,
            "messages": messages,
            "limit": READ_LIMIT,
        },
    )


@signed_in
async def lead_list(request: Request, user: User) -> Response:
    """The organisation's private check-ins, newest first, for its safeguarding leads."""
    organisation_id = request.path_params["organisation_id"]
    async with ctx(request).sessions() as db:
        org = await db.get(Organisation, organisation_id) if len(organisation_id) <= 36 else None
        if org is None or not await is_lead(db, user.id, org.id):
            raise NotFound(organisation_id)
        rows = list(
            await db.scalars(
                select(CheckIn)
                .where(CheckIn.organisation_id == org.id)
                .order_by(CheckIn.created_at.desc())
                .limit(LIST_LIMIT)
            )
        )
        names = await _names(db, {c.asked_by for c in rows} | {c.member_id for c in rows})
    items = [
        {
            "id": c.id,
            "asker": names.get(c.asked_by or "") or _("Someone"),
            "member": names.get(c.member_id or "") or _("Someone"),
            "status": STATUS_NAMES.get(c.status, c.status),
            "when": when(c.created_at),
            "at": c.created_at.isoformat(),
        }
        for c in rows
    ]
    return render(
        request, "checkins/lead_list.html", {"org": org, "items": items, "limit": LIST_LIMIT}
    )


# --- the organisation's quiet period ------------------------------------------------------


async def _organised(db: AsyncSession, user: User, organisation_id: str) -> Organisation:
    org = await db.get(Organisation, organisation_id) if len(organisation_id) <= 36 else None
    if org is None:
        raise NotFound(organisation_id)
    organiser = await db.get(OrganisationOrganiser, (organisation_id, user.id))
    if organiser is None:
        raise NotFound(organisation_id)
    return org


@signed_in
async def settings_page(request: Request, user: User) -> Response:
    organisation_id = request.path_params["org_id"]
    async with ctx(request).sessions() as db:
        org = await _organised(db, user, organisation_id)
        minutes = await actions.quiet_minutes(db, org.id)
    return render(
        request,
        "checkins/settings.html",
        {"org": org, "values": {"quiet_minutes": str(minutes)}, "errors": {}},
    )


@signed_in
async def settings_save(request: Request, user: User) -> Response:
    app = ctx(request)
    organisation_id = request.path_params["org_id"]
    form = await request.form()
    text = field(form, "quiet_minutes", 10).strip()
    try:
        async with transaction(app.sessions) as db:
            org = await _organised(db, user, organisation_id)
            if not text.isdigit():
                raise FieldError("quiet_minutes", _("Enter a whole number of minutes."))
            await actions.set_quiet_minutes(db, user, org.id, int(text), app.clock())
    except FieldError as exc:
        async with app.sessions() as db:
            org = await _organised(db, user, organisation_id)
        return render(
            request,
            "checkins/settings.html",
            {
                "org": org,
                "values": {"quiet_minutes": text},
                "errors": {exc.field: exc.message},
            },
            status=422,
        )
    return _see_other(f"/organise/organisations/{organisation_id}/check-ins?done=saved")


routes: list[BaseRoute] = [
    Route("/check-ins", mine, methods=["GET"]),
    Route("/check-ins", start, methods=["POST"]),
    Route("/check-ins/{check_in_id}", page, methods=["GET"]),
    Route("/check-ins/{check_in_id}", act, methods=["POST"]),
    Route("/duty/check-ins/{check_in_id}", lead_page, methods=["GET"]),
    Route("/duty/organisations/{organisation_id}/check-ins", lead_list, methods=["GET"]),
    Route("/organise/organisations/{org_id}/check-ins", settings_page, methods=["GET"]),
    Route("/organise/organisations/{org_id}/check-ins", settings_save, methods=["POST"]),
]
