"""The Open Referral HSDS 3.0 API under ``/hsds/``: public, read-only, no key.

Every response, errors included, carries ``Access-Control-Allow-Origin: *``: the
data is public and the API never reads cookies, so any web page may use it. Errors
are JSON: 422 names the parameter (``{"error": ..., "field": ...}``), an unknown id
is a 404. :data:`OPENAPI_PATHS` describes the endpoints for ``/openapi.json``.
"""

from __future__ import annotations

import logging
import re
import uuid
from collections.abc import Sequence
from datetime import timedelta
from typing import Any, Final

from sqlalchemy.exc import InterfaceError, OperationalError
from starlette.datastructures import MutableHeaders
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route, Router
from starlette.types import Message, Receive, Scope, Send

from peerhub import i18n, taxonomy
from peerhub.directory import hsds_map as m
from peerhub.directory import query
from peerhub.directory.params import (
    HSDS_MAX_PER_PAGE,
    MAX_PAGE,
    Invalid,
    parse_api,
    parse_api_list,
    taxonomy_by_id,
    term_by_id,
)
from peerhub.directory.present import GroupView, view_of
from peerhub.errors import BadInput
from peerhub.i18n import _
from peerhub.web.render import ctx

log = logging.getLogger("peerhub.hsds")

ALLOW: Final = "GET, HEAD, OPTIONS"  # read-only: every other method is a 405
CORS: Final = {
    "Access-Control-Allow-Origin": "*",
    "Access-Control-Allow-Methods": ALLOW,
    "Access-Control-Allow-Headers": "Accept, Content-Type",
    "Access-Control-Max-Age": "86400",
}
CANCELLED_WINDOW: Final = timedelta(days=90)


def _site(request: Request) -> m.Site:
    app = ctx(request)
    return m.Site(app.settings.base_url, app.clock())


def _json(body: Any, status: int = 200) -> JSONResponse:
    return JSONResponse(body, status_code=status, media_type="application/json")


def _problem(status: int, message: str, field: str | None = None, **extra: Any) -> JSONResponse:
    body: dict[str, Any] = {"error": message}
    if field:
        body["field"] = field
    body.update(extra)
    return _json(body, status)


def _invalid(exc: Invalid) -> JSONResponse:
    return _problem(422, exc.message, exc.field, errors=exc.errors)


def _items(request: Request) -> list[tuple[str, str]]:
    return list(request.query_params.multi_items())


async def _check_organisations(request: Request, ids: Sequence[str]) -> None:
    if not ids:
        return
    async with ctx(request).sessions() as db:
        for oid in ids:
            if await query.public_organisation(db, organisation_id=oid) is None:
                raise Invalid({"organization_id": _("No organization has the id %(id)s.", id=oid)})


async def root(request: Request) -> Response:
    base = ctx(request).settings.base_url
    return _json(
        {
            "version": m.HSDS_VERSION,
            "profile": m.PROFILE_URL,
            "openapi_url": f"{base}/openapi.json",
        }
    )


async def services(request: Request) -> Response:
    try:
        q = parse_api(_items(request), statuses=query.STATUSES)
        await _check_organisations(request, q.organisation_ids)
    except Invalid as exc:
        return _invalid(exc)
    site = _site(request)
    async with ctx(request).sessions() as db:
        found = await query.find(db, q.search, page=q.page, per_page=q.per_page, order="id")
        groups = await query.load(db, found.ids)
    # The data is the same in every language (only error messages are translated).
    with i18n.using(None):
        contents = [m.service_brief(view_of(g, site.now, meetings=0), site) for g in groups]
    return _json(m.page(contents, total=found.total, page=q.page, per_page=q.per_page))


def _full_view(group: Any, site: m.Site) -> GroupView:
    return view_of(group, site.now, meetings=1, cancelled_until=site.now + CANCELLED_WINDOW)


def _uuid_or_none(value: str) -> str | None:
    try:
        return str(uuid.UUID(value))
    except ValueError:
        return None


