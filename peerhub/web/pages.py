"""The home page, the crisis route and error handlers."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from babel import Locale
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response
from starlette.types import Scope

from peerhub import crisis, places
from peerhub import languages as language_names
from peerhub.config import CONTACT_NATIONS
from peerhub.errors import BadInput, Forbidden, NotFound
from peerhub.i18n import _, lazy_gettext
from peerhub.inputs import JSONProblem
from peerhub.security.middleware import cookie_header
from peerhub.taxonomy import language_name
from peerhub.web.render import ctx, error, nation_of, render

ONE_YEAR = 60 * 60 * 24 * 365

log = logging.getLogger("peerhub.web")

# Word for word what an unknown address gets, so "not yours" and "no such thing"
# cannot be told apart.
NOT_FOUND = lazy_gettext(
    "We could not find that page. It may have moved, or the address may be wrong."
)
FORBIDDEN = lazy_gettext("You do not have permission to do that in this group.")


async def home(request: Request) -> Response:
    return render(request, "home.html")


async def favicon(request: Request) -> Response:
    """/favicon.ico, which browsers ask for whatever the page's <link rel="icon"> says."""
    path = request.app.state.settings.frontend_dir / "static" / "favicon.ico"
    return FileResponse(path, media_type="image/vnd.microsoft.icon")


CRISIS_LANGUAGES = ("en", "bfi", "cy", "gd", "ga", "ar", "ur", "pa", "bn", "pl", "so", "ro", "ti")


@dataclass(frozen=True, slots=True)
class LanguageChoice:
    """A language in /crisis's list: named in itself (CLDR), so that someone who reads
    only that language finds it, marked with its own ``lang``; BSL, which has no
    written name of its own, in the page's language."""

    code: str
    name: str
    own: bool  # named in itself (the option carries lang and dir)


def _language_choice(code: str) -> LanguageChoice:
    if code == "bfi":
        return LanguageChoice(code, _("British Sign Language"), own=False)
    try:
        loc = Locale.parse(code)
        name = loc.get_display_name(loc) or language_name(code)
    except (ValueError, TypeError):
        return LanguageChoice(code, language_name(code), own=False)
    return LanguageChoice(code, name[:1].upper() + name[1:], own=True)


@dataclass(frozen=True, slots=True)
class CrisisAsk:
    """What /crisis and /api/crisis-contacts were asked, and the contacts that fit."""

    fitted: crisis.FittedContacts
    errors: dict[str, str]
    place_label: str | None
    # The person's nation: from the place, else ``?nation=``, else the remembered choice.
    nation: str | None


def _crisis_for(request: Request) -> CrisisAsk:
    """Contacts fitted to ``?place=`` (a postcode or town: its nation), ``?nation=``
    (England, Scotland, Wales or Northern Ireland) and ``?language=`` (BCP 47 tags,
    repeatable). A bad value names its field; the contacts for everyone are still
    given, so a crisis page never fails for a typo."""
    params = request.query_params
    routes = crisis.routes_of(ctx(request).settings)
    errors: dict[str, str] = {}
    raw_languages = [v.strip() for v in params.getlist("language") if v.strip()][:10]
    languages: list[str] = []
    for raw in raw_languages:
        # By name or by code, in any script (peerhub/languages.py). "Sign language"
        # without saying which still means the person signs: its routes come first.
        try:
            languages.append(language_names.parse(raw[:80]))
        except language_names.LanguageQuestion as question:
            languages.extend(
                question.choices[:1] if question.any_tag is None else [question.any_tag]
            )
        except language_names.LanguageError as exc:
            errors["language"] = _(
                "%(problem)s Choose a language from the list, or leave it empty.",
                problem=exc.message,
            )
    nation: str | None = None
    raw_nation = (params.get("nation") or "").strip()
    if raw_nation:
        nation = crisis.parse_nation(raw_nation)
        if nation is None:
            errors["nation"] = _("Choose a nation from the list, or leave it empty.")
    elif "nation" not in params:
        nation = nation_of(request)  # the choice /crisis remembered
    label: str | None = None
    raw_place = (params.get("place") or "").strip()[:100]
    if raw_place:
        try:
            found = places.resolve(raw_place)
        except places.PlaceError as exc:
            errors["place"] = str(exc)
        else:
            label = found.place.label
            nation = found.place.nation or nation
    if errors:
        return CrisisAsk(crisis.fit(routes), errors, None, None)
    fitted = crisis.fit(routes, languages=languages, nation=nation)
    return CrisisAsk(fitted, errors, label, nation)


