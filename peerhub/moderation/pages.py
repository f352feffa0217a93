"""The moderation record of a group, as a page for its organisers and moderators.

``GET /organise/groups/{group_id}/moderation``: the append-only audit log (every
moderation action with who, what, when and why), newest first, 50 to a page, and
how many reports and crisis alerts are waiting. The live console is on the room page.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from peerhub.accounts.routes import require_user
from peerhub.groups import actions
from peerhub.groups.web import guarded
from peerhub.inputs import ascii_digits
from peerhub.models import GroupRole, User
from peerhub.moderation.extension import audit_row
from peerhub.moderation.models import CrisisAlert, ModerationEvent, Report
from peerhub.web.render import ctx, render

PAGE = 50

# How each action reads in the log ("Mo" + this + subject).
ACTIONS = {
    "timeout": "timed out",
    "timeout.lifted": "lifted the time-out of",
    "remove": "removed from the group",
    "ban": "banned",
    "ban.lifted": "lifted the ban on",
    "redact": "redacted a message by",
    "approve": "approved a held message by",
    "reject": "rejected a held message by",
    "slow_mode": "set slow mode",
    "lock": "locked the room",
    "unlock": "unlocked the room",
    "pin": "pinned an announcement",
    "unpin": "unpinned the announcement",
    "hold_words": "changed the hold-for-review words",
    "report.resolved": "resolved a report about",
    "alert.seen": "saw to a crisis alert about",
    "session.opened": "opened a session",
    "session.closed": "ended the session",
    "room.settings": "changed the room's settings",
}


MAX_EVENT_ID = 2**31 - 1  # moderation_events.id is an INTEGER


@guarded
async def moderation_page(request: Request) -> Response:
    user = require_user(request)
    if isinstance(user, Response):
        return user
    group_id = request.path_params["group_id"]
    # ASCII digits only ("²".isdigit() is true), within the id column's 32 bits; else ignored.
    before = ascii_digits(request.query_params.get("before", ""), max_digits=10)
    if before is not None and before > MAX_EVENT_ID:
        before = None
    async with ctx(request).sessions() as db:
        group, rank = await actions.group_for(db, user, group_id, GroupRole.MODERATOR)
        query = select(ModerationEvent).where(ModerationEvent.group_id == group_id)
        if before is not None:
            query = query.where(ModerationEvent.id < before)
        events = list(
            (await db.execute(query.order_by(ModerationEvent.id.desc()).limit(PAGE + 1))).scalars()
        )
        ids = {e.actor_id for e in events} | {e.subject_id for e in events}
        names: dict[str, str] = {}
        wanted = sorted(i for i in ids if i)
        if wanted:
            rows = await db.execute(select(User.id, User.pseudonym).where(User.id.in_(wanted)))
            names = {uid: name for uid, name in rows}
        reports = await db.scalar(
            select(func.count())
            .select_from(Report)
            .where(Report.group_id == group_id, Report.status == "open")
        )
        alerts = await db.scalar(
            select(func.count())
            .select_from(CrisisAlert)
            .where(CrisisAlert.group_id == group_id, CrisisAlert.handled_at.is_(None))
        )
    more = len(events) > PAGE
    rows_out: list[dict[str, Any]] = []
    for event in events[:PAGE]:
        row = audit_row(event, names)
        row["text"] = ACTIONS.get(event.action, event.action.replace(".", " "))
        row["when"] = event.at
        rows_out.append(row)
    return render(
        request,
        "organise/moderation.html",
        {
            "group": group,
            "is_organiser": rank >= GroupRole.ORGANISER,
            "events": rows_out,
            "next_before": events[PAGE - 1].id if more else None,
            "open_reports": reports or 0,
            "open_alerts": alerts or 0,
        },
    )


routes: list[BaseRoute] = [
    Route("/organise/groups/{group_id}/moderation", moderation_page, methods=["GET"]),
]