async def service(request: Request) -> Response:
    gid = _uuid_or_none(request.path_params["id"])
    site = _site(request)
    group = None
    if gid is not None:
        async with ctx(request).sessions() as db:
            group = await query.public_group(db, group_id=gid)
    if group is None:
        return _problem(404, _("No service has this id."))
    with i18n.using(None):
        body = m.service_full(_full_view(group, site), site)
    return _json(body)


async def organizations(request: Request) -> Response:
    try:
        page, per_page, words = parse_api_list(_items(request))
    except Invalid as exc:
        return _invalid(exc)
    async with ctx(request).sessions() as db:
        orgs, total = await query.organisations_page(db, words=words, page=page, per_page=per_page)
    contents = [m.organization_brief(o) for o in orgs]
    return _json(m.page(contents, total=total, page=page, per_page=per_page))


async def organization(request: Request) -> Response:
    oid = _uuid_or_none(request.path_params["id"])
    site = _site(request)
    org = None
    if oid is not None:
        async with ctx(request).sessions() as db:
            org = await query.public_organisation(db, organisation_id=oid)
            if org is not None:
                groups = await query.group_ids_of_organisations(db, [org.id], query.STATUSES)
    if org is None:
        return _problem(404, _("No organization has this id."))
    services_brief = [
        {
            "id": gid,
            "organization_id": org.id,
            "name": name,
            "status": m.STATUS.get(status, "inactive"),
        }
        for gid, name, status in groups[org.id]
    ]
    with i18n.using(None):
        body = m.organization_full(org, services_brief, site)
    return _json(body)


async def service_at_locations(request: Request) -> Response:
    try:
        q = parse_api(_items(request), statuses=query.STATUSES)
        await _check_organisations(request, q.organisation_ids)
    except Invalid as exc:
        return _invalid(exc)
    site = _site(request)
    async with ctx(request).sessions() as db:
        found = await query.find_sites(db, q.search, page=q.page, per_page=q.per_page)
        groups = await query.load(db, list(dict.fromkeys(gid for gid, _ in found.sites)))
    with i18n.using(None):
        views = {g.id: view_of(g, site.now, meetings=0) for g in groups}
        contents = [
            m.sal_brief(views[gid], "virtual" if kind == "virtual" else "physical", site)
            for gid, kind in found.sites
            if gid in views
        ]
    return _json(m.page(contents, total=found.total, page=q.page, per_page=q.per_page))


async def service_at_location(request: Request) -> Response:
    candidates = m.sal_candidates(request.path_params["id"])
    site = _site(request)
    async with ctx(request).sessions() as db:
        for gid, kind in candidates.items():
            group = await query.public_group(db, group_id=gid)
            if group is not None and kind in m.sal_kinds(group.format):
                with i18n.using(None):
                    body = m.sal_full(_full_view(group, site), kind, site)
                return _json(body)
    return _problem(404, _("No service_at_location has this id."))


def _matches(words: Sequence[str], *texts: str) -> bool:
    """The same rule as the groups' search: each word begins a word of the text."""
    if not words:
        return True
    tokens = query.search_tokens(words)
    haystack = " ".join(texts)
    return bool(tokens) and all(
        re.search(query.word_start_pattern(t, "sqlite"), haystack) for t in tokens
    )


def _paged(request: Request, items: list[dict[str, Any]], page: int, per_page: int) -> Response:
    window = items[(page - 1) * per_page : page * per_page]
    return _json(m.page(window, total=len(items), page=page, per_page=per_page))


async def taxonomies(request: Request) -> Response:
    try:
        page, per_page, words = parse_api_list(_items(request))
    except Invalid as exc:
        return _invalid(exc)
    items = [
        m.taxonomy_obj(t)
        for t in taxonomy.ALL_TAXONOMIES
        if _matches(words, t.name, t.description, t.code)
    ]
    return _paged(request, items, page, per_page)


async def taxonomy_detail(request: Request) -> Response:
    tax = taxonomy_by_id(request.path_params["id"].lower())
    if tax is None:
        return _problem(404, _("No taxonomy has this id."))
    return _json(m.taxonomy_obj(tax))


