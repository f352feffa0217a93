"""The organiser's pages under ``/organise``: organisations, groups, meetings, requests.

Every page needs a signed-in person. Organisation pages are for that
organisation's organisers; a group's page is for its organisers and moderators
(moderators may cancel meetings and answer requests; only organisers edit the group
and invite or remove moderators: nobody becomes one without saying yes,
peerhub/groups/invitations.py). Anyone else gets the same 404 as for a page that does not
exist; a member of the group gets a 403.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response

from peerhub import languages
from peerhub.care import queries as care
from peerhub.care.routes import last_day
from peerhub.db import transaction
from peerhub.duty import settings as duty_settings
from peerhub.errors import FieldError, NotFound
from peerhub.groups import (
    actions,
    invitations,
    meetings,
    newcomer_review,
    proposals,
    queries,
    texts,
)
from peerhub.groups.languages import typed_name
from peerhub.groups.page_helpers import day, field, form_values, invalid, when
from peerhub.groups.validation import (
    DEFAULT_TIME_ZONE,
    parse_group,
    parse_organisation,
    repeat_of,
)
from peerhub.i18n import _
from peerhub.models import Group, GroupRole, GroupText, Organisation, OrganisationText, User
from peerhub.moderation.models import DEFAULT_NEWCOMER_MESSAGES
from peerhub.notify import letters
from peerhub.privacy import retention
from peerhub.schedule import describe
from peerhub.security import buckets
from peerhub.security.middleware import wants_json
from peerhub.taxonomy import ACCESS, COMMON_LANGUAGES, COMMUNITIES, STAGES, TOPICS, Taxonomy
from peerhub.web.guards import signed_in
from peerhub.web.limits import too_many
from peerhub.web.render import ctx, ip, render

log = logging.getLogger("peerhub.groups")

TAXONOMIES = {"communities": COMMUNITIES, "stages": STAGES, "topics": TOPICS, "access": ACCESS}


def _see_other(url: str) -> Response:
    return RedirectResponse(url, status_code=303)


def _texts_context(versions: Sequence[GroupText | OrganisationText]) -> dict[str, Any]:
    """What the "In other languages" section needs (peerhub/templates/organise/_texts.html)."""
    return {
        "versions": versions,
        "language_words": texts.language_words,
        "texts_prefix": texts.form_prefix,
    }


# -- the organiser's home ---------------------------------------------------------------


@signed_in
async def home(request: Request, user: User) -> Response:
    async with ctx(request).sessions() as db:
        organisations = await queries.my_organisations(db, user.id)
        moderated = await queries.moderated_groups(db, user.id)
    # Each tool is linked only for those it answers (no link may lead to a refusal):
    # referrals for a group's organisers and moderators, demand for organisers and admins.
    tools = {
        "referrals": bool(moderated) or any(org.groups for org in organisations),
        "demand": bool(organisations) or user.is_admin,
    }
    return render(
        request,
        "organise/index.html",
        {"organisations": organisations, "moderated": moderated, "day": day, "tools": tools},
    )


# -- organisations ----------------------------------------------------------------------


def _organisation_values(org: Organisation | None) -> dict[str, str]:
    if org is None:
        return {}
    return {
        "name": org.name,
        "description": org.description,
        "website": org.website or "",
        "email": org.email or "",
        "phone": org.phone or "",
        "lived_experience_led": "yes" if org.lived_experience_led else "",
    }


@signed_in
async def new_organisation_page(request: Request, user: User) -> Response:
    return render(request, "organise/organisation_form.html", {"org": None, "values": {}})


@signed_in
async def create_organisation(request: Request, user: User) -> Response:
    app = ctx(request)
    values, _lists = form_values(await request.form())
    try:
        data = parse_organisation(values)
        async with transaction(app.sessions) as db:
            org = await actions.register_organisation(
                db, user, app.clock(), data, client_ip=ip(request)
            )
    except FieldError as exc:
        context = {"org": None, "values": values}
        return invalid(request, "organise/organisation_form.html", context, exc)
    except buckets.Exhausted as exc:
        return too_many(request, exc)
    if wants_json(request.headers):
        return JSONResponse({"id": org.id, "slug": org.slug}, status_code=201)
    return _see_other(f"/organise/organisations/{org.id}?done=registered")


async def _organisation_context(user: User, request: Request, org_id: str) -> dict[str, Any]:
    app = ctx(request)
    async with app.sessions() as db:
        org = await actions.organisation_for_organiser(db, user, org_id)
        organisers = await queries.organisers_of(db, org_id)
        groups = await queries.groups_of(db, org_id)
        invited = await invitations.waiting_in_organisation(db, org_id, app.clock())
        leads_invited = await invitations.waiting_in_organisation(db, org_id, app.clock(), "lead")
        leads = await queries.leads_of(db, org_id)
        versions = await texts.organisation_versions(db, org_id)
    return {
        "leads": leads,
        "leads_invited": leads_invited,
        **_texts_context(versions),
        "org": org,
        "organisers": organisers,
        "invited": invited,
        "groups": groups,
        "day": day,
        "values": {},
    }


@signed_in
async def organisation_page(request: Request, user: User) -> Response:
    context = await _organisation_context(user, request, request.path_params["org_id"])
    return render(request, "organise/organisation.html", context)


@signed_in
async def edit_organisation_page(request: Request, user: User) -> Response:
    async with ctx(request).sessions() as db:
        org = await actions.organisation_for_organiser(db, user, request.path_params["org_id"])
    return render(
        request,
        "organise/organisation_form.html",
        {"org": org, "values": _organisation_values(org)},
    )


@signed_in
async def update_organisation(request: Request, user: User) -> Response:
    app = ctx(request)
    org_id = request.path_params["org_id"]
    values, _lists = form_values(await request.form())
    try:
        data = parse_organisation(values)
    except FieldError as exc:
        # Permission first: an outsider learns nothing, not even what was wrong.
        async with app.sessions() as db:
            org = await actions.organisation_for_organiser(db, user, org_id)
        return invalid(
            request, "organise/organisation_form.html", {"org": org, "values": values}, exc
        )
    async with transaction(app.sessions) as db:
        await actions.update_organisation(db, user, org_id, app.clock(), data)
    return _see_other(f"/organise/organisations/{org_id}?done=saved")


@signed_in
async def add_organiser(request: Request, user: User) -> Response:
    """Invite a person to organise the organisation too (they accept on their own
    pages), or withdraw an invitation still waiting (``action=withdraw``)."""
    app = ctx(request)
    org_id = request.path_params["org_id"]
    form = await request.form()
    pseudonym = field(form, "pseudonym", 200)
    what = field(form, "action", 20) or "invite"
    try:
        async with transaction(app.sessions) as db:
            if what == "withdraw":
                await invitations.withdraw(
                    db, user, "organiser", org_id, field(form, "user_id", 36), app.clock()
                )
            elif what == "invite":
                await invitations.invite_organiser(db, user, org_id, pseudonym, app.clock())
            else:
                await actions.organisation_for_organiser(db, user, org_id)
                raise FieldError("pseudonym", _("Choose to invite an organiser."))
    except FieldError as exc:
        context = await _organisation_context(user, request, org_id)
        context["values"] = {"pseudonym": pseudonym}
        return invalid(request, "organise/organisation.html", context, exc)
    done = "organiser_withdrawn" if what == "withdraw" else "organiser"
    return _see_other(f"/organise/organisations/{org_id}?done={done}")


@signed_in
async def leads(request: Request, user: User) -> Response:
    """Invite a person to be a safeguarding lead (they accept on their own pages),
    withdraw an invitation still waiting, or end someone's role as lead."""
    app = ctx(request)
    org_id = request.path_params["org_id"]
    form = await request.form()
    pseudonym = field(form, "lead", 200)
    what = field(form, "action", 20)
    try:
        async with transaction(app.sessions) as db:
            if what == "invite":
                await invitations.invite_lead(db, user, org_id, pseudonym, app.clock())
            elif what == "withdraw":
                await invitations.withdraw(
                    db, user, "lead", org_id, field(form, "user_id", 36), app.clock()
                )
            elif what == "remove":
                await invitations.remove_lead(
                    db, user, org_id, field(form, "user_id", 36), app.clock()
                )
            else:
                await actions.organisation_for_organiser(db, user, org_id)
                raise FieldError("lead", _("Choose to invite or remove a safeguarding lead."))
    except FieldError as exc:
        context = await _organisation_context(user, request, org_id)
        context["values"] = {"lead": pseudonym}
        return invalid(request, "organise/organisation.html", context, exc)
    return _see_other(f"/organise/organisations/{org_id}?done=lead_{what}#leads-title")


