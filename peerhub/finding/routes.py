"""Find a group (page and JSON API), unmet demand, and waiting-list offers."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from starlette.datastructures import ImmutableMultiDict
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from peerhub import crisis, languages
from peerhub.communities import Vocabulary
from peerhub.db import transaction
from peerhub.errors import FieldError, NotFound
from peerhub.finding import actions, wording
from peerhub.finding.needs import (
    BUILT_IN_VOCABULARY,
    PARTS_OF_DAY,
    LanguageQuestionError,
    Search,
    from_form,
    from_json,
    to_saved,
)
from peerhub.finding.profiles import MatchIndex
from peerhub.groups import proposals, texts
from peerhub.i18n import _, lazy_gettext, ngettext
from peerhub.matching import MatchResult
from peerhub.models import User
from peerhub.outcomes import actions as outcomes
from peerhub.security.permissions import sees_organisers_reports
from peerhub.security.ratelimit import Decision
from peerhub.sharing import rules as sharing
from peerhub.taxonomy import ACCESS, COMMON_LANGUAGES, STAGES, TOPICS
from peerhub.web import questions
from peerhub.web.guards import admin_only, optional_user, signed_in
from peerhub.web.render import ctx, error, ip, read_json, render
from peerhub.web.work import presence_of

# Languages offered as check boxes; any other can be typed by name, in English or in
# the language itself, with suggestions (a <datalist>, which needs no JavaScript).
CHECKBOX_LANGUAGES = ("en", "bfi", "cy", "ur", "pa", "bn", "pl", "so", "ar", "yue", "ro", "ti")
LIST_FIELDS = ("languages", "communities", "topics", "days", "times", "access")
VALUE_FIELDS = (
    "other_languages",
    "stage",
    "format",
    "place",
    "postcode",
    "max_distance_km",
    "age",
    "access_essential",
    "gender",
    "community_other",
)
# Long enough that an over-long "something else" is refused with a 422, not cut.
VALUE_LIMITS = {"community_other": 400}
MAX_BODY = 32 * 1024
PLACE_PROMPT = lazy_gettext(
    "Tell us your town or postcode to see groups that meet near you. Until then, "
    "groups you can join online come first."
)
GENDER_OPTIONS = (
    ("woman", lazy_gettext("Woman")),
    ("man", lazy_gettext("Man")),
    ("non_binary", lazy_gettext("Non-binary")),
    ("prefer_not_to_say", lazy_gettext("I would rather not say")),
)
PARTS_OF_DAY_LABELS = {
    "morning": lazy_gettext("Morning"),
    "afternoon": lazy_gettext("Afternoon"),
    "evening": lazy_gettext("Evening"),
}


def match_index(request: Request) -> MatchIndex:
    index: MatchIndex = request.app.state.match_index
    return index


def _limited(request: Request) -> Decision:
    decision: Decision = request.app.state.match_limits.take(ip(request))
    return decision


def _too_many(request: Request, decision: Decision) -> Response:
    wait = max(1, int(decision.retry_after + 0.999))
    return error(
        request,
        429,
        ngettext(
            "Too many searches. Please wait %(num)s second.",
            "Too many searches. Please wait %(num)s seconds.",
            wait,
        ),
        headers={"Retry-After": str(wait)},
    )


def fitted_contacts(request: Request, search: Search | None) -> crisis.FittedContacts:
    """The crisis contacts for this person: sign-language and text routes first for
    someone who signs, their nation's own lines, how to ask for an interpreter."""
    routes = crisis.routes_of(ctx(request).settings)
    if search is None:
        return crisis.fit(routes)
    nation = search.place.place.nation if search.place is not None else None
    return crisis.fit(routes, languages=search.needs.languages, nation=nation)


def young_people_services(request: Request) -> list[dict[str, str | None]]:
    """The deployment's services for young people (PEERHUB_YOUNG_PEOPLE_SERVICES)."""
    return [
        {"name": c.name, "how": c.how, "description": c.description, "href": c.href}
        for c in ctx(request).settings.young_people_services
    ]


def for_young_person(result: MatchResult) -> bool:
    return any(step.code == "young_people" for step in result.next_steps)


def crisis_contacts(request: Request, search: Search | None = None) -> list[dict[str, object]]:
    return [crisis.contact_dict(c) for c in fitted_contacts(request, search).contacts]