async def crisis_page(request: Request) -> Response:
    """Needs no database: served from the configured contacts whatever else is down."""
    asked = _crisis_for(request)
    routes = crisis.routes_of(ctx(request).settings)
    params = request.query_params
    nations: tuple[str, ...] = ("Scotland", "Wales", "Northern Ireland")
    if asked.nation in nations:  # the person's own nation's section first
        nations = (asked.nation, *(n for n in nations if n != asked.nation))
    chosen = crisis.parse_nation(params.get("nation"))
    context = {
        "fitted": asked.fitted,
        "errors": asked.errors,
        "place_label": asked.place_label,
        "nation": asked.nation,
        "asked": bool(params.get("place") or params.getlist("language") or asked.nation),
        "values": {
            "place": (params.get("place") or "")[:100],
            "language": params.get("language", "")[:40],
            "nation": chosen or ("" if "nation" in params else nation_of(request) or ""),
        },
        # Every route, grouped, the person's nation first (the page and its panel).
        "panel": crisis.panel(routes, asked.nation),
        "crisis_panel": crisis.panel(routes, asked.nation),
        "nation_choices": [(n, crisis.nation_name(n)) for n in CONTACT_NATIONS],
        # (code, name) pairs, as peerhub/templates/easyread/crisis.html reads them.
        "language_choices": [(code, language_name(code)) for code in CRISIS_LANGUAGES],
        # Each named in itself, with its own lang (crisis.html).
        "language_options": [_language_choice(code) for code in CRISIS_LANGUAGES],
        "sign_routes": [
            c
            for c in routes
            if c.sign_language and (asked.nation is None or crisis.serves(c, asked.nation))
        ],
        "nation_routes": [
            (nation, [c for c in routes if nation in c.nations and not c.sign_language])
            for nation in nations
        ],
        "language_routes": [c for c in routes if c.languages],
        "interpreter_advice": crisis.interpreter_advice(asked.nation),
    }
    response = render(request, "crisis.html", context, status=422 if asked.errors else 200)
    if "nation" in params and "nation" not in asked.errors:
        # Remembered on this device for the crisis panel of every page (the nation only),
        # or forgotten when the person chose "every nation".
        response.headers.append(
            "set-cookie",
            cookie_header(
                crisis.NATION_COOKIE,
                (chosen or "").replace(" ", "-"),
                secure=ctx(request).settings.secure_cookies,
                max_age=ONE_YEAR if chosen else 0,
            ),
        )
    return response


async def crisis_json(request: Request) -> Response:
    asked = _crisis_for(request)
    fitted, errors, place_label = asked.fitted, asked.errors, asked.place_label
    body: dict[str, object] = {
        "crisis_contacts": [crisis.contact_dict(c) for c in fitted.contacts],
        "interpreter": fitted.interpreter,
        "nation": fitted.nation,
        "place": place_label,
    }
    if errors:
        field = sorted(errors)[0]
        body.update({"error": f"{field}: {errors[field]}", "field": field})
        return JSONResponse(body, status_code=422)
    return JSONResponse(body)


async def http_exception(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)  # noqa: S101 - registered for HTTPException only
    messages = {
        404: str(NOT_FOUND),
        405: _("That page does not accept this kind of request."),
    }
    return error(
        request,
        exc.status_code,
        messages.get(exc.status_code, str(exc.detail)),
        headers=exc.headers,
    )


async def not_found(request: Request, exc: Exception) -> Response:
    """:class:`peerhub.errors.NotFound` from any route or action: the site's ordinary 404,
    the same words as an unknown address (its text, an id, is never shown)."""
    assert isinstance(exc, NotFound)  # noqa: S101 - registered for NotFound only
    return error(request, 404, str(NOT_FOUND))


async def forbidden(request: Request, exc: Exception) -> Response:
    """:class:`peerhub.errors.Forbidden` from any route or action: a 403. A route that has
    its own words for a refusal catches the error itself."""
    assert isinstance(exc, Forbidden)  # noqa: S101 - registered for Forbidden only
    return error(request, 403, str(FORBIDDEN))


def printable(text: str) -> str:
    """Text for a log line: control characters escaped (no forged lines), cut short."""
    return text[:200].encode("unicode_escape").decode("ascii")


def where(scope: Scope) -> str:
    """The route a request reached, for a log line: its template ("/r/{code}"), never the
    codes, names or bytes its path carries; the path itself (made printable) only when
    no route matched."""
    template = getattr(scope.get("route"), "path", None)
    if isinstance(template, str):
        return template
    return printable(str(scope.get("path", "")))


async def bad_input(request: Request, exc: Exception) -> Response:
    """A value no database can store reached the database layer (peerhub/inputs.py)."""
    assert isinstance(exc, BadInput)  # noqa: S101 - registered for BadInput only
    log.info("refused input %s on %s", type(exc).__name__, where(request.scope))
    return error(request, 400, _("%(problem)s Remove it and try again.", problem=str(exc)))


async def json_problem(request: Request, exc: Exception) -> Response:
    """A JSON body that :func:`peerhub.web.render.read_json` refused: 413, 415 or 422."""
    assert isinstance(exc, JSONProblem)  # noqa: S101 - registered for JSONProblem only
    body = {"error": exc.message, "field": "body"}
    return JSONResponse(body, status_code=exc.status)


async def server_error(request: Request, exc: Exception) -> Response:
    # The exception type only: its text may quote user input.
    log.error("unhandled %s on %s %s", type(exc).__name__, request.method, where(request.scope))
    return error(
        request,
        500,
        _(
            "Something went wrong on our side. Your work may not have been "
            "saved. Please try again in a moment."
        ),
    )


async def database_unavailable(request: Request, exc: Exception) -> Response:
    log.error("database unavailable (%s) on %s", type(exc).__name__, where(request.scope))
    return error(
        request,
        503,
        _(
            "PeerHub cannot reach its database right now. If you need help "
            "now, the contacts on this page are always available."
        ),
        headers={"Retry-After": "30"},
    )
