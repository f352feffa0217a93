"""The outcomes page for organisers and administrators: /organise/outcomes."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from peerhub.db import transaction
from peerhub.i18n import _
from peerhub.models import User
from peerhub.outcomes import actions, queries
from peerhub.outcomes.report import COLUMNS, THRESHOLD
from peerhub.security.permissions import sees_organisers_reports
from peerhub.web.guards import signed_in
from peerhub.web.render import ctx, error, render


@signed_in
async def outcomes_page(request: Request, user: User) -> Response:
    app = ctx(request)
    async with app.sessions() as db:
        allowed = await sees_organisers_reports(db, user)
    if not allowed:
        return error(request, 403, _("Only organisers and administrators can see this report."))
    # Settling is idempotent and cheap: the page is as current as the data.
    async with transaction(app.sessions) as db:
        await actions.settle(db, app.clock())
    async with app.sessions() as db:
        report = await queries.report(db)
        following = await queries.being_followed(db)
    return render(
        request,
        "organise/outcomes.html",
        {
            "report": report,
            "columns": COLUMNS,
            "threshold": THRESHOLD,
            "following": following,
            "follow_weeks": actions.FOLLOW_FOR.days // 7,
            "keep_days": actions.OUTCOME_RETENTION.days,
        },
    )


routes: list[BaseRoute] = [Route("/organise/outcomes", outcomes_page, methods=["GET"])]
