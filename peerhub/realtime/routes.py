"""HTTP routes of the rooms: ``GET /api/realtime`` and the room page.

The room page works out, on the server, whether the person can be in the room:
people who are not signed in, and people who are not in the group, get a clear
page saying what to do, not a socket that fails. Members get the page and the
chat client (peerhub/static/js/room.js), which reads the WebSocket URL from
``/api/realtime``.
"""

from __future__ import annotations

from urllib.parse import quote, urlsplit

from sqlalchemy import select
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from peerhub.errors import NotFound
from peerhub.i18n import _
from peerhub.models import Group, GroupRole
from peerhub.realtime.queries import role_name
from peerhub.realtime.service import Realtime
from peerhub.rotas import queries as rota_queries
from peerhub.security.permissions import group_rank, organisation_checked
from peerhub.web.guards import optional_user
from peerhub.web.render import ctx, render


def service(request: Request) -> Realtime | None:
    found = getattr(request.app.state, "realtime", None)
    return found if isinstance(found, Realtime) else None


async def realtime_info(request: Request) -> Response:
    """Where the browser opens its WebSocket."""
    rt = service(request)
    url = rt.url if rt is not None else None
    if url is None:
        return JSONResponse({"error": _("Real-time rooms are not running.")}, status_code=503)
    return JSONResponse({"url": url, "version": 1})


def _csp(request: Request, ws_url: str | None) -> str:
    """The site's policy, with the WebSocket's own origin added to connect-src."""
    settings = ctx(request).settings
    sources = ["'self'"] + [o.replace("http", "ws", 1) for o in settings.allowed_origins]
    if ws_url:
        parts = urlsplit(ws_url)
        sources.append(f"{parts.scheme}://{parts.netloc}")
    connect = " ".join(dict.fromkeys(sources))
    return (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        f"connect-src {connect}; font-src 'self'; object-src 'none'; base-uri 'none'; "
        "frame-ancestors 'none'; form-action 'self'"
    )


async def room_page(request: Request) -> Response:
    slug = request.path_params["slug"]
    user = optional_user(request)
    async with ctx(request).sessions() as db:
        group = await db.scalar(select(Group).where(Group.slug == slug))
        rank = await group_rank(db, user, group.id) if group is not None else GroupRole.NONE
        checked = group is not None and await organisation_checked(db, group.id)
        about_url = None
        if group is not None and group.kind == "check_in":
            from peerhub.checkins.models import CheckIn

            check_in = await db.scalar(select(CheckIn.id).where(CheckIn.group_id == group.id))
            about_url = f"/check-ins/{check_in}" if check_in else None
    hidden = group is not None and group.kind == "check_in"
    if group is None or (not checked and rank == GroupRole.NONE) or (hidden and not rank):
        # (A private check-in's room exists only for its two people: docs/check-ins.md.)
        # A group of an organisation PeerHub has not verified is not public: to
        # everyone outside it, its room does not exist, like its page.
        raise NotFound(slug)
    rt = service(request)
    here = f"/groups/{group.slug}/room"
    if not checked:
        # Closed to everyone (the socket refuses it too), organisers included, until
        # PeerHub has checked the organisation; they are told why.
        state, status = "not_checked", 403
    elif user is None:
        state, status = "signed_out", 200
    elif rank == GroupRole.NONE:
        state, status = "not_member", 403
    elif rt is None or rt.url is None:
        state, status = "unavailable", 503
    else:
        state, status = "member", 200
    cover = None
    if state == "member" and group is not None:
        # Who runs the next session, by pseudonym (peerhub/rotas): members only.
        async with ctx(request).sessions() as db:
            covers = await rota_queries.next_cover(db, [group], ctx(request).clock())
        cover = covers.get(group.id)
    return render(
        request,
        "rooms/room.html",
        {
            "group": group,
            "state": state,
            "role": role_name(rank),
            "here": here,
            "next": quote(here, safe=""),
            "next_cover": cover,
            "about_url": about_url,
        },
        status=status,
        headers={"Content-Security-Policy": _csp(request, rt.url if rt else None)},
    )


routes: list[BaseRoute] = [
    Route("/api/realtime", realtime_info, methods=["GET"]),
    Route("/groups/{slug}/room", room_page, methods=["GET"]),
]
