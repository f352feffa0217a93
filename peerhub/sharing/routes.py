"""The person's pages: what they share with whom, their crisis plan, and a person's
card as another member, moderator or organiser of a group may see it."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from peerhub import audit
from peerhub.db import transaction
from peerhub.errors import NotFound
from peerhub.groups import actions as group_actions
from peerhub.i18n import _, format_list, format_number, lazy_gettext
from peerhub.models import Group, GroupMember, User
from peerhub.moderation.frames import changed
from peerhub.realtime import after_commit
from peerhub.security.middleware import wants_json
from peerhub.sharing import rules
from peerhub.sharing.models import PLAN_FIELD_LIMIT, CrisisPlan, PersonProfile
from peerhub.sharing.names import NAMES
from peerhub.web.guards import signed_in
from peerhub.web.render import ctx, error, form_text
from peerhub.web.render import render as render_page


def render(request: Request, template: str, context: dict[str, Any], **kwargs: Any) -> Response:
    """A page of this area: group names in the page's language (peerhub/sharing/names.py)."""
    return render_page(request, template, {**NAMES, **context}, **kwargs)


def _wanted(form: FormData, audiences: tuple[str, ...] | dict[str, str]) -> rules.Choices:
    return rules.parse_choices([v for v in form.getlist("share") if isinstance(v, str)], audiences)


async def _my_rooms(db: AsyncSession, user: User) -> list[str]:
    found = await db.execute(
        select(GroupMember.group_id).where(
            GroupMember.user_id == user.id, GroupMember.status == "active"
        )
    )
    return list(found.scalars())


def _tell_consoles(db: AsyncSession, rooms: list[str]) -> None:
    """Choices apply at once: open moderator consoles of the person's groups re-read
    (once this transaction commits)."""
    for room in rooms:
        after_commit.to_moderators(db, room, changed(room, "sharing"))


# What an audience sees, item by item, in the words of :func:`summary`.
_SEEN: tuple[tuple[str, Any], ...] = (
    ("first_name", lazy_gettext("your first name")),
    ("pronouns", lazy_gettext("your pronouns")),
    ("languages", lazy_gettext("your languages")),
    ("communities", lazy_gettext("your communities")),
    ("stage", lazy_gettext("your stage")),
    ("contact", lazy_gettext("your contact details")),
    ("crisis_plan", lazy_gettext("your crisis plan")),
)


def summary(view: dict[str, Any]) -> str:
    """What an audience sees, in a few words ("only your name" when nothing more)."""
    parts = [str(label) for key, label in _SEEN if view.get(key)]
    if not parts:
        return _("Only your name on PeerHub")
    return format_list([_("Your name on PeerHub"), *parts])


@signed_in
async def sharing_page(request: Request, user: User) -> Response:
    async with ctx(request).sessions() as db:
        chosen = await rules.choices(db, user.id)
        profile = await db.get(PersonProfile, user.id)
        referrer = await rules.view_for(db, user, "referrer")
        groups = await rules.my_groups(db, user.id)
        previews = {
            g.group.id: {
                a: summary(await rules.view_for(db, user, a, g.group.id))
                for a in rules.GROUP_AUDIENCES
            }
            for g in groups
        }
    return render(
        request,
        "sharing/sharing.html",
        {
            "items": rules.ITEMS,
            "group_audiences": rules.GROUP_AUDIENCES,
            "chosen": chosen,
            "profile": profile,
            "referrer": referrer,
            "groups": groups,
            "previews": previews,
            "saved": request.query_params.get("saved") == "1",
        },
    )


@signed_in
async def sharing_save(request: Request, user: User) -> Response:
    """The person's details, and what a professional who referred them may see.

    Group audiences are chosen per group (:func:`group_sharing_save`); an
    ``audience:item`` for a group audience posted here is ignored.
    """
    app = ctx(request)
    form = await request.form()
    first_name = " ".join(form_text(form, "first_name", 200).split())
    pronouns = " ".join(form_text(form, "pronouns", 200).split())
    phone = " ".join(form_text(form, "phone", 200).split())
    problems = {}
    if len(first_name) > 60:
        problems["first_name"] = _("Use at most 60 characters for your first name.")
    if len(pronouns) > 40:
        problems["pronouns"] = _("Use at most 40 characters for your pronouns.")
    if len(phone) > 40 or (phone and not all(c.isdigit() or c in " +()-" for c in phone)):
        problems["phone"] = _("Write the phone number with digits, spaces and + ( ) - only.")
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
        wanted = _wanted(form, rules.PERSON_AUDIENCES)
        # The crisis plan's audiences are chosen on its own page too; this form covers
        # every item for the referrer, so it is the whole truth for that audience.
        await rules.set_choices(db, user, wanted, now)
        # A changed detail (a phone number, say) changes what the groups see too.
        _tell_consoles(db, await _my_rooms(db, user))
    if wants_json(request.headers):
        return JSONResponse({"saved": True, "shared": sorted(f"{a}:{i}" for a, i in wanted)})
    return RedirectResponse("/account/sharing?saved=1", status_code=303)


async def _my_place(db: AsyncSession, user: User, slug: str) -> Group:
    """The group, if the person has a place in it (or asked for one); NotFound otherwise."""
    group = await group_actions.group_by_slug(db, slug)
    if await db.get(GroupMember, (group.id, user.id)) is None:
        raise NotFound(slug)
    return group


