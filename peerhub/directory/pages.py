"""The public directory's pages and iCalendar feeds: no login, no JavaScript needed.

``/groups`` searches with a GET form, so every search has a shareable URL;
``/groups/{slug}`` is a group's page (with schema.org JSON-LD of its meetings);
``/organisations/{slug}`` lists an organisation's groups; ``/groups.ics`` and
``/groups/{slug}.ics`` are calendars to subscribe to.
"""

from __future__ import annotations

import math
import uuid
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any, Final
from urllib.parse import urlencode, urlsplit

from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from peerhub import languages, taxonomy
from peerhub.directory import ical, jsonld, query
from peerhub.directory.params import (
    WEB_PER_PAGE,
    InvalidForm,
    WebQuery,
    parse_web,
)
from peerhub.directory.present import GroupView, Meeting, view_of
from peerhub.finding import wording
from peerhub.groups.texts import shown_text
from peerhub.i18n import SOURCE, current, format_number, gettext, ngettext
from peerhub.models import Group, Organisation
from peerhub.rotas import queries as rota_queries
from peerhub.web import questions, work
from peerhub.web.guards import optional_user
from peerhub.web.render import ctx, error, render

GROUP_MEETINGS: Final = 5
FEED_MEETINGS: Final = 26  # about six months of a weekly group
FEED_GROUPS: Final = 50
FEED_MEETINGS_PER_GROUP: Final = 8
CANCELLED_WINDOW: Final = timedelta(days=120)
CALENDAR: Final = "text/calendar; charset=utf-8"
# Beyond this many matches the pages say "200 or more" instead of counting on.
WEB_COUNT_LIMIT: Final = 200


def _chosen(form: dict[str, object]) -> dict[str, frozenset[str]]:
    """The values chosen in each list, as sets: each form option is then one lookup."""
    chosen: dict[str, frozenset[str]] = {}
    for key in ("language", "community", "topic", "stage", "format", "day", "access"):
        values = form.get(key)
        chosen[key] = frozenset(values) if isinstance(values, list) else frozenset()
    return chosen


async def _choices(request: Request, chosen: tuple[str, ...] = ()) -> dict[str, Any]:
    """The filter's options. Languages: every one in use by an active public group (and
    any chosen): in British English by name and by its own name ("Welsh (Cymraeg)"),
    in another language by its name in that language (CLDR)."""
    async with ctx(request).sessions() as db:
        in_use = await query.languages_in_use(db)
    return {
        "languages": [
            (c.tag, c.label if current().identifier == SOURCE else wording.language_name(c.tag))
            for c in languages.choices([*in_use, *chosen])
        ],
        "communities": [(t.code, wording.label(t.label)) for t in taxonomy.COMMUNITIES.terms],
        # The words /find uses for the same questions (peerhub/web/questions.py).
        "stages": list(questions.STAGE_OPTIONS),
        "topics": [(t.code, wording.label(t.label)) for t in taxonomy.TOPICS.terms],
        "access": [(t.code, wording.label(t.label)) for t in taxonomy.ACCESS.terms],
        "formats": [*questions.FORMAT_OPTIONS, questions.HYBRID_ONLY],
        "days": list(questions.DAY_OPTIONS),
        "miles": list(questions.MILE_OPTIONS),
    }


async def _resolve_organisation(
    request: Request, wq: WebQuery
) -> tuple[WebQuery, Organisation | None]:
    """Put the organisation's id into the search; 422 if the slug is unknown."""
    if not wq.organisation_slug:
        return wq, None
    async with ctx(request).sessions() as db:
        org = await query.public_organisation(db, slug=wq.organisation_slug)
    if org is None:
        raise InvalidForm(
            {"organisation": gettext("There is no organisation at that address on PeerHub.")},
            wq.form,
        )
    search = replace(wq.search, organisation_ids=(org.id,))
    return WebQuery(search, wq.page, wq.form, wq.organisation_slug, wq.place, wq.miles), org


async def _views(
    db: AsyncSession,
    now: datetime,
    ids: list[str],
    distances: dict[str, float],
    meetings: int = 1,
) -> list[GroupView]:
    groups = await query.load(db, ids)
    taken = await query.places_taken(db, ids)
    return [
        view_of(
            g,
            now,
            places_taken=taken.get(g.id, 0),
            meetings=meetings,
            distance_km=distances.get(g.id),
        )
        for g in groups
    ]