async def taxonomy_terms(request: Request) -> Response:
    items_in = _items(request)
    try:
        page, per_page, words = parse_api_list(items_in)
        wanted = [v for k, v in items_in if k == "taxonomy_id" for v in v.split(",") if v.strip()]
        chosen = []
        for raw in wanted:
            found = taxonomy_by_id(raw.strip().lower())
            if found is None:
                raise Invalid(
                    {"taxonomy_id": _("No PeerHub taxonomy has the id %(id)s.", id=repr(raw[:40]))}
                )
            chosen.append(found.code)
        parent = request.query_params.get("parent_id")
        if parent is not None and _uuid_or_none(parent) is None:
            raise Invalid({"parent_id": f"{parent[:40]!r} is not a taxonomy term id (a UUID)."})
        top_only = request.query_params.get("top_only")
        if top_only is not None and top_only not in ("true", "false"):
            raise Invalid({"top_only": _("Give true or false.")})
    except Invalid as exc:
        return _invalid(exc)
    terms = [
        t
        for tax in taxonomy.ALL_TAXONOMIES
        for t in tax.terms
        if (not chosen or tax.code in chosen) and _matches(words, t.label, t.description, t.code)
    ]
    # PeerHub's taxonomies are flat: every term is at the top, none has a parent.
    if parent is not None:
        terms = []
    return _paged(request, [m.term_obj(t) for t in terms], page, per_page)


async def taxonomy_term(request: Request) -> Response:
    term = term_by_id(request.path_params["id"].lower())
    if term is None:
        return _problem(404, _("No taxonomy term has this id."))
    return _json(m.term_obj(term))


async def preflight(request: Request) -> Response:
    return Response(status_code=204)


async def not_found(request: Request) -> Response:
    if request.method == "OPTIONS":
        return Response(status_code=204)
    return _problem(404, _("There is no such HSDS endpoint. Start at /hsds/."))


_GET = ["GET", "HEAD"]

ROUTES: Final = [
    Route("/", root, methods=_GET),
    Route("/services", services, methods=_GET),
    Route("/services/{id}", service, methods=_GET),
    Route("/organizations", organizations, methods=_GET),
    Route("/organizations/{id}", organization, methods=_GET),
    Route("/service_at_locations", service_at_locations, methods=_GET),
    Route("/service_at_locations/{id}", service_at_location, methods=_GET),
    Route("/taxonomies", taxonomies, methods=_GET),
    Route("/taxonomies/{id}", taxonomy_detail, methods=_GET),
    Route("/taxonomy_terms", taxonomy_terms, methods=_GET),
    Route("/taxonomy_terms/{id}", taxonomy_term, methods=_GET),
    Route("/{rest:path}", not_found, methods=["GET", "HEAD", "OPTIONS"]),
]


class HSDSApp:
    """The /hsds/ router, with CORS headers and JSON on every answer, errors included."""

    def __init__(self) -> None:
        self.router = Router(routes=ROUTES, redirect_slashes=False)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.router(scope, receive, send)
            return
        started = False

        async def send_with_cors(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                headers = MutableHeaders(scope=message)
                for key, value in CORS.items():
                    headers[key] = value
                headers["Vary"] = "Accept-Encoding"
            await send(message)

        if scope["method"] == "OPTIONS":
            # A CORS preflight (or a plain OPTIONS): what is offered, for any path. A
            # browser asking to send POST or DELETE sees they are not, and does not.
            await Response(status_code=204, headers={"Allow": ALLOW})(
                scope, receive, send_with_cors
            )
            return
        if scope["method"] not in ("GET", "HEAD"):
            # Read-only: every other method, on any path, before any routing or body.
            response = _problem(
                405,
                _(
                    "The HSDS API is read-only: %(method)s is not offered. "
                    "Use GET (allowed: %(allow)s).",
                    method=scope["method"][:20],
                    allow=ALLOW,
                ),
            )
            response.headers["Allow"] = ALLOW
            await response(scope, receive, send_with_cors)
            return
        try:
            await self.router(scope, receive, send_with_cors)
        except HTTPException as exc:
            if started:
                raise
            response = _problem(exc.status_code, str(exc.detail))
            await response(scope, receive, send_with_cors)
        except (OperationalError, InterfaceError, ConnectionError, TimeoutError) as exc:
            if started:
                raise
            log.error("HSDS: database unavailable (%s)", type(exc).__name__)
            response = _problem(
                503, _("The directory's database is not reachable. Try again soon.")
            )
            response.headers["Retry-After"] = "30"
            await response(scope, receive, send_with_cors)
        except BadInput as exc:
            if started:
                raise
            await _problem(400, str(exc))(scope, receive, send_with_cors)
        except Exception as exc:
            # Still JSON with CORS, as promised for every answer; logged by type only.
            if started:
                raise
            log.error("HSDS: unhandled %s", type(exc).__name__)
            response = _problem(500, _("Something went wrong on our side. Try again soon."))
            await response(scope, receive, send_with_cors)


# --- OpenAPI ------------------------------------------------------------------------------

_SCHEMA_BASE: Final = "https://raw.githubusercontent.com/openreferral/specification/3.0/schema"


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"{_SCHEMA_BASE}/{name}"}


