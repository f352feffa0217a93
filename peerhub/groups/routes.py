"""Joining and leaving a group, and the table of every group and organiser route.

``GET /groups/{slug}/join`` shows the ground rules and one button; the button joins
an open group, asks to join a by-request group, or puts the person on a full
group's waiting list. People who are not signed in are asked to sign in or join
PeerHub and are brought back here. ``POST /groups/{slug}/leave`` leaves at once.
``POST /account/invitations`` accepts or declines an invitation to moderate a group
or organise an organisation. The public group page itself (``/groups/{slug}``)
belongs to the directory.
"""

from __future__ import annotations

from urllib.parse import quote

from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from peerhub.accounts import twofactor
from peerhub.accounts.page_helpers import safe_next
from peerhub.db import transaction
from peerhub.errors import FieldError, NotFound
from peerhub.groups import (
    actions,
    answers,
    community_routes,
    invitations,
    organise,
    text_routes,
    texts,
)
from peerhub.groups.page_helpers import field, when
from peerhub.i18n import _
from peerhub.models import GroupMember, GroupRole, User, WaitlistEntry
from peerhub.schedule import describe, occurrences
from peerhub.security.middleware import wants_json
from peerhub.security.permissions import group_rank
from peerhub.sharing import rules as sharing
from peerhub.web import work
from peerhub.web.guards import optional_user, signed_in
from peerhub.web.render import ctx, error, render


async def _join_context(request: Request, slug: str) -> dict[str, object]:
    app = ctx(request)
    user = optional_user(request)
    state = "signed_out"
    answer = None
    place = None
    async with app.sessions() as db:
        group = await actions.group_by_slug(db, slug)
        if not actions.is_checked(group):
            # Not open to anyone until PeerHub has checked its organisation: the
            # same 404 as its public page, so no PeerHub page vouches for it.
            raise NotFound(slug)
        left = await actions.places_left(db, group)
        if user is not None:
            membership = await db.get(GroupMember, (group.id, user.id))
            waiting = await db.get(WaitlistEntry, (group.id, user.id))
            if await group_rank(db, user, group.id) == GroupRole.ORGANISER:
                state = "organiser"
            elif membership is not None and membership.status == "active":
                state = "moderator" if membership.role == "moderator" else "member"
            elif membership is not None:
                state = "requested"
            elif waiting is not None:
                state = "waiting"
            elif await actions.is_banned(db, group.id, user.id):
                state = "banned"
            else:
                state = "can_join"
                last = (await answers.latest(db, user.id)).get(group.id)
                answer = last if last is not None and not last.accepted else None
        # Right after joining, and whenever they come back: the way into the room.
        place = (
            await work.place_in(db, user, group.id, app.clock(), work.presence_of(request))
            if state in ("member", "moderator", "organiser")
            else None
        )
    if state in ("signed_out", "can_join") and group.status != "active":
        state = "not_open"
    upcoming = occurrences(
        group.dtstart_local,
        group.rrule,
        group.time_zone,
        after=app.clock(),
        count=3,
        duration_minutes=group.duration_minutes,
        exdates=group.exdates,
    )
    here = f"/groups/{group.slug}/join"
    return {
        "group": group,
        # Its name, ground rules and joining text in the page's language where given.
        "text": texts.shown_text(group),
        "organisation_text": texts.shown_text(group.organisation),
        "state": state,
        "full": left == 0,
        "answer": answer,
        "place": place,
        "meetings": upcoming,
        "pattern": describe(group.dtstart_local, group.rrule),
        "when": when,
        "here": here,
        "done": request.query_params.get("done", ""),
        "share_items": sharing.ITEMS,
        "share_audiences": sharing.GROUP_AUDIENCES,
    }


async def join_page(request: Request) -> Response:
    context = await _join_context(request, request.path_params["slug"])
    return render(request, "groups/join.html", context)


@signed_in
async def join(request: Request, user: User) -> Response:
    app = ctx(request)
    slug = request.path_params["slug"]
    form = await request.form()
    # What the person chose to let this group see (nothing unless they ticked it).
    share = sharing.parse_choices(
        [v for v in form.getlist("share") if isinstance(v, str)], sharing.GROUP_AUDIENCES
    )
    async with transaction(app.sessions) as db:
        result = await actions.join_group(db, user, slug, app.clock(), share=share)
    # A referral this join answered before the group did: its professional gets the
    # same e-mail as for an acceptance, by the outbox job the action recorded
    # (peerhub/notify/letters.py).
    response: Response
    if wants_json(request.headers):
        response = JSONResponse({"outcome": result.outcome, "group": result.group.slug})
    else:
        response = RedirectResponse(f"/groups/{result.group.slug}/join?done={result.outcome}", 303)
    return response