def next_steps(
    request: Request, result: MatchResult, search: Search | None = None
) -> list[dict[str, Any]]:
    base = ctx(request).settings.base_url
    steps: list[dict[str, Any]] = []
    for step in result.next_steps:
        item: dict[str, Any] = step.as_dict()
        if step.code == "young_people":
            item["contacts"] = young_people_services(request)
        elif step.code == "crisis_contacts":
            item["url"] = f"{base}/crisis"
            item["contacts"] = crisis_contacts(request, search)
        elif step.code == "register_interest":
            item["url"] = f"{base}/find/interest"
        elif step.code == "waiting_list":
            urls = {r.group_id: r.url for r in result.results}
            item["urls"] = [urls[g] for g in step.group_ids if g in urls]
        steps.append(item)
    return steps


async def _run(request: Request, search: Search) -> MatchResult:
    app = ctx(request)
    index = await match_index(request).get()
    user = optional_user(request)
    async with transaction(app.sessions) as db:
        result = await actions.find_groups(db, index, search)
        if not result.good_fit:
            actions.record_demand(db, search, app.clock())
        if user is not None:
            # Followed without names, by kind of reasons (docs/matching.md, "Outcomes").
            await outcomes.record_shown(db, index, search.needs, result, user.id, app.clock())
    return result


async def api_match(request: Request) -> Response:
    decision = _limited(request)
    if not decision.allowed:
        return _too_many(request, decision)
    # 415, 413 or 422 (JSON) for a body that is not plain, finite, shallow JSON.
    body = await read_json(request, max_bytes=MAX_BODY)
    app = ctx(request)
    user = optional_user(request)
    try:
        async with app.sessions() as db:
            blocked = await actions.blocked_ids(db, user)
            vocab = await proposals.vocabulary(db)
        search = from_json(body, app.clock(), blocked, vocab)
    except LanguageQuestionError as exc:
        # Not a search we can run as asked: which of these languages is meant?
        return JSONResponse(
            {
                "error": f"{exc.field}: {exc.message}",
                "field": exc.field,
                "question": exc.as_dict(),
            },
            422,
        )
    except FieldError as exc:
        return JSONResponse({"error": f"{exc.field}: {exc.message}", "field": exc.field}, 422)
    result = wording.moderator_here(
        wording.shown_result(await _run(request, search)), presence_of(request)
    )
    payload = {
        "results": [r.as_dict() for r in result.results],
        "relaxed": list(result.relaxed),
        "relaxed_codes": list(result.relaxed_codes),
        "next_steps": next_steps(request, result, search),
        "crisis_first": result.crisis_first,
        "good_fit": result.good_fit,
        "crisis_contacts": crisis_contacts(request, search),
        "interpreter": fitted_contacts(request, search).interpreter,
        "young_people_services": (
            young_people_services(request) if for_young_person(result) else []
        ),
        # Where the search was centred, and whether a typo was corrected (never
        # silently): "note" says so and "did_you_mean" lists the other guesses.
        "place": search.place.as_dict() if search.place is not None else None,
        "place_prompt": str(PLACE_PROMPT) if search.place_unknown else None,
    }
    return JSONResponse(payload)


def _split(params: ImmutableMultiDict[str, str]) -> tuple[dict[str, str], dict[str, list[str]]]:
    values = {k: params.get(k, "")[: VALUE_LIMITS.get(k, 100)] for k in VALUE_FIELDS}
    # Links and saved searches from before the field was "place" say "postcode".
    legacy = values.pop("postcode", "")
    values["place"] = values.get("place") or legacy
    lists = {k: [v[:40] for v in params.getlist(k)[:40]] for k in LIST_FIELDS}
    return values, lists


def _form_context(
    values: dict[str, str],
    lists: dict[str, list[str]],
    vocab: Vocabulary = BUILT_IN_VOCABULARY,
    in_use: frozenset[str] = frozenset(),
) -> dict[str, Any]:
    # Languages chosen earlier (from a question, or a saved search) stay as boxes.
    chosen = [t for t in (languages.canonical_tag(v) for v in lists.get("languages", [])) if t]
    boxes = [wording.language_choice(tag) for tag in dict.fromkeys([*CHECKBOX_LANGUAGES, *chosen])]
    return {
        "values": values,
        "lists": lists,
        "languages": boxes,
        "chosen_languages": frozenset(chosen),
        "language_suggestions": languages.suggestions([*COMMON_LANGUAGES, *in_use]),
        "communities": [
            (c.code, c.label if c.added else wording.label(c.label)) for c in vocab.communities
        ],
        "genders": GENDER_OPTIONS,
        "stages": questions.STAGE_OPTIONS,
        "topics": [(t.code, wording.label(t.label)) for t in TOPICS.terms],
        "access": [{"code": t.code, "label": wording.label(t.label)} for t in ACCESS.terms],
        "formats": questions.FORMAT_OPTIONS,
        "distances": questions.KM_OPTIONS,
        "days": questions.DAY_OPTIONS,
        "parts_of_day": [(part, PARTS_OF_DAY_LABELS[part]) for part in PARTS_OF_DAY],
    }