# -- the group form ---------------------------------------------------------------------


def _new_group_values() -> tuple[dict[str, str], dict[str, list[str]]]:
    values = {
        "format": "online",
        "join_policy": "open",
        "status": "active",
        "time_zone": DEFAULT_TIME_ZONE,
        "repeat": "weekly",
        "duration_minutes": "90",
        "newcomer_review": "auto",
        "newcomer_messages": str(DEFAULT_NEWCOMER_MESSAGES),
        **{
            name: str(v)
            for name, v in zip(duty_settings.FIELDS, duty_settings.DEFAULTS, strict=True)
        },
    }
    return values, {"languages": ["English"]}


def _group_values(group: Group) -> tuple[dict[str, str], dict[str, list[str]]]:
    repeat, advanced = repeat_of(group.rrule, group.dtstart_local)

    def num(value: float | None) -> str:
        return "" if value is None else str(value)

    values = {
        "name": group.name,
        "description": group.description,
        "format": group.format,
        "address": group.address or "",
        "postcode": group.postcode or "",
        "latitude": num(group.latitude),
        "longitude": num(group.longitude),
        "age_min": num(group.age_min),
        "age_max": num(group.age_max),
        "capacity": num(group.capacity),
        "join_policy": group.join_policy,
        "status": group.status,
        "ground_rules": group.ground_rules,
        "joining": group.joining,
        "time_zone": group.time_zone,
        "first_date": group.dtstart_local[:10],
        "start_time": group.dtstart_local[11:16],
        "repeat": repeat,
        "rrule": advanced,
        "duration_minutes": str(group.duration_minutes),
    }
    lists = {
        # As the organisers typed them, where kept (peerhub/groups/languages.py).
        "languages": [typed_name(t.value, t.label) for t in group.tags if t.kind == "language"],
        "interpretation": [
            typed_name(t.value, t.label) for t in group.tags if t.kind == "interpretation"
        ],
        "communities": group.tag_values("community"),
        "community_only": [t.value for t in group.tags if t.kind == "community" and t.only],
        "stages": group.tag_values("stage"),
        "topics": group.tag_values("topic"),
        "access": group.tag_values("access"),
    }
    return values, lists