@signed_in
async def leave(request: Request, user: User) -> Response:
    app = ctx(request)
    slug = request.path_params["slug"]
    nxt = safe_next(field(await request.form(), "next", 300), "/account")
    async with transaction(app.sessions) as db:
        left = await actions.leave_group(db, user, slug, app.clock())
    if wants_json(request.headers):
        return JSONResponse({"left": left})
    sep = "&" if "?" in nxt else "?"
    return RedirectResponse(f"{nxt}{sep}done={'left' if left else 'not_in_group'}", 303)


@signed_in
async def answer_invitation(request: Request, user: User) -> Response:
    """The person invited to moderate a group or organise an organisation says yes or
    no (peerhub/groups/invitations.py). Yes, for a role that needs two-step sign-in
    they have not set up yet, leads straight to setting it up (they were told)."""
    app = ctx(request)
    form = await request.form()
    kind = field(form, "kind", 20)
    place_id = field(form, "place_id", 36)
    what = field(form, "answer", 20)
    nxt = safe_next(field(form, "next", 300), "/account/groups")
    if what not in ("accept", "decline") or kind not in invitations.KINDS or not place_id:
        return error(
            request, 422, _("Choose an invitation, and whether to accept it."), field="answer"
        )
    try:
        async with transaction(app.sessions) as db:
            done = await invitations.answer(
                db, user, kind, place_id, app.clock(), accept=what == "accept"
            )
            must_enrol = done.accepted and (await twofactor.standing(db, user)).must_enrol
    except FieldError as exc:
        return error(request, 409, exc.message, field=exc.field)
    sep = "&" if "?" in nxt else "?"
    target = f"{nxt}{sep}done=invitation_{'accepted' if done.accepted else 'declined'}"
    if must_enrol:
        target = f"/account/2fa?next={quote(target)}"
    return RedirectResponse(target, 303)


routes: list[BaseRoute] = [
    *community_routes.routes,  # proposing and adding communities
    Route("/organise", organise.home, methods=["GET"]),
    Route("/organise/organisations/new", organise.new_organisation_page, methods=["GET"]),
    Route("/organise/organisations/new", organise.create_organisation, methods=["POST"]),
    Route("/organise/organisations/{org_id}", organise.organisation_page, methods=["GET"]),
    Route(
        "/organise/organisations/{org_id}/edit",
        organise.edit_organisation_page,
        methods=["GET"],
    ),
    Route("/organise/organisations/{org_id}/edit", organise.update_organisation, methods=["POST"]),
    Route("/organise/organisations/{org_id}/organisers", organise.add_organiser, methods=["POST"]),
    Route("/organise/organisations/{org_id}/leads", organise.leads, methods=["POST"]),
    Route("/organise/organisations/{org_id}/groups/new", organise.new_group_page, methods=["GET"]),
    Route("/organise/organisations/{org_id}/groups/new", organise.create_group, methods=["POST"]),
    Route("/organise/groups/{group_id}", organise.group_page, methods=["GET"]),
    Route("/organise/groups/{group_id}/edit", organise.edit_group_page, methods=["GET"]),
    Route("/organise/groups/{group_id}/edit", organise.update_group, methods=["POST"]),
    Route("/organise/groups/{group_id}/moderators", organise.moderators, methods=["POST"]),
    Route("/organise/groups/{group_id}/sessions", organise.meeting_change, methods=["POST"]),
    Route("/organise/groups/{group_id}/requests", organise.answer_request, methods=["POST"]),
    Route("/organise/groups/{group_id}/texts", text_routes.group_texts, methods=["POST"]),
    Route(
        "/organise/organisations/{org_id}/texts",
        text_routes.organisation_texts,
        methods=["POST"],
    ),
    Route("/groups/{slug}/join", join_page, methods=["GET"]),
    Route("/groups/{slug}/join", join, methods=["POST"]),
    Route("/groups/{slug}/leave", leave, methods=["POST"]),
    Route("/account/invitations", answer_invitation, methods=["POST"]),
]
