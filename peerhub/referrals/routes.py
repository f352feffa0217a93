"""Referral pages: refer someone, take up a referral, the inbox, and who sees what."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from babel import dates
from sqlalchemy import select
from sqlalchemy.orm import selectinload
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from peerhub import i18n
from peerhub.db import transaction
from peerhub.errors import FieldError, Forbidden, NotFound
from peerhub.i18n import _
from peerhub.models import Group, ReferralEvent, User
from peerhub.notify import letters
from peerhub.privacy.erasure import ERASED_NAME, ERASED_REFERRAL_REASON
from peerhub.referrals import actions
from peerhub.security.permissions import organisation_checked
from peerhub.sharing.names import NAMES
from peerhub.sharing.rules import referrer_views
from peerhub.web.guards import optional_user, signed_in
from peerhub.web.render import ctx, error, form_text, ip
from peerhub.web.render import render as render_page


def render(request: Request, template: str, context: dict[str, Any], **kwargs: Any) -> Response:
    """A page of this area: group names in the page's language (peerhub/sharing/names.py)."""
    return render_page(request, template, {**NAMES, **_SHOWN, **context}, **kwargs)


def moment(at: datetime) -> str:
    """A date and time of day to the minute, in UK time: "4 Mar 2025, 09:30" in British
    English; the page's language joins its own date and time as CLDR says."""
    pattern = dates.get_datetime_format("medium", locale=i18n.current().locale)
    return (
        str(pattern)
        .replace("'", "")
        .replace("{1}", i18n.format_date(at))
        .replace("{0}", i18n.format_time(at))
    )


def person_label(name: str) -> str:
    """A referred person's name as the page shows it: the marker an erasure stores in
    place of the name (English, as data) in the page's language."""
    return _("Deleted account") if name == ERASED_NAME else name


def reason_text(reason: str) -> str:
    """Why a referral changed: the professional's or organiser's own words as written;
    the reason PeerHub stores when the person deleted their account, in the page's
    language."""
    if reason == ERASED_REFERRAL_REASON:
        return _("The person deleted their PeerHub account.")
    return reason


def event_text(event: actions.ShownEvent | ReferralEvent) -> str:
    """One step of a referral's history: when (UK time), its state, and why."""
    when = moment(event.at)
    if event.reason:
        return _(
            "%(time)s: %(state)s — %(reason)s",
            time=when,
            state=actions.state_label(event.state),
            reason=reason_text(event.reason),
        )
    return _("%(time)s: %(state)s", time=when, state=actions.state_label(event.state))


# What the referral pages use to show states, names and history.
_SHOWN = {
    "state_label": actions.state_label,
    "event_text": event_text,
    "person_label": person_label,
}


async def _group_or_404(request: Request) -> Group | Response:
    """The group, if people may be referred to it (its organisation is verified);
    otherwise the same 404 as its public page."""
    app = ctx(request)
    async with app.sessions() as db:
        group = await db.scalar(
            select(Group)
            .where(Group.slug == request.path_params["slug"], Group.kind == "group")
            .options(selectinload(Group.texts))
        )
        checked = group is not None and await organisation_checked(db, group.id)
    if group is None or not checked:
        return error(request, 404, _("We could not find that group."))
    return group


@signed_in
async def refer_page(request: Request, user: User) -> Response:
    group = await _group_or_404(request)
    if isinstance(group, Response):
        return group
    return render(request, "referrals/refer.html", {"group": group, "values": {}})


@signed_in
async def refer(request: Request, user: User) -> Response:
    app = ctx(request)
    form = await request.form()
    values = {
        k: form_text(form, k, 1000)
        for k in ("person_name", "contact_method", "contact_value", "note")
    }
    group = await _group_or_404(request)
    if isinstance(group, Response):
        return group
    try:
        async with transaction(app.sessions) as db:
            made = await actions.create_referral(
                db,
                user,
                group.slug,
                app.clock(),
                person_name=values["person_name"],
                contact_method=values["contact_method"],
                contact_value=values["contact_value"],
                note=values["note"],
                consent=form.get("consent") == "yes",
            )
    except NotFound:
        return error(request, 404, _("We could not find that group."))
    except Forbidden:
        return error(
            request,
            403,
            _(
                "Only verified professionals can refer someone. Anyone can "
                "join a group themselves, without a referral."
            ),
        )
    except FieldError as exc:
        return render(
            request,
            "referrals/refer.html",
            {"group": group, "values": values, "errors": {exc.field: exc.message}},
            status=422,
        )
    base = app.settings.base_url
    return render(
        request,
        "referrals/created.html",
        {
            "group": group,
            "code": made.code,
            "link": f"{base}/r/{made.code}",
            "referral": made.referral,
        },
    )