def _group_form(
    org: Organisation,
    group: Group | None,
    values: dict[str, str],
    lists: dict[str, list[str]],
    communities: Taxonomy = COMMUNITIES,
) -> dict[str, Any]:
    return {
        "org": org,
        "group": group,
        "values": values,
        "lists": lists,
        "taxonomies": {**TAXONOMIES, "communities": communities},
        "language_suggestions": languages.suggestions(COMMON_LANGUAGES),
    }


@signed_in
async def new_group_page(request: Request, user: User) -> Response:
    async with ctx(request).sessions() as db:
        org = await actions.organisation_for_organiser(db, user, request.path_params["org_id"])
        vocab = await proposals.vocabulary(db)
    values, lists = _new_group_values()
    return render(
        request,
        "organise/group_form.html",
        _group_form(org, None, values, lists, proposals.community_taxonomy(vocab)),
    )


@signed_in
async def create_group(request: Request, user: User) -> Response:
    app = ctx(request)
    org_id = request.path_params["org_id"]
    values, lists = form_values(await request.form())
    async with app.sessions() as db:
        vocab = await proposals.vocabulary(db)
    try:
        data = parse_group(values, lists, vocab.codes)
    except FieldError as exc:
        async with app.sessions() as db:
            org = await actions.organisation_for_organiser(db, user, org_id)
        context = _group_form(org, None, values, lists, proposals.community_taxonomy(vocab))
        return invalid(request, "organise/group_form.html", context, exc)
    async with transaction(app.sessions) as db:
        group = await actions.create_group(db, user, org_id, data, app.clock())
        await retention.set_retention(db, user, group.id, data.message_retention_days, app.clock())
        await newcomer_review.set_review(
            db, user, group.id, data.newcomer_review, data.newcomer_messages, app.clock()
        )
        await duty_settings.set_timers(
            db, user, group.id, {n: getattr(data, n) for n in duty_settings.FIELDS}, app.clock()
        )
    if wants_json(request.headers):
        return JSONResponse({"id": group.id, "slug": group.slug}, status_code=201)
    return _see_other(f"/organise/groups/{group.id}?done=created")