def _href(path: str, items: list[tuple[str, str]]) -> str:
    return f"{path}?{urlencode(items)}" if items else path


async def groups_page(request: Request) -> Response:
    organisation = None
    try:
        wq = parse_web(list(request.query_params.multi_items()))
        wq, organisation = await _resolve_organisation(request, wq)
    except InvalidForm as exc:
        return render(
            request,
            "directory/groups.html",
            {
                "errors": exc.errors,
                "form": exc.form,
                "chosen": _chosen(exc.form),
                "choices": await _choices(request),
                "searched": True,
            },
            status=422,
        )
    app = ctx(request)
    async with app.sessions() as db:
        found = await query.find(
            db, wq.search, page=wq.page, per_page=WEB_PER_PAGE, count_limit=WEB_COUNT_LIMIT
        )
        views = await _views(db, app.clock(), found.ids, found.distances_km)
    pages = max(1, math.ceil(found.total / WEB_PER_PAGE))
    more = wq.page < pages or (found.at_least and len(found.ids) == WEB_PER_PAGE)
    canonical = wq.query_items()
    return render(
        request,
        "directory/groups.html",
        {
            "errors": {},
            "form": wq.form,
            "chosen": _chosen(wq.form),
            "choices": await _choices(request, wq.search.languages),
            "views": views,
            "total": found.total,
            "at_least": found.at_least,
            "page": wq.page,
            "pages": pages,
            "per_page": WEB_PER_PAGE,
            "searched": bool(canonical),
            "organisation": organisation,
            "place": wq.place,
            "miles": wq.miles,
            "prev_href": _href("/groups", wq.query_items(page=wq.page - 1))
            if wq.page > 1
            else None,
            "next_href": _href("/groups", wq.query_items(page=wq.page + 1)) if more else None,
            "feed_href": _href("/groups.ics", canonical),
            "feed_limit": FEED_GROUPS,
        },
    )


def _page_url(request: Request, slug: str) -> str:
    return f"{ctx(request).settings.base_url}/groups/{slug}"


async def group_page(request: Request) -> Response:
    slug = request.path_params["slug"]
    app = ctx(request)
    now = app.clock()
    user = optional_user(request)
    async with app.sessions() as db:
        group = await query.public_group(db, slug=slug)
        taken = await query.places_taken(db, [group.id]) if group else {}
        # A member's way into the room, with its next meeting and whether it is open.
        place = (
            await work.place_in(db, user, group.id, now, work.presence_of(request))
            if group is not None and user is not None
            else None
        )
        # Who runs the next session, by pseudonym: for people with a place only.
        cover = (
            (await rota_queries.next_cover(db, [group], now)).get(group.id)
            if group is not None and place is not None
            else None
        )
    if group is None:
        return error(
            request, 404, gettext("We could not find that group. It may have moved or closed.")
        )
    view = view_of(
        group,
        now,
        places_taken=taken.get(group.id, 0),
        meetings=GROUP_MEETINGS,
        cancelled_until=now + CANCELLED_WINDOW,
    )
    base = app.settings.base_url
    events = jsonld.group_events(
        view, _page_url(request, slug), f"{base}/organisations/{group.organisation.slug}"
    )
    return render(
        request,
        "directory/group.html",
        {
            "view": view,
            "jsonld": jsonld.script_json(events) if events else None,
            "place": place,
            "next_cover": cover,
        },
    )


async def organisation_page(request: Request) -> Response:
    key = request.path_params["slug"]
    app = ctx(request)
    async with app.sessions() as db:
        org = await query.public_organisation(db, slug=key)
        if org is None and _is_uuid(key):
            by_id = await query.public_organisation(db, organisation_id=key.lower())
            if by_id is not None:
                return RedirectResponse(f"/organisations/{by_id.slug}", status_code=301)
        ids: list[str] = []
        if org is not None:
            found = await query.find(
                db, query.Search(organisation_ids=(org.id,)), page=1, per_page=200
            )
            ids = found.ids
        views = await _views(db, app.clock(), ids, {}) if org is not None else []
    if org is None:
        return error(request, 404, gettext("We could not find that organisation."))
    website = (
        org.website if org.website and urlsplit(org.website).scheme in ("http", "https") else None
    )
    return render(
        request,
        "directory/organisation.html",
        {"org": org, "views": views, "website": website, "text": shown_text(org)},
    )


def _is_uuid(value: str) -> bool:
    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return True


# --- iCalendar ----------------------------------------------------------------------------


