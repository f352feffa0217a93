"""The moderation record of a group, as a page for its organisers and moderators.

``GET /organise/groups/{group_id}/moderation``: the append-only audit log (every
moderation action with who, what, when and why), newest first, 50 to a page, and
how many reports and crisis alerts are waiting. The live console is on the room page.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import msgspec
from babel.support import LazyProxy
from sqlalchemy import func, select
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from peerhub import i18n
from peerhub.groups import actions
from peerhub.i18n import _, lazy_gettext, ngettext
from peerhub.inputs import ascii_digits
from peerhub.models import GroupRole, User
from peerhub.moderation.models import CrisisAlert, ModerationEvent, Report
from peerhub.moderation.queries import audit_row
from peerhub.web.guards import signed_in
from peerhub.web.render import ctx, render

PAGE = 50

# How each action reads in the "What" column of the log (the actor is in "Who"): the
# words without a subject, and with one (``%(subject)s`` is the person's name). Whole
# phrases, so a translator can put the name where their language wants it.
ACTIONS: dict[str, tuple[LazyProxy, LazyProxy]] = {
    "timeout": (lazy_gettext("timed out"), lazy_gettext("timed out %(subject)s")),
    "timeout.lifted": (
        lazy_gettext("lifted the time-out"),
        lazy_gettext("lifted the time-out of %(subject)s"),
    ),
    "remove": (
        lazy_gettext("removed from the group"),
        lazy_gettext("removed from the group %(subject)s"),
    ),
    "ban": (lazy_gettext("banned"), lazy_gettext("banned %(subject)s")),
    "ban.lifted": (lazy_gettext("lifted the ban"), lazy_gettext("lifted the ban on %(subject)s")),
    "redact": (
        lazy_gettext("redacted a message"),
        lazy_gettext("redacted a message by %(subject)s"),
    ),
    "approve": (
        lazy_gettext("approved a held message"),
        lazy_gettext("approved a held message by %(subject)s"),
    ),
    "reject": (
        lazy_gettext("rejected a held message"),
        lazy_gettext("rejected a held message by %(subject)s"),
    ),
    "slow_mode": (lazy_gettext("set slow mode"), lazy_gettext("set slow mode %(subject)s")),
    "lock": (lazy_gettext("locked the room"), lazy_gettext("locked the room %(subject)s")),
    "unlock": (lazy_gettext("unlocked the room"), lazy_gettext("unlocked the room %(subject)s")),
    "pin": (
        lazy_gettext("pinned an announcement"),
        lazy_gettext("pinned an announcement %(subject)s"),
    ),
    "unpin": (
        lazy_gettext("unpinned the announcement"),
        lazy_gettext("unpinned the announcement %(subject)s"),
    ),
    "hold_words": (
        lazy_gettext("changed the hold-for-review words"),
        lazy_gettext("changed the hold-for-review words %(subject)s"),
    ),
    "report.resolved": (
        lazy_gettext("resolved a report"),
        lazy_gettext("resolved a report about %(subject)s"),
    ),
    "alert.seen": (
        lazy_gettext("saw to a crisis alert"),
        lazy_gettext("saw to a crisis alert about %(subject)s"),
    ),
    "check_in.asked": (
        lazy_gettext("asked for a private check-in"),
        lazy_gettext("asked %(subject)s for a private check-in"),
    ),
    "alert.opened": (
        lazy_gettext("opened a crisis alert"),
        lazy_gettext("opened a crisis alert about %(subject)s"),
    ),
    "alert.escalated": (
        lazy_gettext("passed on an unopened crisis alert"),
        lazy_gettext("passed on an unopened crisis alert about %(subject)s"),
    ),
    "report.escalated": (
        lazy_gettext("passed on a report nobody had handled"),
        lazy_gettext("passed on a report about %(subject)s nobody had handled"),
    ),
    "alert.reviewed": (
        lazy_gettext("reviewed a serious incident"),
        lazy_gettext("reviewed a serious incident about %(subject)s"),
    ),
    "alert.review_overdue": (
        lazy_gettext("reminded the safeguarding leads of a review"),
        lazy_gettext("reminded the safeguarding leads of a review about %(subject)s"),
    ),
    "session.opened": (
        lazy_gettext("opened a session"),
        lazy_gettext("opened a session %(subject)s"),
    ),
    "session.closed": (
        lazy_gettext("ended the session"),
        lazy_gettext("ended the session %(subject)s"),
    ),
    "room.settings": (
        lazy_gettext("changed the room's settings"),
        lazy_gettext("changed the room's settings %(subject)s"),
    ),
}


def when(moment: datetime) -> str:
    """A moment of the log in UK time, day and minute, as the page's language writes it
    ("5 Dec 2026, 08:40" in British English): CLDR's medium date and short time, joined
    by the language's own medium date-time pattern."""
    joined = str(i18n.current().locale.datetime_formats["medium"])
    return joined.replace("{1}", i18n.format_date(moment, "medium")).replace(
        "{0}", i18n.format_time(moment, "short")
    )


def _whole(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def what(action: str, subject: str | None, detail: dict[str, Any] | None) -> str:
    """The "What" of one line of the log, in the page's language: the action, whom it
    was about, and its details (minutes of a time-out, seconds of slow mode, what came
    of a report), each added as its own translatable phrase."""
    words = ACTIONS.get(action)
    if words is None:  # an action this page has no words for: its identifier, as data
        text = action.replace(".", " ") + (f" {subject}" if subject else "")
    elif subject:
        text = str(words[1]) % {"subject": subject}
    else:
        text = str(words[0])
    detail = detail or {}
    minutes = _whole(detail.get("minutes"))
    if minutes:
        text = ngettext(
            "%(what)s for %(num)s minute", "%(what)s for %(num)s minutes", minutes, what=text
        )
    seconds = _whole(detail.get("seconds"))
    if seconds is not None and action == "slow_mode":
        text = ngettext(
            "%(what)s to %(num)s second", "%(what)s to %(num)s seconds", seconds, what=text
        )
    outcome = detail.get("outcome")
    if outcome == "action":
        text = _("%(what)s (action taken)", what=text)
    elif outcome:
        text = _("%(what)s (no action needed)", what=text)
    return text


MAX_EVENT_ID = 2**31 - 1  # moderation_events.id is an INTEGER


@signed_in
async def moderation_page(request: Request, user: User) -> Response:
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
        row: dict[str, Any] = msgspec.to_builtins(audit_row(event, names))
        subject = row["subject"]["name"] if row["subject"] else None
        row["text"] = what(event.action, subject, event.detail)
        row["when"] = when(event.at)
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