def _param(name: str, description: str, schema: dict[str, Any]) -> dict[str, Any]:
    return {
        "name": name,
        "in": "query",
        "required": False,
        "description": description,
        "schema": schema,
    }


_PAGE: Final = [
    _param(
        "page",
        f"Page number, 1 to {MAX_PAGE}.",
        {"type": "integer", "minimum": 1, "maximum": MAX_PAGE, "default": 1},
    ),
    _param(
        "per_page",
        f"Items per page, 1 to {HSDS_MAX_PER_PAGE}.",
        {"type": "integer", "minimum": 1, "maximum": HSDS_MAX_PER_PAGE, "default": 20},
    ),
    _param("format", "Only json is offered.", {"type": "string", "enum": ["json"]}),
]
_SEARCH: Final = _param(
    "search",
    "Words that must all appear (case-insensitively) in the name or description.",
    {"type": "string", "maxLength": 200},
)
_FILTERS: Final = [
    _SEARCH,
    *_PAGE,
    _param(
        "taxonomy_term_id",
        "Term ids from /taxonomy_terms (repeat or comma-separate). Terms of one taxonomy "
        "match any; terms of different taxonomies must all match.",
        {"type": "string"},
    ),
    _param(
        "taxonomy_id",
        "Taxonomy ids from /taxonomies: services with any term of the taxonomy.",
        {"type": "string"},
    ),
    _param(
        "organization_id", "Services of this organization.", {"type": "string", "format": "uuid"}
    ),
    _param(
        "modified_after",
        "Services changed at or after this ISO 8601 date or date-time (UTC if no offset).",
        {"type": "string", "format": "date-time"},
    ),
    _param(
        "postcode",
        "A UK postcode or district: services with a venue near its district's centre, "
        "nearest first. Online-only services have no venue and are left out.",
        {"type": "string"},
    ),
    _param(
        "proximity",
        "Distance from the postcode in metres (as HSDS says; '5km' also works), up to "
        "200000. Default 10000.",
        {"type": "string"},
    ),
]


def _page_of(item: dict[str, str]) -> dict[str, Any]:
    return {
        "type": "object",
        "required": [
            "total_items",
            "total_pages",
            "page_number",
            "size",
            "first_page",
            "last_page",
            "empty",
            "contents",
        ],
        "properties": {
            "total_items": {"type": "integer"},
            "total_pages": {"type": "integer"},
            "page_number": {"type": "integer"},
            "size": {"type": "integer"},
            "first_page": {"type": "boolean"},
            "last_page": {"type": "boolean"},
            "empty": {"type": "boolean"},
            "contents": {"type": "array", "items": item},
        },
    }


_ERROR: Final = {
    "type": "object",
    "required": ["error"],
    "properties": {
        "error": {"type": "string", "description": "What is wrong, in plain words."},
        "field": {"type": "string", "description": "The parameter at fault (422 only)."},
        "errors": {"type": "object", "additionalProperties": {"type": "string"}},
    },
}