@signed_in
async def edit_group_page(request: Request, user: User) -> Response:
    async with ctx(request).sessions() as db:
        group, _rank = await actions.group_for(
            db, user, request.path_params["group_id"], GroupRole.ORGANISER
        )
        days = await retention.retention_days(db, group.id)
        review = await newcomer_review.review_of(db, group.id)
        timers = await duty_settings.timers_of(db, group.id)
        vocab = await proposals.vocabulary(db)
    values, lists = _group_values(group)
    values["message_retention_days"] = "" if days is None else str(days)
    values["newcomer_review"] = review.mode
    values["newcomer_messages"] = str(review.messages)
    values.update({name: str(v) for name, v in timers.items()})
    return render(
        request,
        "organise/group_form.html",
        _group_form(group.organisation, group, values, lists, proposals.community_taxonomy(vocab)),
    )


@signed_in
async def update_group(request: Request, user: User) -> Response:
    app = ctx(request)
    group_id = request.path_params["group_id"]
    values, lists = form_values(await request.form())
    async with app.sessions() as db:
        vocab = await proposals.vocabulary(db)
    try:
        data = parse_group(values, lists, vocab.codes)
    except FieldError as exc:
        async with app.sessions() as db:
            group, _rank = await actions.group_for(db, user, group_id, GroupRole.ORGANISER)
        context = _group_form(
            group.organisation, group, values, lists, proposals.community_taxonomy(vocab)
        )
        return invalid(request, "organise/group_form.html", context, exc)
    async with transaction(app.sessions) as db:
        await actions.update_group(db, user, group_id, data, app.clock())
        await retention.set_retention(db, user, group_id, data.message_retention_days, app.clock())
        await newcomer_review.set_review(
            db, user, group_id, data.newcomer_review, data.newcomer_messages, app.clock()
        )
        await duty_settings.set_timers(
            db, user, group_id, {n: getattr(data, n) for n in duty_settings.FIELDS}, app.clock()
        )
    return _see_other(f"/organise/groups/{group_id}?done=saved")


# -- the organiser's group page ---------------------------------------------------------


async def _group_context(user: User, request: Request, group_id: str) -> dict[str, Any]:
    app = ctx(request)
    async with app.sessions() as db:
        group, rank = await actions.group_for(db, user, group_id, GroupRole.MODERATOR)
        roster = await queries.roster(db, group_id)
        left = await actions.places_left(db, group)
        invited = (
            await invitations.waiting_in_group(db, group_id, app.clock())
            if rank >= GroupRole.ORGANISER
            else []
        )
        versions = await texts.group_versions(db, group_id)
        # Training needed and time away beside each moderator, for organisers (H27).
        marks = (
            await care.marks_for(db, group_id, [p.id for p in roster.moderators], app.clock())
            if rank >= GroupRole.ORGANISER
            else {}
        )
    upcoming = meetings.upcoming(
        group.dtstart_local,
        group.rrule,
        group.time_zone,
        after=app.clock(),
        duration_minutes=group.duration_minutes,
        exdates=group.exdates,
        count=8,
    )
    return {
        **_texts_context(versions),
        "group": group,
        "org": group.organisation,
        "is_organiser": rank >= GroupRole.ORGANISER,
        "meetings": upcoming,
        "pattern": describe(group.dtstart_local, group.rrule),
        "roster": roster,
        "care_marks": marks,
        "last_day": last_day,
        "care_now": app.clock(),
        "invited": invited,
        "places_left": left,
        "when": when,
        "day": day,
        "values": {},
    }