@signed_in
async def group_sharing_page(request: Request, user: User) -> Response:
    async with ctx(request).sessions() as db:
        group = await _my_place(db, user, request.path_params["slug"])
        chosen = await rules.group_choices(db, user.id, group.id)
        previews = {
            a: summary(await rules.view_for(db, user, a, group.id)) for a in rules.GROUP_AUDIENCES
        }
    return render(
        request,
        "sharing/group.html",
        {
            "group": group,
            "verified": group.organisation.verified_at is not None,
            "items": rules.ITEMS,
            "group_audiences": rules.GROUP_AUDIENCES,
            "chosen": chosen,
            "previews": previews,
            "saved": request.query_params.get("saved") == "1",
        },
    )


@signed_in
async def group_sharing_save(request: Request, user: User) -> Response:
    """What this one group's members, moderators and organisers may see: the whole truth."""
    app = ctx(request)
    form = await request.form()
    wanted = _wanted(form, rules.GROUP_AUDIENCES)
    async with transaction(app.sessions) as db:
        group = await _my_place(db, user, request.path_params["slug"])
        await rules.set_group_choices(db, user, group.id, wanted, app.clock())
        _tell_consoles(db, [group.id])
    if wants_json(request.headers):
        return JSONResponse(
            {"saved": True, "group": group.slug, "shared": sorted(f"{a}:{i}" for a, i in wanted)}
        )
    return RedirectResponse(f"/account/sharing/groups/{group.slug}?saved=1", status_code=303)


@signed_in
async def plan_page(request: Request, user: User) -> Response:
    async with ctx(request).sessions() as db:
        plan = await db.get(CrisisPlan, user.id)
        chosen = await rules.choices(db, user.id)
        groups = await rules.my_groups(db, user.id)
    return render(
        request,
        "sharing/crisis_plan.html",
        {
            "plan": plan,
            "fields": rules.PLAN_FIELDS,
            "group_audiences": rules.GROUP_AUDIENCES,
            "referrer_text": rules.AUDIENCES["referrer"],
            "referrer_shared": ("referrer", "crisis_plan") in chosen,
            "groups": groups,
            "saved": request.query_params.get("saved") == "1",
        },
    )


def _plan_audiences(form: FormData) -> tuple[bool, dict[str, set[str]]]:
    """The referrer box, and each group's boxes (``<group id>:<audience>``)."""
    referrer = "referrer" in form.getlist("plan_audience")
    per_group: dict[str, set[str]] = {}
    for value in form.getlist("plan_group"):
        if isinstance(value, str):
            group_id, _, audience = value.partition(":")
            if audience in rules.GROUP_AUDIENCES:
                per_group.setdefault(group_id, set()).add(audience)
    return referrer, per_group


@signed_in
async def plan_save(request: Request, user: User) -> Response:
    app = ctx(request)
    form = await request.form()
    values = {f: form_text(form, f, PLAN_FIELD_LIMIT + 1).strip() for f in rules.PLAN_FIELDS}
    for name, value in values.items():
        if len(value) > PLAN_FIELD_LIMIT:
            return error(
                request,
                422,
                _(
                    "Please keep “%(field)s” under %(limit)s characters.",
                    field=str(rules.PLAN_FIELDS[name]),
                    limit=format_number(PLAN_FIELD_LIMIT),
                ),
                field=name,
            )
    referrer, per_group = _plan_audiences(form)
    now = app.clock()
    shared_with: list[str] = []
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
        if referrer:
            wanted.add(("referrer", "crisis_plan"))
            shared_with.append("referrer")
        await rules.set_choices(db, user, wanted, now)
        # Every group the person is in: the form shows a box per audience for each,
        # so an unticked box withdraws. Ids of groups they are not in are ignored.
        for mine in await rules.my_groups(db, user.id):
            gid = mine.group.id
            keep = {c for c in mine.chosen if c[1] != "crisis_plan"}
            audiences = per_group.get(gid, set())
            keep |= {(a, "crisis_plan") for a in audiences}
            await rules.set_group_choices(db, user, gid, keep, now)
            shared_with += sorted(f"{mine.group.slug}:{a}" for a in audiences)
        # Never the plan's words in the audit trail: only that it changed.
        audit.record(db, now, "crisis_plan.saved", actor_id=user.id, subject_id=user.id)
        _tell_consoles(db, await _my_rooms(db, user))
    if wants_json(request.headers):
        return JSONResponse({"saved": True, "shared_with": shared_with})
    return RedirectResponse("/account/crisis-plan?saved=1", status_code=303)


@signed_in
async def person_card(request: Request, viewer: User) -> Response:
    slug, subject_id = request.path_params["slug"], request.path_params["user_id"]
    async with ctx(request).sessions() as db:
        group = await group_actions.group_by_slug(db, slug)
        subject = await db.get(User, subject_id) if len(subject_id) <= 36 else None
        if subject is None:
            raise NotFound(subject_id)
        audience = await rules.audience_in_group(db, viewer, subject.id, group.id)
        if audience is None:
            raise NotFound(subject_id)
        view = await rules.view_for(
            db, subject, "members" if audience == "self" else audience, group.id
        )
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
    Route("/account/sharing/groups/{slug}", group_sharing_page, methods=["GET"]),
    Route("/account/sharing/groups/{slug}", group_sharing_save, methods=["POST"]),
    Route("/account/crisis-plan", plan_page, methods=["GET"]),
    Route("/account/crisis-plan", plan_save, methods=["POST"]),
    Route("/groups/{slug}/people/{user_id}", person_card, methods=["GET"]),
]
