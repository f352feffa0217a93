"""Pages for new communities: an organiser proposes one, an administrator adds it.

``/organise/organisations/{org_id}/communities/new`` is for that organisation's
organisers (anyone else gets the site's ordinary 404); ``/admin/communities`` is for
administrators. Both work without JavaScript; every wrong field is a 422 naming it,
as JSON for API callers.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from peerhub.db import transaction
from peerhub.errors import FieldError, NotFound
from peerhub.groups import actions, proposals
from peerhub.groups.page_helpers import field, invalid
from peerhub.i18n import _
from peerhub.models import User
from peerhub.security.middleware import wants_json
from peerhub.web.guards import admin_only, signed_in
from peerhub.web.render import ctx, error, render

PROPOSAL_FIELDS = ("name", "description", "aliases", "reason")


@signed_in
async def new_community_page(request: Request, user: User) -> Response:
    org_id = request.path_params["org_id"]
    async with ctx(request).sessions() as db:
        org = await actions.organisation_for_organiser(db, user, org_id)
        mine = await proposals.proposals_of(db, org_id)
    return render(
        request,
        "organise/community_new.html",
        {"org": org, "values": {}, "proposals": mine, "done": request.query_params.get("done")},
    )


@signed_in
async def propose_community(request: Request, user: User) -> Response:
    app = ctx(request)
    org_id = request.path_params["org_id"]
    form = await request.form()
    values = {k: field(form, k, 2000) for k in PROPOSAL_FIELDS}
    async with app.sessions() as db:
        org = await actions.organisation_for_organiser(db, user, org_id)
        vocab = await proposals.vocabulary(db)
        mine = await proposals.proposals_of(db, org_id)
    context = {"org": org, "values": values, "proposals": mine}
    try:
        data = proposals.parse_proposal(values, vocab)
        async with transaction(app.sessions) as db:
            proposal = await proposals.propose(db, user, org_id, data, app.clock())
    except FieldError as exc:
        return invalid(request, "organise/community_new.html", context, exc)
    if wants_json(request.headers):
        return JSONResponse({"id": proposal.id, "status": proposal.status}, status_code=201)
    return RedirectResponse(
        f"/organise/organisations/{org_id}/communities/new?done=proposed", status_code=303
    )


@admin_only
async def admin_communities(request: Request, admin: User) -> Response:
    async with ctx(request).sessions() as db:
        waiting = await proposals.pending(db)
        vocab = await proposals.vocabulary(db)
    return render(
        request,
        "admin_communities.html",
        {
            "waiting": waiting,
            "added": [c for c in vocab.communities if c.added],
            "done": request.query_params.get("done"),
        },
    )


@admin_only
async def decide_community(request: Request, admin: User) -> Response:
    app = ctx(request)
    form = await request.form()
    decision = field(form, "decision", 20)
    if decision not in ("add", "decline"):
        return error(request, 422, _("Choose to add or decline the community."), field="decision")
    try:
        async with transaction(app.sessions) as db:
            await proposals.decide(
                db,
                admin,
                request.path_params["proposal_id"],
                app.clock(),
                add=decision == "add",
                label=field(form, "label", 200),
                aliases=field(form, "aliases", 2000),
                note=field(form, "note", 2000),
            )
    except NotFound:
        return error(request, 404, _("There is no such proposal."))
    except FieldError as exc:
        return error(request, 422, exc.message, field=exc.field)
    return RedirectResponse(f"/admin/communities?done={decision}", status_code=303)


routes: list[BaseRoute] = [
    Route("/organise/organisations/{org_id}/communities/new", new_community_page, methods=["GET"]),
    Route("/organise/organisations/{org_id}/communities/new", propose_community, methods=["POST"]),
    Route("/admin/communities", admin_communities, methods=["GET"]),
    Route("/admin/communities/{proposal_id}", decide_community, methods=["POST"]),
]
