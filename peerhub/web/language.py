"""Choosing the language of the interface, and Easy Read: per request, remembered.

The language of a request (peerhub/i18n.py, ``choose``): a shared ``?lang=`` link,
then the signed-in person's choice, then the ``peerhub_lang`` cookie, then the
browser's ``Accept-Language``. The picker on every page (base.html) posts to
``/language``; Easy Read's switch posts to ``/easy-read``. Both remember the choice
in a cookie and, for someone signed in, on their account.
"""

from __future__ import annotations

from typing import Any

from starlette.datastructures import Headers, QueryParams
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp, Receive, Scope, Send

from peerhub import i18n
from peerhub.accounts import actions
from peerhub.accounts.page_helpers import safe_next
from peerhub.db import transaction
from peerhub.i18n import _, lazy_gettext
from peerhub.models import User
from peerhub.security.middleware import cookie_header, read_cookies
from peerhub.web.guards import admin_only
from peerhub.web.render import auth, ctx, error, form_text, render

EASY_COOKIE = "peerhub_easy"
ONE_YEAR = 60 * 60 * 24 * 365


def _user(scope: Scope) -> User | None:
    state = scope.get("state", {})
    who = state.get("auth")
    return getattr(who, "user", None)


class LocaleMiddleware:
    """Sets the request's language and Easy Read before any route or error page runs."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        cookies = read_cookies(headers)
        query = QueryParams(scope.get("query_string", b""))
        user = _user(scope)
        lang = i18n.choose(
            query=query.get("lang"),
            account=user.language if user is not None else None,
            cookie=cookies.get(i18n.LANG_COOKIE),
            accept_language=headers.get("accept-language"),
        )
        i18n.activate(lang)
        easy = query.get("easy")
        if easy in ("1", "0"):
            i18n.set_easy_read(easy == "1")
        elif user is not None and user.easy_read:
            i18n.set_easy_read(True)
        else:
            i18n.set_easy_read(cookies.get(EASY_COOKIE) == "1")
        scope.setdefault("state", {})["language"] = lang
        await self.app(scope, receive, send)


def _back(request: Request, form_next: str) -> str:
    return safe_next(form_next, "/")


async def choose_language(request: Request) -> Response:
    """POST /language: remember a language (cookie, and the account when signed in)."""
    form = await request.form()
    lang = i18n.by_tag(form_text(form, "lang", 40))
    if lang is None:
        return error(request, 422, _("Choose one of the languages in the list."), field="lang")
    who = auth(request)
    if who.user is not None:
        app = ctx(request)
        async with transaction(app.sessions) as db:
            await actions.set_preferences(db, who.user.id, app.clock(), language=lang.tag)
    i18n.activate(lang)
    response = RedirectResponse(_back(request, form_text(form, "next", 2048)), status_code=303)
    response.headers.append(
        "set-cookie",
        cookie_header(
            i18n.LANG_COOKIE,
            lang.tag,
            secure=ctx(request).settings.secure_cookies,
            max_age=ONE_YEAR,
        ),
    )
    return response


async def choose_easy_read(request: Request) -> Response:
    """POST /easy-read: Easy Read on (``on=1``) or off, remembered like the language."""
    form = await request.form()
    on = form_text(form, "on", 2) == "1"
    who = auth(request)
    if who.user is not None:
        app = ctx(request)
        async with transaction(app.sessions) as db:
            await actions.set_preferences(db, who.user.id, app.clock(), easy_read=on)
    response = RedirectResponse(_back(request, form_text(form, "next", 2048)), status_code=303)
    response.headers.append(
        "set-cookie",
        cookie_header(
            EASY_COOKIE,
            "1" if on else "0",
            secure=ctx(request).settings.secure_cookies,
            max_age=ONE_YEAR,
        ),
    )
    return response


async def js_catalogue(request: Request) -> Response:
    """GET /i18n/{tag}.json: the browser scripts' strings in one language."""
    lang = i18n.by_tag(request.path_params["tag"])
    if lang is None:
        return JSONResponse({"error": _("There is no such language here.")}, status_code=404)
    body: dict[str, Any] = {
        "lang": lang.tag,
        "dir": lang.direction,
        "messages": i18n.js_catalogue(lang),
    }
    return JSONResponse(body, headers={"cache-control": "public, max-age=300"})


def _coverage_rows() -> list[dict[str, Any]]:
    rows = []
    for lang in i18n.languages():
        if lang.identifier in (i18n.SOURCE, i18n.PSEUDO):
            continue
        figures = i18n.coverage(lang.identifier)
        total = figures["total"] or 1
        rows.append(
            {
                "language": lang,
                "total": figures["total"],
                "translated": figures["translated"],
                "reviewed": figures["reviewed"],
                "translated_share": figures["translated"] / total,
                "reviewed_share": figures["reviewed"] / total,
            }
        )
    return rows


async def languages_page(request: Request) -> Response:
    """GET /languages: the languages PeerHub speaks, how much of each a fluent speaker
    has checked, and how to help (public: translators need no account to read it)."""
    return render(request, "languages.html", {"rows": _coverage_rows()})


@admin_only(refusal=lazy_gettext("Only administrators can see this page."))
async def admin_languages(request: Request, admin: User) -> Response:
    """GET /admin/languages: each language's coverage and reviewed share, for administrators."""
    return render(request, "admin_languages.html", {"rows": _coverage_rows()})


routes = [
    Route("/languages", languages_page, methods=["GET"]),
    Route("/admin/languages", admin_languages, methods=["GET"]),
    Route("/language", choose_language, methods=["POST"]),
    Route("/easy-read", choose_easy_read, methods=["POST"]),
    Route("/i18n/{tag}.json", js_catalogue, methods=["GET"]),
]
