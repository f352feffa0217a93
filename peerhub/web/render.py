"""Jinja2 rendering with what every page needs: crisis contacts, who is signed in, CSRF."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from babel.support import LazyProxy
from jinja2 import Environment, FileSystemLoader, Template, TemplateNotFound, select_autoescape
from markupsafe import Markup
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response

from peerhub import crisis, i18n
from peerhub.config import Settings
from peerhub.context import AppContext
from peerhub.i18n import _, lazy_gettext
from peerhub.inputs import MAX_JSON_BYTES, MAX_JSON_DEPTH, JSONProblem, parse_json
from peerhub.security.clientip import client_ip
from peerhub.security.middleware import auth_of, wants_json
from peerhub.security.signins import Auth
from peerhub.taxonomy import language_name
from peerhub.web import landing, questions


def make_environment(settings: Settings) -> Environment:
    env = Environment(
        loader=FileSystemLoader(str(settings.frontend_dir / "templates")),
        autoescape=select_autoescape(default=True, default_for_string=True),
        trim_blocks=True,
        lstrip_blocks=True,
        enable_async=False,
    )
    i18n.install(env)  # {% trans %}, _(), date/number filters, lang_attrs (peerhub/i18n.py)
    env.globals["crisis_contacts"] = settings.crisis_contacts
    env.globals["nation_name"] = crisis.nation_name
    # The panel without a nation, for pages drawn without render() (render() fits it).
    env.globals["crisis_panel"] = crisis.panel(crisis.routes_of(settings))
    env.globals["crisis_where"] = crisis.where_text
    env.globals["crisis_interpreter"] = crisis.interpreter_text
    env.globals["source_parts"] = crisis.source_parts
    env.globals["language_name"] = language_name
    env.globals["work_menu"] = landing.menu  # each role's entry in base.html's menu
    env.globals["ask"] = questions.ASK  # the words /find and /groups share
    return env


def ctx(request: Request) -> AppContext:
    value: AppContext = request.app.state.ctx
    return value


def auth(request: Request) -> Auth:
    return auth_of(request)


def ip(request: Request) -> str:
    peer = request.client.host if request.client else None
    return client_ip(peer, request.headers, ctx(request).settings.trusted_proxies)


def form_text(form: FormData, name: str, limit: int = 2048) -> str:
    """A form field as text, cut to ``limit`` characters ("" when absent or a file)."""
    value = form.get(name)
    return value[:limit] if isinstance(value, str) else ""


def page_template(env: Environment, template: str) -> Template:
    """The page's template: its Easy Read version (``easyread/<same path>``) when Easy Read
    is on and one exists, otherwise the template itself (docs/easy-read.md)."""
    if i18n.easy_read():
        try:
            return env.get_template(f"easyread/{template}")
        except TemplateNotFound:
            pass
    return env.get_template(template)


def nation_of(request: Request) -> str | None:
    """The person's nation, when they said it: ``?nation=`` on any page, else the
    choice /crisis remembered (:data:`peerhub.crisis.NATION_COOKIE`)."""
    said = crisis.parse_nation(request.query_params.get("nation"))
    return said or crisis.parse_nation(request.cookies.get(crisis.NATION_COOKIE))


def crisis_lists(request: Request, env: Environment, panel: crisis.Panel) -> Markup:
    """The crisis panel's lists as HTML, drawn once per language and nation: they are the
    same on every page (the contacts come from the settings, fixed while PeerHub runs), and
    every page carries them, so drawing them each time was most of a small page's work
    (docs/performance.md, "Pages in a language")."""
    cache: dict[tuple[str, str | None, bool], Markup] = request.app.state.crisis_lists
    key = (i18n.current().identifier, panel.nation, i18n.easy_read())
    html = cache.get(key)
    if html is None:
        # An autoescaped template's output: already HTML-safe, like any rendered page.
        drawn = env.get_template("_crisis_lists.html").render(crisis_panel=panel)
        html = Markup(drawn)  # noqa: S704
        cache[key] = html
    return html


def render(
    request: Request,
    template: str,
    context: Mapping[str, Any] | None = None,
    *,
    status: int = 200,
    headers: Mapping[str, str] | None = None,
) -> Response:
    env: Environment = request.app.state.jinja
    who = auth(request)
    values: dict[str, Any] = {
        "request": request,
        "auth": who,
        "user": who.user,
        "csrf_token": who.csrf_token,
        "db_ok": request.scope.get("state", {}).get("db_ok", True),
        "path": request.url.path,
        "lang": i18n.current(),
        "easy_read": i18n.easy_read(),
        # A signed-in person's unread duty notices (peerhub/notify/banner.py); None: no banner.
        "unread_notices": request.scope.get("state", {}).get("unread_notices"),
        # Every crisis route, the person's nation first when known (no database needed).
        "crisis_panel": crisis.panel(
            crisis.routes_of(request.app.state.settings), nation_of(request)
        ),
    }
    if context:
        values.update(context)
    if not context or "crisis_panel" not in context:
        values["crisis_lists"] = crisis_lists(request, env, values["crisis_panel"])
    html = page_template(env, template).render(values)
    return HTMLResponse(html, status_code=status, headers=dict(headers or {}))


def error(
    request: Request,
    status: int,
    message: str,
    *,
    title: str | None = None,
    field: str | None = None,
    headers: Mapping[str, str] | None = None,
) -> Response:
    """A 4xx/5xx as JSON for API callers and as a page (with the crisis route) for people."""
    if request.url.path.startswith("/api/") or wants_json(request.headers):
        body: dict[str, Any] = {"error": message}
        if field:
            body["field"] = field
        return JSONResponse(body, status_code=status, headers=dict(headers or {}))
    return render(
        request,
        "error.html",
        {
            "title": title or _TITLES.get(status) or _("Something went wrong"),
            "message": message,
            "status": status,
        },
        status=status,
        headers=headers,
    )


_TITLES: dict[int, LazyProxy] = {
    400: lazy_gettext("That request did not make sense"),
    401: lazy_gettext("Please sign in"),
    403: lazy_gettext("You cannot do that"),
    404: lazy_gettext("Page not found"),
    405: lazy_gettext("That is not allowed here"),
    413: lazy_gettext("That was too large"),
    422: lazy_gettext("Please check what you entered"),
    429: lazy_gettext("Please wait a moment"),
    500: lazy_gettext("Something went wrong on our side"),
    503: lazy_gettext("PeerHub is having trouble right now"),
}


async def read_json(
    request: Request, *, max_bytes: int = MAX_JSON_BYTES, max_depth: int = MAX_JSON_DEPTH
) -> Any:
    """The request's JSON body, read the one way every JSON API reads it.

    Raises :class:`~peerhub.inputs.JSONProblem` (answered as JSON by the app's handler,
    :func:`peerhub.web.pages.json_problem`): 415 unless the body is sent as
    ``application/json``; 413 as soon as more than ``max_bytes`` have arrived (the
    rest is never buffered); 422 for anything :func:`~peerhub.inputs.parse_json`
    refuses (not JSON, NaN or Infinity, a number too large, too deep, a NUL).
    """
    ctype = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if ctype != "application/json":
        raise JSONProblem(_("Send the request as application/json."), 415)
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > max_bytes:
            raise JSONProblem(_("The body is larger than %(kib)s KiB.", kib=max_bytes // 1024), 413)
        chunks.append(chunk)
    return parse_json(b"".join(chunks), max_bytes=max_bytes, max_depth=max_depth)