def _host(request: Request) -> str:
    return urlsplit(ctx(request).settings.base_url).hostname or "peerhub"


def _events(view: GroupView, page_url: str, host: str) -> list[ical.Event]:
    """A group's meetings as calendar events: PeerHub's words in the request's language
    (its ``?lang=``, the account's or cookie's choice, or Accept-Language); the group's
    name and description are its own text, as in the HSDS API and JSON-LD."""
    g = view.group
    stamp = max(g.updated_at, view.organisation.updated_at)
    name = g.name
    if g.format == "online":
        where = gettext("Online (join the group on PeerHub for the room)")
    else:
        where = ", ".join(x for x in (g.address, g.postcode) if x)
        if g.format == "hybrid":
            where = gettext("%(address)s (or online)", address=where)
    run_by = gettext(
        "Run by %(organisation)s. More, and how to join: %(url)s",
        organisation=view.organisation.name,
        url=page_url,
    )
    description = g.description
    about = f"{description}\n\n{run_by}" if description else run_by
    coords = (
        (g.latitude, g.longitude)
        if g.format != "online" and g.latitude is not None and g.longitude is not None
        else None
    )
    cancelled = gettext("Cancelled: %(group)s", group=name)
    meetings: list[Meeting] = sorted([*view.meetings, *view.cancelled], key=lambda s: s.start)
    return [
        ical.Event(
            uid=f"{g.id}-{ical.utc_stamp(s.start)}@{host}",
            stamp=stamp,
            start=s.start,
            end=s.end,
            summary=cancelled if s.cancelled else name,
            description=about,
            location=where,
            url=page_url,
            geo=coords,
            cancelled=s.cancelled,
        )
        for s in meetings
    ]


def _calendar_response(body: str, filename: str) -> Response:
    return Response(
        body.encode("utf-8"),
        media_type=CALENDAR,
        headers={"Content-Disposition": f'inline; filename="{filename}"'},
    )


async def group_feed(request: Request) -> Response:
    slug = request.path_params["slug"]
    app = ctx(request)
    async with app.sessions() as db:
        group = await query.public_group(db, slug=slug)
    if group is None:
        return error(request, 404, gettext("We could not find that group."))
    now = app.clock()
    view = view_of(group, now, meetings=FEED_MEETINGS, cancelled_until=now + CANCELLED_WINDOW)
    events = _events(view, _page_url(request, slug), _host(request))
    name = group.name
    body = ical.calendar(
        gettext("%(group)s (PeerHub)", group=name),
        events,
        description=gettext("Sessions of %(group)s.", group=name),
    )
    return _calendar_response(body, f"{slug}.ics")


async def search_feed(request: Request) -> Response:
    try:
        wq = parse_web(list(request.query_params.multi_items()))
        wq, _ = await _resolve_organisation(request, wq)
    except InvalidForm as exc:
        return error(request, 422, exc.message, field=exc.field)
    app = ctx(request)
    async with app.sessions() as db:
        found = await query.find(
            db, wq.search, page=1, per_page=FEED_GROUPS, count_limit=WEB_COUNT_LIMIT
        )
        groups: list[Group] = await query.load(db, found.ids)
    now = app.clock()
    host = _host(request)
    events: list[ical.Event] = []
    for group in groups:
        view = view_of(
            group, now, meetings=FEED_MEETINGS_PER_GROUP, cancelled_until=now + CANCELLED_WINDOW
        )
        events += _events(view, _page_url(request, group.slug), host)
    events.sort(key=lambda e: (e.start, e.uid))
    if found.total <= FEED_GROUPS:
        description = gettext("Sessions of all peer support groups matching a PeerHub search.")
    elif found.at_least:
        description = ngettext(
            "Sessions of the first %(shown)s of %(num)s or more peer support group matching "
            "a PeerHub search.",
            "Sessions of the first %(shown)s of %(num)s or more peer support groups matching "
            "a PeerHub search.",
            found.total,
            shown=format_number(FEED_GROUPS),
        )
    else:
        description = ngettext(
            "Sessions of the first %(shown)s of %(num)s peer support group matching a "
            "PeerHub search.",
            "Sessions of the first %(shown)s of %(num)s peer support groups matching a "
            "PeerHub search.",
            found.total,
            shown=format_number(FEED_GROUPS),
        )
    body = ical.calendar(gettext("PeerHub groups"), events, description=description)
    return _calendar_response(body, "peerhub-groups.ics")
