"""The care pages (docs/moderation.md, "Care for moderators"; hazard H27).

- ``/care``: the signed-in person's own page: check-ins after crisis alerts they saw
  to (their answers are seen by nobody else), asking for a debrief, their time away,
  and their training records. Anyone signed in may open it; it shows only theirs.
- ``/organise/organisations/{org_id}/care``: for that organisation's organisers (others
  get the 404 of a page that does not exist): debriefs asked for, moderators with their
  training, "training needed" and time away, and the training the organisation
  requires for groups that welcome people approaching crisis.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from peerhub import i18n
from peerhub.care import actions, queries
from peerhub.care.models import FEELINGS, TrainingRecord, Unavailability
from peerhub.care.training import LOCAL, is_valid, required_courses, today
from peerhub.db import transaction
from peerhub.errors import FieldError
from peerhub.groups.actions import organisation_for_organiser
from peerhub.groups.page_helpers import field, form_values, invalid
from peerhub.i18n import _, lazy_gettext
from peerhub.models import User
from peerhub.web.guards import signed_in
from peerhub.web.render import ctx, render

FEELING_WORDS = {
    "okay": lazy_gettext("Okay"),
    "shaken": lazy_gettext("Shaken"),
    "struggling": lazy_gettext("Struggling"),
}
DEBRIEF_WORDS = {
    "requested": lazy_gettext("Asked for"),
    "arranged": lazy_gettext("Arranged"),
    "done": lazy_gettext("Done"),
}


def _see_other(url: str) -> Response:
    return RedirectResponse(url, status_code=303)


def on(value: date | datetime | None) -> str:
    """A day in the page's language ("27 October 2026"), UK time."""
    return i18n.format_date(value, "long", tz=LOCAL)


def last_day(away: Unavailability) -> str:
    """The last day of a time away (it ends at the start of the next day)."""
    if away.ends_at is None:
        return ""
    return on((away.ends_at - timedelta(microseconds=1)).astimezone(LOCAL).date())


def _helpers(now: datetime) -> dict[str, Any]:
    return {
        "on": on,
        "last_day": last_day,
        "today": today(now),
        "is_valid": is_valid,
        "feeling_words": FEELING_WORDS,
        "feelings": FEELINGS,
        "debrief_words": DEBRIEF_WORDS,
        "now": now,
    }


# --- the moderator's own page ---------------------------------------------------------


async def _my_context(request: Request, user: User) -> dict[str, Any]:
    app = ctx(request)
    now = app.clock()
    async with app.sessions() as db:
        check_ins = await queries.my_check_ins(db, user.id)
        away = await queries.away_of(db, user.id, now)
        training = await queries.my_training(db, user.id)
    return {
        **_helpers(now),
        "waiting": [c for c in check_ins if c.waiting],
        "earlier": [c for c in check_ins if not c.waiting],
        "away": away,
        "away_now": away is not None and away.starts_at <= now,
        "training": training,
        "values": {},
    }


@signed_in
async def my_page(request: Request, user: User) -> Response:
    return render(request, "care/mine.html", await _my_context(request, user))


@signed_in
async def check_in(request: Request, user: User) -> Response:
    """Answer a check-in, put it aside, delete the answer, or ask for a debrief."""
    app = ctx(request)
    check_in_id = request.path_params["check_in_id"]
    form = await request.form()
    what = field(form, "action", 20)
    feeling = field(form, "feeling", 20)
    limit = actions.WORDS_MAX + 200
    words = field(form, f"words-{check_in_id}", limit) or field(form, "words", limit)
    try:
        async with transaction(app.sessions) as db:
            now = app.clock()
            if what == "answer":
                await actions.answer_check_in(db, user, check_in_id, feeling, words, now)
            elif what == "debrief":
                await actions.ask_debrief(db, user, check_in_id, now)
            elif what == "forget":
                await actions.forget_answer(db, user, check_in_id, now)
            elif what == "aside":
                await actions.put_aside(db, user, check_in_id, now)
            else:
                await actions.own_check_in(db, user, check_in_id)  # 404 when not theirs
                raise FieldError(f"feeling-{check_in_id}", _("Choose what to do."))
    except FieldError as exc:
        context = await _my_context(request, user)
        context["values"] = {f"words-{check_in_id}": words, f"feeling-{check_in_id}": feeling}
        return invalid(request, "care/mine.html", context, exc)
    done = {"answer": "answered", "debrief": "debrief", "forget": "forgotten"}.get(what, "aside")
    return _see_other(f"/care?done={done}")


@signed_in
async def availability(request: Request, user: User) -> Response:
    app = ctx(request)
    form = await request.form()
    values, _lists = form_values(form)
    what = field(form, "action", 20)
    try:
        async with transaction(app.sessions) as db:
            now = app.clock()
            if what == "back":
                await actions.set_back(db, user)
            elif what == "away":
                await actions.set_away(db, user, actions.parse_away(values, now), now)
            else:
                raise FieldError("away_from", _("Choose what to do."))
    except FieldError as exc:
        context = await _my_context(request, user)
        context["values"] = values
        return invalid(request, "care/mine.html", context, exc)
    return _see_other(f"/care?done={'back' if what == 'back' else 'away'}#away-title")


# --- the organisers' page -------------------------------------------------------------