def _ok(description: str, schema: dict[str, Any]) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _error(description: str) -> dict[str, Any]:
    return _ok(description, _ERROR)


def _get(
    summary: str,
    operation: str,
    schema: dict[str, Any],
    parameters: list[dict[str, Any]] | None = None,
    *,
    by_id: bool = False,
) -> dict[str, Any]:
    responses: dict[str, Any] = {"200": _ok(summary, schema)}
    if parameters:
        responses["422"] = _error("A parameter is wrong; 'field' names it.")
    if by_id:
        responses["404"] = _error("No such id.")
    op: dict[str, Any] = {
        "summary": summary,
        "operationId": operation,
        "tags": ["HSDS"],
        "responses": responses,
    }
    if parameters:
        op["parameters"] = parameters
    body: dict[str, Any] = {"get": op}
    if by_id:
        body["parameters"] = [
            {
                "name": "id",
                "in": "path",
                "required": True,
                "schema": {"type": "string", "format": "uuid"},
            }
        ]
    return body


#: OpenAPI 3.1 ``paths`` for the HSDS endpoints, self-contained (no local $refs):
#: responses point at the official compiled HSDS 3.0 schemas.
OPENAPI_PATHS: Final[dict[str, Any]] = {
    "/hsds/": _get(
        "HSDS version, profile and where this API's OpenAPI description is.",
        "getHsdsMeta",
        {
            "type": "object",
            "properties": {
                "version": {"type": "string"},
                "profile": {"type": "string", "format": "uri"},
                "openapi_url": {"type": "string", "format": "uri"},
            },
        },
    ),
    "/hsds/services": _get(
        "A page of services (peer support groups).",
        "getHsdsServices",
        _page_of(_ref("compiled/service_list.json")),
        _FILTERS,
    ),
    "/hsds/services/{id}": _get(
        "One service, fully nested.", "getHsdsService", _ref("compiled/service.json"), by_id=True
    ),
    "/hsds/organizations": _get(
        "A page of organizations.",
        "getHsdsOrganizations",
        _page_of(_ref("compiled/organization_list.json")),
        [_SEARCH, *_PAGE],
    ),
    "/hsds/organizations/{id}": _get(
        "One organization with its services.",
        "getHsdsOrganization",
        _ref("compiled/organization.json"),
        by_id=True,
    ),
    "/hsds/service_at_locations": _get(
        "A page of service_at_locations: each group at its venue, online, or both.",
        "getHsdsServiceAtLocations",
        _page_of(_ref("compiled/service_at_location_list.json")),
        _FILTERS,
    ),
    "/hsds/service_at_locations/{id}": _get(
        "One service_at_location, fully nested.",
        "getHsdsServiceAtLocation",
        _ref("compiled/service_at_location.json"),
        by_id=True,
    ),
    "/hsds/taxonomies": _get(
        "PeerHub's taxonomies.",
        "getHsdsTaxonomies",
        _page_of(_ref("taxonomy.json")),
        [_SEARCH, *_PAGE],
    ),
    "/hsds/taxonomies/{id}": _get(
        "One taxonomy.", "getHsdsTaxonomy", _ref("taxonomy.json"), by_id=True
    ),
    "/hsds/taxonomy_terms": _get(
        "Terms of PeerHub's taxonomies.",
        "getHsdsTaxonomyTerms",
        _page_of(_ref("taxonomy_term.json")),
        [
            _SEARCH,
            *_PAGE,
            _param("taxonomy_id", "Terms of this taxonomy.", {"type": "string", "format": "uuid"}),
            _param(
                "parent_id",
                "Terms with this parent (PeerHub's taxonomies are flat: always empty).",
                {"type": "string", "format": "uuid"},
            ),
            _param("top_only", "Top-level terms only (all of them are).", {"type": "boolean"}),
        ],
    ),
    "/hsds/taxonomy_terms/{id}": _get(
        "One taxonomy term.", "getHsdsTaxonomyTerm", _ref("taxonomy_term.json"), by_id=True
    ),
}