async def _languages_in_use(request: Request) -> frozenset[str]:
    index = await match_index(request).get()
    return index.languages_in_use()


def _question_context(
    exc: LanguageQuestionError, values: dict[str, str], lists: dict[str, list[str]]
) -> dict[str, Any]:
    """The form again, asking which language was meant in place of the words given."""
    asked = exc.question.asked.casefold()
    if exc.field == "other_languages":
        kept = [
            p.strip()
            for p in values.get("other_languages", "").split(",")
            if p.strip() and p.strip().casefold()[:40] != asked
        ]
        values = {**values, "other_languages": ", ".join(kept)}
    else:
        lists = {
            **lists,
            "languages": [v for v in lists.get("languages", []) if v.casefold()[:40] != asked],
        }
    return {
        "values": values,
        "lists": lists,
        "question": {
            "asked": exc.question.asked,
            "text": wording.language_question(exc.question),
            "choices": [wording.language_choice(t) for t in exc.question.choices],
            "any": wording.language_choice(exc.question.any_tag) if exc.question.any_tag else None,
        },
    }


def _place_links(params: ImmutableMultiDict[str, str], search: Search) -> list[tuple[str, str]]:
    """(label, link) for each other place the person may have meant: the same search
    with that place instead."""
    if search.place is None:
        return []
    kept = [(k, v) for k, v in params.multi_items() if k not in ("place", "postcode")]
    return [
        (alt.label, "/find?" + urlencode([*kept, ("place", alt.query)]))
        for alt in search.place.alternatives
    ]


async def find_page(request: Request) -> Response:
    """GET: the form; with ?search=1, the results too. Works without JavaScript."""
    app = ctx(request)
    user = optional_user(request)
    params = request.query_params
    searching = params.get("search") == "1"
    in_use = await _languages_in_use(request)
    if not searching:
        async with app.sessions() as db:
            saved = await actions.saved_needs(db, user)
            vocab = await proposals.vocabulary(db)
        values, lists = _split(ImmutableMultiDict())
        if saved:
            values.update({k: str(saved.get(k, "")) for k in VALUE_FIELDS if k != "postcode"})
            values["place"] = values["place"] or str(saved.get("postcode", ""))
            lists.update({k: [str(v) for v in saved.get(k, [])] for k in LIST_FIELDS})
        return render(
            request,
            "find/find.html",
            {**_form_context(values, lists, vocab, in_use), "saved": bool(saved)},
        )
    decision = _limited(request)
    if not decision.allowed:
        return _too_many(request, decision)
    values, lists = _split(params)
    context = _form_context(values, lists, BUILT_IN_VOCABULARY, in_use)
    try:
        async with app.sessions() as db:
            blocked = await actions.blocked_ids(db, user)
            vocab = await proposals.vocabulary(db)
        context = _form_context(values, lists, vocab, in_use)
        search = from_form(values, lists, app.clock(), blocked, vocab)
    except LanguageQuestionError as exc:
        # A question, not an error: the form again, asking which language is meant.
        return render(
            request, "find/find.html", {**context, **_question_context(exc, values, lists)}
        )
    except FieldError as exc:
        return render(
            request, "find/find.html", {**context, "errors": {exc.field: exc.message}}, status=422
        )
    result = wording.moderator_here(
        wording.shown_result(await _run(request, search)), presence_of(request)
    )
    async with app.sessions() as db:
        # Each group's name in the page's language where its organisers gave one.
        names = await texts.shown_names(db, [r.group_id for r in result.results])
    query = request.url.query
    return render(
        request,
        "find/find.html",
        {
            **context,
            "result": result,
            "shown_names": names,
            "steps": next_steps(request, result, search),
            "fitted": fitted_contacts(request, search),
            "young_services": (young_people_services(request) if for_young_person(result) else []),
            "query": query,
            "searched": True,
            "where": search.place,
            "place_links": _place_links(params, search),
            "place_prompt": PLACE_PROMPT if search.place_unknown else None,
        },
    )


async def register_interest(request: Request) -> Response:
    """Record, anonymously, that someone wants a group that does not exist yet."""
    app = ctx(request)
    form = await request.form()
    values = {k: str(form.get(k, ""))[: VALUE_LIMITS.get(k, 100)] for k in VALUE_FIELDS}
    lists = {k: [str(v)[:40] for v in form.getlist(k)[:40]] for k in LIST_FIELDS}
    try:
        async with app.sessions() as db:
            vocab = await proposals.vocabulary(db)
        search = from_form(values, lists, app.clock(), vocab=vocab)
    except FieldError as exc:
        return error(request, 422, exc.message, field=exc.field)
    user = optional_user(request)
    async with transaction(app.sessions) as db:
        actions.record_demand(db, search, app.clock(), kind="interest")
        if user is not None and form.get("notify") == "yes":
            await actions.save_needs(db, user, to_saved(values, lists), app.clock(), notify=True)
    return render(
        request, "find/interest.html", {"notify": user is not None and form.get("notify") == "yes"}
    )