async def _org_context(request: Request, user: User, org_id: str) -> dict[str, Any]:
    app = ctx(request)
    now = app.clock()
    async with app.sessions() as db:
        org = await organisation_for_organiser(db, user, org_id)
        required = await required_courses(db, org_id)
        people = await queries.people_of(db, org_id, now)
        debriefs = await queries.debriefs_of(db, org_id)
    return {
        **_helpers(now),
        "org": org,
        "required": required,
        "people": people,
        "debriefs": debriefs,
        "values": {"required": "\n".join(required)},
    }


@signed_in
async def organisation_page(request: Request, user: User) -> Response:
    context = await _org_context(request, user, request.path_params["org_id"])
    return render(request, "care/organisation.html", context)


async def _org_error(
    request: Request, user: User, org_id: str, exc: FieldError, values: dict[str, str]
) -> Response:
    context = await _org_context(request, user, org_id)
    context["values"] = {**context["values"], **values}
    return invalid(request, "care/organisation.html", context, exc)


@signed_in
async def add_training(request: Request, user: User) -> Response:
    app = ctx(request)
    org_id = request.path_params["org_id"]
    values, _lists = form_values(await request.form())
    try:
        async with transaction(app.sessions) as db:
            now = app.clock()
            # Permission first: an outsider learns nothing, not even what was wrong.
            await organisation_for_organiser(db, user, org_id)
            data = actions.parse_training(values, now)
            await actions.add_training(db, user, org_id, values.get("pseudonym", ""), data, now)
    except FieldError as exc:
        return await _org_error(request, user, org_id, exc, values)
    return _see_other(f"/organise/organisations/{org_id}/care?done=added#people-title")


def _record_values(record: TrainingRecord) -> dict[str, str]:
    return {
        "course": record.course,
        "completed_on": record.completed_on.isoformat(),
        "valid_until": record.valid_until.isoformat() if record.valid_until else "",
    }


async def _record_context(
    request: Request, user: User, org_id: str, record_id: str
) -> dict[str, Any]:
    app = ctx(request)
    async with app.sessions() as db:
        record = await actions.training_record(db, user, org_id, record_id)
        org = await organisation_for_organiser(db, user, org_id)
        person = await db.get(User, record.user_id)
    return {
        **_helpers(app.clock()),
        "org": org,
        "record": record,
        "pseudonym": person.pseudonym if person is not None else "",
        "values": _record_values(record),
    }


@signed_in
async def record_page(request: Request, user: User) -> Response:
    context = await _record_context(
        request, user, request.path_params["org_id"], request.path_params["record_id"]
    )
    return render(request, "care/record.html", context)


@signed_in
async def change_record(request: Request, user: User) -> Response:
    app = ctx(request)
    org_id = request.path_params["org_id"]
    record_id = request.path_params["record_id"]
    values, _lists = form_values(await request.form())
    what = values.get("action", "save")
    try:
        async with transaction(app.sessions) as db:
            now = app.clock()
            if what == "remove":
                await actions.remove_training(db, user, org_id, record_id, now)
            else:
                await actions.training_record(db, user, org_id, record_id)
                data = actions.parse_training(values, now)
                await actions.update_training(db, user, org_id, record_id, data, now)
    except FieldError as exc:
        context = await _record_context(request, user, org_id, record_id)
        context["values"] = values
        return invalid(request, "care/record.html", context, exc)
    done = "removed" if what == "remove" else "changed"
    return _see_other(f"/organise/organisations/{org_id}/care?done={done}#people-title")


@signed_in
async def set_required(request: Request, user: User) -> Response:
    app = ctx(request)
    org_id = request.path_params["org_id"]
    text = field(await request.form(), "required", 8000)
    try:
        async with transaction(app.sessions) as db:
            await organisation_for_organiser(db, user, org_id)
            courses = actions.parse_required(text)
            await actions.set_required(db, user, org_id, courses, app.clock())
    except FieldError as exc:
        return await _org_error(request, user, org_id, exc, {"required": text})
    return _see_other(f"/organise/organisations/{org_id}/care?done=required#required-title")


@signed_in
async def debrief(request: Request, user: User) -> Response:
    app = ctx(request)
    org_id = request.path_params["org_id"]
    state = field(await request.form(), "state", 20)
    try:
        async with transaction(app.sessions) as db:
            await actions.set_debrief(
                db, user, org_id, request.path_params["check_in_id"], state, app.clock()
            )
    except FieldError as exc:
        return await _org_error(request, user, org_id, exc, {})
    return _see_other(f"/organise/organisations/{org_id}/care?done=debrief#debriefs-title")


routes: list[BaseRoute] = [
    Route("/care", my_page, methods=["GET"]),
    Route("/care/check-ins/{check_in_id}", check_in, methods=["POST"]),
    Route("/care/availability", availability, methods=["POST"]),
    Route("/organise/organisations/{org_id}/care", organisation_page, methods=["GET"]),
    Route("/organise/organisations/{org_id}/care/required", set_required, methods=["POST"]),
    Route("/organise/organisations/{org_id}/care/training", add_training, methods=["POST"]),
    Route(
        "/organise/organisations/{org_id}/care/training/{record_id}",
        record_page,
        methods=["GET"],
    ),
    Route(
        "/organise/organisations/{org_id}/care/training/{record_id}",
        change_record,
        methods=["POST"],
    ),
    Route(
        "/organise/organisations/{org_id}/care/debriefs/{check_in_id}",
        debrief,
        methods=["POST"],
    ),
]
