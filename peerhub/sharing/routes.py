"""The person's pages: what they share with whom, their crisis plan, and a person's
card as another member, moderator or organiser of a group may see it."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from peerhub import audit
from peerhub.accounts.routes import require_user
from peerhub.db import transaction
from peerhub.errors import NotFound
from peerhub.groups import actions as group_actions
from peerhub.groups.web import guarded
from peerhub.models import GroupMember, User
from peerhub.moderation.frames import changed
from peerhub.realtime.notify import notify_moderators
from peerhub.security.middleware import wants_json
from peerhub.sharing import rules
from peerhub.sharing.models import PLAN_FIELD_LIMIT, CrisisPlan, PersonProfile
from peerhub.web.render import ctx, error, form_text, render


def _wanted(form: FormData) -> set[tuple[str, str]]:
    out = set()
    for value in form.getlist("share"):
        if isinstance(value, str) and ":" in value:
            audience, _, item = value.partition(":")
            out.add((audience, item))
    return out


async def _my_rooms(db: AsyncSession, user: User) -> list[str]:
    found = await db.execute(
        select(GroupMember.group_id).where(
            GroupMember.user_id == user.id, GroupMember.status == "active"
        )
    )
    return list(found.scalars())


async def _tell_consoles(request: Request, rooms: list[str]) -> None:
    """Choices apply at once: open moderator consoles of the person's groups re-read."""
    for room in rooms:
        await notify_moderators(request.app, room, changed(room, "sharing"))


async def sharing_page(request: Request) -> Response:
    user = require_user(request)
    if isinstance(user, Response):
        return user
    async with ctx(request).sessions() as db:
        chosen = await rules.choices(db, user.id)
        profile = await db.get(PersonProfile, user.id)
        previews = {a: await rules.view_for(db, user, a) for a in rules.AUDIENCES}
    return render(
        request,
        "sharing/sharing.html",
        {
            "audiences": rules.AUDIENCES,
            "items": rules.ITEMS,
            "chosen": chosen,
            "profile": profile,
            "previews": previews,
            "saved": request.query_params.get("saved") == "1",
        },
    )


async def sharing_save(request: Request) -> Response:
    user = require_user(request)
    if isinstance(user, Response):
        return user
    app = ctx(request)
    form = await request.form()
    first_name = " ".join(form_text(form, "first_name", 200).split())
    pronouns = " ".join(form_text(form, "pronouns", 200).split())
    phone = " ".join(form_text(form, "phone", 200).split())
    problems = {}
    if len(first_name) > 60:
        problems["first_name"] = "Use at most 60 characters for your first name."
    if len(pronouns) > 40:
        problems["pronouns"] = "Use at most 40 characters for your pronouns."
    if len(phone) > 40 or (phone and not all(c.isdigit() or c in " +()-" for c in phone)):
        problems["phone"] = "Write the phone number with digits, spaces and + ( ) - only."
    if problems:
        field, message = next(iter(problems.items()))
        return error(request, 422, message, field=field)
    now = app.clock()
    async with transaction(app.sessions) as db:
        profile = await db.get(PersonProfile, user.id)
        if profile is None:
            profile = PersonProfile(user_id=user.id)
            db.add(profile)
        profile.first_name, profile.pronouns, profile.phone = first_name, pronouns, phone
        profile.updated_at = now
        wanted = _wanted(form)
        # The crisis plan's audiences are chosen on its own page too; this form covers
        # every item, so it is the whole truth.
        await rules.set_choices(db, user, wanted, now)
        rooms = await _my_rooms(db, user)
    await _tell_consoles(request, rooms)
    if wants_json(request.headers):
        return JSONResponse({"saved": True, "shared": sorted(f"{a}:{i}" for a, i in wanted)})
    return RedirectResponse("/account/sharing?saved=1", status_code=303)


async def plan_page(request: Request) -> Response:
    user = require_user(request)
    if isinstance(user, Response):
        return user
    async with ctx(request).sessions() as db:
        plan = await db.get(CrisisPlan, user.id)
        chosen = await rules.choices(db, user.id)
    return render(
        request,
        "sharing/crisis_plan.html",
        {
            "plan": plan,
            "fields": rules.PLAN_FIELDS,
            "audiences": rules.AUDIENCES,
            "shared_with": {a for a, i in chosen if i == "crisis_plan"},
            "saved": request.query_params.get("saved") == "1",
        },
    )


async def plan_save(request: Request) -> Response:
    user = require_user(request)
    if isinstance(user, Response):
        return user
    app = ctx(request)
    form = await request.form()
    values = {f: form_text(form, f, PLAN_FIELD_LIMIT + 1).strip() for f in rules.PLAN_FIELDS}
    for name, value in values.items():
        if len(value) > PLAN_FIELD_LIMIT:
            return error(
                request,
                422,
                f"Please keep “{rules.PLAN_FIELDS[name]}” under {PLAN_FIELD_LIMIT} characters.",
                field=name,
            )
    audiences = {a for a in form.getlist("plan_audience") if isinstance(a, str)}
    now = app.clock()
    async with transaction(app.sessions) as db:
        plan = await db.get(CrisisPlan, user.id)
        if plan is None:
            plan = CrisisPlan(user_id=user.id)
            db.add(plan)
        for name, value in values.items():
            setattr(plan, name, value)
        plan.updated_at = now
        chosen = await rules.choices(db, user.id)
        wanted = {c for c in chosen if c[1] != "crisis_plan"}
        wanted |= {(a, "crisis_plan") for a in audiences if a in rules.AUDIENCES}
        await rules.set_choices(db, user, wanted, now)
        # Never the plan's words in the audit trail: only that it changed.
        audit.record(db, now, "crisis_plan.saved", actor_id=user.id, subject_id=user.id)
        rooms = await _my_rooms(db, user)
    await _tell_consoles(request, rooms)
    if wants_json(request.headers):
        return JSONResponse(
            {"saved": True, "shared_with": sorted(audiences & set(rules.AUDIENCES))}
        )
    return RedirectResponse("/account/crisis-plan?saved=1", status_code=303)


@guarded
async def person_card(request: Request) -> Response:
    viewer = require_user(request)
    if isinstance(viewer, Response):
        return viewer
    slug, subject_id = request.path_params["slug"], request.path_params["user_id"]
    async with ctx(request).sessions() as db:
        group = await group_actions.group_by_slug(db, slug)
        subject = await db.get(User, subject_id) if len(subject_id) <= 36 else None
        if subject is None:
            raise NotFound(subject_id)
        audience = await rules.audience_in_group(db, viewer, subject.id, group.id)
        if audience is None:
            raise NotFound(subject_id)
        view = await rules.view_for(db, subject, "members" if audience == "self" else audience)
    if wants_json(request.headers):
        return JSONResponse({"group": group.slug, "audience": audience, "person": view})
    return render(
        request,
        "sharing/person.html",
        {
            "group": group,
            "audience": audience,
            "audience_text": rules.AUDIENCES.get(audience, ""),
            "person": view,
            "plan_fields": rules.PLAN_FIELDS,
        },
    )


routes: list[BaseRoute] = [
    Route("/account/sharing", sharing_page, methods=["GET"]),
    Route("/account/sharing", sharing_save, methods=["POST"]),
    Route("/account/crisis-plan", plan_page, methods=["GET"]),
    Route("/account/crisis-plan", plan_save, methods=["POST"]),
    Route("/groups/{slug}/people/{user_id}", person_card, methods=["GET"]),
]