@signed_in
async def group_page(request: Request, user: User) -> Response:
    context = await _group_context(user, request, request.path_params["group_id"])
    return render(request, "organise/group.html", context)


async def _group_page_error(
    request: Request, user: User, group_id: str, exc: FieldError, values: dict[str, str]
) -> Response:
    context = await _group_context(user, request, group_id)
    context["values"] = values
    return invalid(request, "organise/group.html", context, exc)


@signed_in
async def moderators(request: Request, user: User) -> Response:
    """Invite a person to moderate the group (they become one when they accept, on
    their own pages), withdraw an invitation, or make a moderator a member again."""
    app = ctx(request)
    group_id = request.path_params["group_id"]
    form = await request.form()
    pseudonym = field(form, "pseudonym", 200)
    what = field(form, "action", 20)
    try:
        async with transaction(app.sessions) as db:
            if what == "invite":
                await invitations.invite_moderator(db, user, group_id, pseudonym, app.clock())
            elif what == "withdraw":
                await invitations.withdraw(
                    db, user, "moderator", group_id, field(form, "user_id", 36), app.clock()
                )
            elif what == "remove":
                await actions.remove_moderator(db, user, group_id, pseudonym, app.clock())
            else:
                await actions.group_for(db, user, group_id, GroupRole.ORGANISER)
                raise FieldError("pseudonym", _("Choose to invite or remove a moderator."))
    except FieldError as exc:
        return await _group_page_error(request, user, group_id, exc, {"pseudonym": pseudonym})
    return _see_other(f"/organise/groups/{group_id}?done=moderator_{what}#moderators-title")


@signed_in
async def meeting_change(request: Request, user: User) -> Response:
    app = ctx(request)
    group_id = request.path_params["group_id"]
    form = await request.form()
    key = field(form, "session", 40)
    what = field(form, "action", 20)
    try:
        async with transaction(app.sessions) as db:
            if what not in ("cancel", "restore"):
                await actions.group_for(db, user, group_id, GroupRole.MODERATOR)
                raise FieldError("session", _("Choose to cancel or restore a session."))
            await actions.set_meeting_cancelled(
                db, user, group_id, key, app.clock(), cancelled=what == "cancel"
            )
    except FieldError as exc:
        return await _group_page_error(request, user, group_id, exc, {})
    done = "cancelled" if what == "cancel" else "restored"
    return _see_other(f"/organise/groups/{group_id}?done={done}#sessions-title")


@signed_in
async def answer_request(request: Request, user: User) -> Response:
    app = ctx(request)
    group_id = request.path_params["group_id"]
    form = await request.form()
    person_id = field(form, "user_id", 36)
    message = field(form, "message", 2000)
    what = field(form, "decision", 20)
    try:
        async with transaction(app.sessions) as db:
            if what not in ("accept", "decline"):
                await actions.group_for(db, user, group_id, GroupRole.MODERATOR)
                raise FieldError(f"message-{person_id}", _("Choose to accept or decline."))
            decision = await actions.decide_join_request(
                db, user, group_id, person_id, app.clock(), accept=what == "accept", message=message
            )
            # Tell the person, if they chose to give an e-mail address: an outbox job,
            # sent after the commit and retried (peerhub/notify/letters.py).
            if decision.person.email:
                await letters.join_answer(db, decision.person.id, decision.group.id)
    except FieldError as exc:
        return await _group_page_error(
            request, user, group_id, exc, {f"message-{person_id}": message}
        )
    except NotFound:
        # The request was withdrawn or already answered (perhaps by another moderator).
        async with app.sessions() as db:
            await actions.group_for(db, user, group_id, GroupRole.MODERATOR)
        return _see_other(f"/organise/groups/{group_id}?done=gone#requests-title")
    return _see_other(f"/organise/groups/{group_id}?done={what}ed#requests-title")
