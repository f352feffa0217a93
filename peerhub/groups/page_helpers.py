"""What the group and organiser pages share: form fields, the 422 answer, dates in words."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any

from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from peerhub import i18n
from peerhub.errors import FieldError
from peerhub.groups.validation import errors_of
from peerhub.i18n import _
from peerhub.security.middleware import wants_json
from peerhub.web.render import render

Handler = Callable[[Request], Awaitable[Response]]


LIST_FIELDS = (
    "languages",
    "interpretation",
    "communities",
    "community_only",
    "stages",
    "topics",
    "access",
)


def field(form: FormData, name: str, limit: int = 4096) -> str:
    value = form.get(name)
    return value[:limit] if isinstance(value, str) else ""


def form_values(form: FormData) -> tuple[dict[str, str], dict[str, list[str]]]:
    """Single values (trimmed to a sane length) and the multi-valued check boxes."""
    values = {k: field(form, k, 8000) for k in form if k not in LIST_FIELDS}
    lists = {k: [v[:200] for v in form.getlist(k) if isinstance(v, str)][:60] for k in LIST_FIELDS}
    return values, lists


def invalid(request: Request, template: str, context: dict[str, Any], exc: FieldError) -> Response:
    """A 422 naming every wrong field: JSON for API callers, the form again for people."""
    errors = errors_of(exc)
    if wants_json(request.headers):
        return JSONResponse(
            {"error": _("Please check what you entered."), "field": exc.field, "errors": errors},
            status_code=422,
        )
    return render(request, template, {**context, "errors": errors}, status=422)


def _clock(moment: datetime) -> str:
    """The time of day on the moment's own clock (a meeting's zone), as CLDR writes it."""
    if moment.tzinfo is None:
        return i18n.format_time(moment.time())
    return i18n.format_time(moment, tz=moment.tzinfo)


def when(start: datetime, end: datetime | None = None) -> str:
    """ "Tuesday 27 October 2026, 18:00 to 19:30 GMT" in the meeting's own zone, in the
    page's language (the day through CLDR's full date, the times 24-hour in en-GB)."""
    if i18n.current().identifier == i18n.SOURCE:
        # British English as it always read ("Tuesday 27 October 2026", no comma after
        # the day's name, as peerhub/schedule.py keeps it); CLDR's full date otherwise.
        day_text = f"{start:%A} {start.day} {start:%B %Y}"
    else:
        day_text = i18n.format_date(start.replace(tzinfo=None).date(), "full")
    zone_name = i18n.zone_name(start)
    if end is None:
        text = _("%(day)s, %(start)s %(zone)s", day=day_text, start=_clock(start), zone=zone_name)
    else:
        text = _(
            "%(day)s, %(start)s to %(end)s %(zone)s",
            day=day_text,
            start=_clock(start),
            end=_clock(end),
            zone=zone_name,
        )
    return text.rstrip()


def day(moment: datetime | None) -> str:
    """ "27 October 2026": a day in the page's language (UK time)."""
    if moment is None:
        return ""
    return i18n.format_date(moment, "long")
