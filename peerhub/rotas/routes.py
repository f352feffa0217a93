"""The rota pages and the calendar feed.

- ``GET/POST /organise/groups/{group_id}/rota``: a group's rota, for its organisers
  and moderators. Moderators offer and step back; organisers confirm offers, assign,
  swap and remove, and set the gap window. Anyone else gets the 404 the organiser's
  pages give; a member of the group a 403.
- ``GET/POST /account/rota``: "Your rota", the signed-in person's sessions across
  the groups they moderate: offer, step back, and their calendar feed's address
  (made, made again, or turned off).
- ``GET /rota/feed/{token}.ics``: that feed (RFC 5545), for a calendar app; the
  token is the only key, so an unknown one is a plain 404.
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from peerhub.db import transaction
from peerhub.directory import ical
from peerhub.directory.pages import CALENDAR
from peerhub.errors import FieldError, NotFound
from peerhub.finding.profiles import MatchIndex
from peerhub.groups.actions import group_for
from peerhub.groups.page_helpers import field, invalid, when
from peerhub.i18n import _, gettext
from peerhub.models import GroupRole, User
from peerhub.rotas import actions, queries
from peerhub.rotas.models import ROSTERED
from peerhub.security.tokens import digest
from peerhub.web.guards import signed_in
from peerhub.web.render import ctx, render

SESSIONS_SHOWN = 8
FEED_SESSIONS_PER_GROUP = 16
TOKEN_LIMIT = 100

DONE = {
    "offered": lambda: _("Thank you: your offer is waiting for an organiser to confirm it."),
    "rostered": lambda: _("Thank you: you are on the rota for that session."),
    "stepped_back": lambda: _("You are off the rota for that session."),
    "gap": lambda: _(
        "You are off the rota for that session. Nobody is rostered for it now: "
        "the group's organisers and moderators have been told."
    ),
    "confirmed": lambda: _("The offer is confirmed: they are on the rota."),
    "assigned": lambda: _("They are on the rota for that session."),
    "swapped": lambda: _("The session has changed hands."),
    "removed": lambda: _("They are off the rota for that session."),
    "settings": lambda: _("The rota settings are saved."),
    "feed_revoked": lambda: _("Your calendar feed is turned off."),
}


def _see_other(url: str) -> Response:
    return RedirectResponse(url, status_code=303)


def _changed(request: Request) -> None:
    """Matching says "a moderator on duty" from the rota: rebuild its index in this
    process now (other processes rebuild theirs within its time to live, 60 s)."""
    index = getattr(request.app.state, "match_index", None)
    if isinstance(index, MatchIndex):
        index.invalidate()


def _done(request: Request) -> str | None:
    found = DONE.get(request.query_params.get("done", ""))
    return found() if found else None


# -- a group's rota ----------------------------------------------------------------------


async def _group_context(request: Request, user: User, group_id: str) -> dict[str, Any]:
    app = ctx(request)
    now = app.clock()
    async with app.sessions() as db:
        group, rank = await group_for(db, user, group_id, GroupRole.MODERATOR)
        sessions = await queries.group_rota(db, group, now, SESSIONS_SHOWN)
        settings = await queries.settings_of(db, group.id)
        people = await queries.may_moderate(db, group)
    return {
        "group": group,
        "is_organiser": rank >= GroupRole.ORGANISER,
        "sessions": sessions,
        "settings": settings,
        "people": people,
        "me": user.id,
        "when": when,
        "done": _done(request),
        "errors": {},
    }


@signed_in
async def group_rota(request: Request, user: User) -> Response:
    context = await _group_context(request, user, request.path_params["group_id"])
    return render(request, "rotas/group.html", context)


@signed_in
async def change_group_rota(request: Request, user: User) -> Response:
    app = ctx(request)
    group_id = request.path_params["group_id"]
    form = await request.form()
    what = field(form, "action", 20)
    key = field(form, "session", 40)
    who = field(form, "user_id", 36)
    now = app.clock()
    try:
        async with transaction(app.sessions) as db:
            done = what
            if what == "offer":
                done = await actions.offer(db, user, group_id, key, now)
            elif what == "step_back":
                gap = await actions.step_back(db, user, group_id, key, now)
                done = "gap" if gap else "stepped_back"
            elif what == "confirm":
                await actions.confirm(db, user, group_id, key, who, now)
                done = "confirmed"
            elif what == "assign":
                await actions.assign(db, user, group_id, key, who, now)
                done = "assigned"
            elif what == "swap":
                to = field(form, "to_user_id", 36)
                await actions.swap(db, user, group_id, key, who, to, now)
                done = "swapped"
            elif what == "remove":
                await actions.remove(db, user, group_id, key, who, now)
                done = "removed"
            elif what == "settings":
                stand = field(form, "offers_stand", 5) == "1"
                await actions.set_settings(
                    db, user, group_id, field(form, "gap_hours", 10), stand, now
                )
                done = "settings"
            else:
                await group_for(db, user, group_id, GroupRole.MODERATOR)
                raise FieldError("action", _("Choose what to change on the rota."))
    except FieldError as exc:
        context = await _group_context(request, user, group_id)
        return invalid(request, "rotas/group.html", context, exc)
    _changed(request)
    return _see_other(f"/organise/groups/{group_id}/rota?done={done}#rota-title")


# -- the person's own rota -------------------------------------------------------------------


async def _mine_context(request: Request, user: User) -> dict[str, Any]:
    app = ctx(request)
    now = app.clock()
    async with app.sessions() as db:
        groups = await queries.groups_moderated(db, user.id)
        entries = await queries.my_entries(db, user.id, groups, now, SESSIONS_SHOWN)
        has_feed = await queries.has_feed(db, user.id)
    return {
        "entries": entries,
        "groups": groups,
        "has_feed": has_feed,
        "feed_url": None,
        "when": when,
        "done": _done(request),
        "errors": {},
    }


@signed_in
async def my_rota(request: Request, user: User) -> Response:
    return render(request, "rotas/mine.html", await _mine_context(request, user))


@signed_in
async def change_my_rota(request: Request, user: User) -> Response:
    app = ctx(request)
    form = await request.form()
    what = field(form, "action", 20)
    group_id = field(form, "group_id", 36)
    key = field(form, "session", 40)
    now = app.clock()
    try:
        async with transaction(app.sessions) as db:
            if what == "offer":
                done = await actions.offer(db, user, group_id, key, now)
            elif what == "step_back":
                gap = await actions.step_back(db, user, group_id, key, now)
                done = "gap" if gap else "stepped_back"
            elif what == "feed_new":
                token = await actions.new_feed(db, user, now)
                done = ""
            elif what == "feed_revoke":
                await actions.revoke_feed(db, user, now)
                done = "feed_revoked"
            else:
                raise FieldError("action", _("Choose what to change on your rota."))
    except FieldError as exc:
        return invalid(request, "rotas/mine.html", await _mine_context(request, user), exc)
    _changed(request)
    if what == "feed_new":
        # The address is shown once, on this answer: only its digest is kept.
        context = await _mine_context(request, user)
        context["feed_url"] = f"{app.settings.base_url}/rota/feed/{token}.ics"
        return render(request, "rotas/mine.html", context, headers={"Cache-Control": "no-store"})
    return _see_other(f"/account/rota?done={done}#rota-title")


# -- the calendar feed -------------------------------------------------------------------------


async def feed(request: Request) -> Response:
    token = request.path_params["token"]
    app = ctx(request)
    now = app.clock()
    if not 20 <= len(token) <= TOKEN_LIMIT:
        raise NotFound("feed")
    async with app.sessions() as db:
        user = await queries.feed_user(db, digest(token))
        if user is None:
            raise NotFound("feed")
        groups = await queries.groups_moderated(db, user.id)
        entries = await queries.my_entries(db, user.id, groups, now, FEED_SESSIONS_PER_GROUP)
    host = app.settings.base_url.split("://", 1)[-1].split("/", 1)[0]
    events = [
        ical.Event(
            uid=f"rota-{s.group.id}-{s.key.replace('-', '').replace(':', '')}@{host}",
            stamp=now,
            start=s.meeting.start,
            end=s.meeting.end,
            summary=gettext("%(group)s: moderating", group=s.group.name),
            url=f"{app.settings.base_url}/organise/groups/{s.group.id}/rota",
        )
        for s, mine in entries
        if mine == ROSTERED
    ]
    body = ical.calendar(
        gettext("Your PeerHub rota"),
        events,
        description=gettext("The sessions you are rostered to moderate."),
    )
    return Response(
        body.encode("utf-8"),
        media_type=CALENDAR,
        headers={
            "Content-Disposition": 'inline; filename="rota.ics"',
            "Cache-Control": "private, no-store",
        },
    )


routes: list[BaseRoute] = [
    Route("/organise/groups/{group_id}/rota", group_rota, methods=["GET"]),
    Route("/organise/groups/{group_id}/rota", change_group_rota, methods=["POST"]),
    Route("/account/rota", my_rota, methods=["GET"]),
    Route("/account/rota", change_my_rota, methods=["POST"]),
    Route("/rota/feed/{token}.ics", feed, methods=["GET"]),
]