@signed_in
async def save_search(request: Request, user: User) -> Response:
    app = ctx(request)
    form = await request.form()
    async with transaction(app.sessions) as db:
        if form.get("forget") == "yes":
            await actions.forget_needs(db, user)
            return RedirectResponse("/find?forgotten=1", status_code=303)
        values = {k: str(form.get(k, ""))[: VALUE_LIMITS.get(k, 100)] for k in VALUE_FIELDS}
        lists = {k: [str(v)[:40] for v in form.getlist(k)[:40]] for k in LIST_FIELDS}
        try:
            from_form(values, lists, app.clock(), vocab=await proposals.vocabulary(db))
        except FieldError as exc:
            return error(request, 422, exc.message, field=exc.field)
        await actions.save_needs(db, user, to_saved(values, lists), app.clock(), notify=False)
    return RedirectResponse("/find?saved=1", status_code=303)


@signed_in
async def demand_page(request: Request, user: User) -> Response:
    app = ctx(request)
    async with app.sessions() as db:
        if not await sees_organisers_reports(db, user):
            return error(request, 403, _("Only organisers and administrators can see this report."))
        cells = await actions.demand_cells(db, app.clock())
        words = await actions.other_words(db, app.clock())
        vocab = await proposals.vocabulary(db)
    return render(
        request,
        "find/demand.html",
        {
            "cells": cells,
            "words": words,
            "community_names": vocab.names(),
            "stage_label": {t.code: wording.label(t.label) for t in STAGES.terms},
            "language_name": wording.language_name,
            "community_label": wording.community_label,
        },
    )


@signed_in
async def waiting_page(request: Request, user: User) -> Response:
    app = ctx(request)
    async with app.sessions() as db:
        rows = await actions.my_waiting_lists(db, user)
        places = await actions.free_places(db) if user.is_admin else {}
        waiting_total = len(rows)
    return render(
        request,
        "find/waiting.html",
        {
            "rows": rows,
            "offer_days": actions.OFFER_LIFETIME.days,
            "free_groups": sum(1 for n in places.values() if n > 0),
            "waiting_total": waiting_total,
            "share_items": sharing.ITEMS,
            "share_audiences": sharing.GROUP_AUDIENCES,
        },
    )


@signed_in
async def answer_offer(request: Request, user: User) -> Response:
    app = ctx(request)
    form = await request.form()
    choice = form.get("answer")
    if choice not in ("accept", "decline"):
        return error(request, 422, _("Choose to accept or decline the place."), field="answer")
    try:
        async with transaction(app.sessions) as db:
            group = await actions.answer_offer(
                db,
                user,
                request.path_params["group_id"],
                app.clock(),
                accept=choice == "accept",
                share=sharing.parse_choices(
                    [v for v in form.getlist("share") if isinstance(v, str)],
                    sharing.GROUP_AUDIENCES,
                ),
            )
    except NotFound:
        return error(request, 404, _("There is no offer of a place in that group for you."))
    except FieldError as exc:
        return error(request, 409, exc.message, field=exc.field)
    match_index(request).invalidate()
    if choice == "accept":
        # A referral this answered: its professional is e-mailed by the outbox job the
        # action recorded (peerhub/notify/letters.py).
        return RedirectResponse(f"/groups/{group.slug}?joined=1", status_code=303)
    return RedirectResponse("/waiting-lists?declined=1", status_code=303)


@admin_only(refusal=lazy_gettext("Only PeerHub administrators can do this."))
async def admin_allocate(request: Request, user: User) -> Response:
    app = ctx(request)
    async with transaction(app.sessions) as db:
        offers = await actions.allocate_places(db, app.clock(), actor_id=user.id)
    match_index(request).invalidate()
    return RedirectResponse(f"/waiting-lists?offered={len(offers)}", status_code=303)


routes: list[BaseRoute] = [
    Route("/find", find_page, methods=["GET"]),
    Route("/find/interest", register_interest, methods=["POST"]),
    Route("/find/save", save_search, methods=["POST"]),
    Route("/api/match", api_match, methods=["POST"]),
    Route("/organise/demand", demand_page, methods=["GET"]),
    Route("/waiting-lists", waiting_page, methods=["GET"]),
    Route("/waiting-lists/{group_id}", answer_offer, methods=["POST"]),
    Route("/admin/allocate", admin_allocate, methods=["POST"]),
]