async def landing(request: Request) -> Response:
    """What a referred person sees when they open their link or type their code."""
    app = ctx(request)
    code = request.path_params.get("code") or request.query_params.get("code", "")
    if not code.strip():
        # The form to type a code in: a page that works, so 200 (and no guess to count).
        return render(request, "referrals/landing.html", {"missing": True, "code": ""})
    if not ip_allowed(request):
        return error(
            request,
            429,
            _("Too many tries. Please wait a minute."),
            headers={"Retry-After": "60"},
        )
    async with app.sessions() as db:
        try:
            referral = await actions.by_code(db, code)
        except NotFound:
            return render(
                request, "referrals/landing.html", {"missing": True, "code": code}, status=404
            )
        group = await db.scalar(
            select(Group)
            .where(Group.id == referral.group_id)
            .options(selectinload(Group.texts))  # its name in the page's language
        )
        professional = (
            await db.get(User, referral.professional_id) if referral.professional_id else None
        )
        taking = await organisation_checked(db, referral.group_id)
    viewer = optional_user(request)
    return render(
        request,
        "referrals/landing.html",
        {
            "referral": referral,
            # Hidden progress reads as "accepted" to anyone but the person who took it up.
            "state": actions.shown_state(referral, viewer),
            "made_it": viewer is not None and viewer.id == referral.professional_id,
            "group": group,
            "professional": professional,
            "code": actions.normalise_code(code),
            # False when PeerHub withdrew the organisation's verification after the
            # referral was made: nobody can join the group, so it cannot be taken up.
            "taking": taking,
        },
    )


def ip_allowed(request: Request) -> bool:
    allowed: bool = request.app.state.code_limits.take(ip(request)).allowed
    return allowed


@signed_in
async def take_up(request: Request, user: User) -> Response:
    if not ip_allowed(request):
        return error(
            request,
            429,
            _("Too many tries. Please wait a minute."),
            headers={"Retry-After": "60"},
        )
    app = ctx(request)
    try:
        async with transaction(app.sessions) as db:
            referral = await actions.claim(db, user, request.path_params["code"], app.clock())
            group = await db.get(Group, referral.group_id)
    except NotFound:
        return error(request, 404, _("That referral code is not valid, or it has been used."))
    except Forbidden:
        return error(
            request,
            403,
            _("You made this referral. The person it is for takes it up with this code."),
        )
    except FieldError as exc:
        return error(request, 409, exc.message, field=exc.field)
    assert group is not None  # noqa: S101 - a referral's group is a foreign key
    # Already in the group: the referral became "joined" now, which its professional
    # must see (and be e-mailed, by the outbox job the action recorded) as an acceptance.
    return RedirectResponse(f"/groups/{group.slug}/join?referral=1", status_code=303)


@signed_in
async def mine(request: Request, user: User) -> Response:
    """Referrals I made (as a professional) and referrals for me (as the person)."""
    app = ctx(request)
    async with app.sessions() as db:
        made = await actions.sent_by(db, user) if user.is_professional else []
        for_me = await actions.for_person(db, user)
        # What each referred person chose to share with the professional who referred them.
        shared = await referrer_views(db, user) if made else {}
    return render(
        request,
        "referrals/mine.html",
        {"made": made, "for_me": for_me, "shared": shared, **_SHOWN},
    )


@signed_in
async def person_action(request: Request, user: User) -> Response:
    app = ctx(request)
    form = await request.form()
    what = form_text(form, "action", 20)
    referral_id = request.path_params["referral_id"]
    try:
        async with transaction(app.sessions) as db:
            if what == "share":
                await actions.set_sharing(db, user, referral_id, True, app.clock())
            elif what == "unshare":
                await actions.set_sharing(db, user, referral_id, False, app.clock())
            elif what == "withdraw":
                await actions.withdraw(db, user, referral_id, app.clock())
            else:
                raise FieldError("action", _("Unknown action."))
    except NotFound:
        return error(request, 404, _("We could not find that referral."))
    except FieldError as exc:
        return error(request, 422, exc.message, field=exc.field)
    return RedirectResponse("/referrals?saved=1", status_code=303)


@signed_in
async def inbox_page(request: Request, user: User) -> Response:
    app = ctx(request)
    async with app.sessions() as db:
        rows = await actions.inbox(db, user)
        events = await actions.events_of(db, [r.id for r, _ in rows])
        if not rows and not await actions.moderated_group_ids(db, user):
            return error(
                request, 403, _("Only a group's organisers and moderators can see its referrals.")
            )
    return render(request, "referrals/inbox.html", {"rows": rows, "events": events, **_SHOWN})


@signed_in
async def inbox_action(request: Request, user: User) -> Response:
    app = ctx(request)
    form = await request.form()
    state = form_text(form, "state", 20)
    reason = form_text(form, "reason", 1000)
    try:
        async with transaction(app.sessions) as db:
            referral = await actions.decide(
                db,
                user,
                request.path_params["referral_id"],
                state,
                app.clock(),
                reason=reason,
                redirect_to=form_text(form, "redirect_to", 100),
                outcome=form_text(form, "outcome", 1000),
            )
            # The person and the referrer are e-mailed after the commit, by the outbox:
            # a mail problem never undoes the answer, and is retried.
            letters.referral_answer(db, referral.id, state)
    except NotFound:
        return error(request, 404, _("We could not find that referral."))
    except FieldError as exc:
        return error(request, 422, exc.message, field=exc.field)
    return RedirectResponse("/organise/referrals?saved=1", status_code=303)


routes: list[BaseRoute] = [
    Route("/groups/{slug}/refer", refer_page, methods=["GET"]),
    Route("/groups/{slug}/refer", refer, methods=["POST"]),
    Route("/r", landing, methods=["GET"]),
    Route("/r/{code}", landing, methods=["GET"]),
    Route("/r/{code}", take_up, methods=["POST"]),
    Route("/referrals", mine, methods=["GET"]),
    Route("/referrals/{referral_id}", person_action, methods=["POST"]),
    Route("/organise/referrals", inbox_page, methods=["GET"]),
    Route("/organise/referrals/{referral_id}", inbox_action, methods=["POST"]),
]
