"""The home page, the crisis route and error handlers."""

from __future__ import annotations

import logging

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response
from starlette.types import Scope

from peerhub.errors import BadInput
from peerhub.inputs import JSONProblem
from peerhub.web.render import ctx, error, render

log = logging.getLogger("peerhub.web")


async def home(request: Request) -> Response:
    return render(request, "home.html")


async def favicon(request: Request) -> Response:
    """/favicon.ico, which browsers ask for whatever the page's <link rel="icon"> says."""
    path = request.app.state.settings.web_dir / "static" / "favicon.ico"
    return FileResponse(path, media_type="image/vnd.microsoft.icon")


async def crisis(request: Request) -> Response:
    """Needs no database: served from the configured contacts whatever else is down."""
    return render(request, "crisis.html")


async def crisis_json(request: Request) -> Response:
    contacts = [
        {"name": c.name, "how": c.how, "description": c.description, "href": c.href}
        for c in ctx(request).settings.crisis_contacts
    ]
    return JSONResponse({"crisis_contacts": contacts})


async def http_exception(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)  # noqa: S101 - registered for HTTPException only
    messages = {
        404: "We could not find that page. It may have moved, or the address may be wrong.",
        405: "That page does not accept this kind of request.",
    }
    return error(
        request,
        exc.status_code,
        messages.get(exc.status_code, str(exc.detail)),
        headers=exc.headers,
    )


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
    return error(request, 400, f"{exc} Remove it and try again.")


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
        "Something went wrong on our side. Your work may not have been "
        "saved. Please try again in a moment.",
    )


async def database_unavailable(request: Request, exc: Exception) -> Response:
    log.error("database unavailable (%s) on %s", type(exc).__name__, where(request.scope))
    return error(
        request,
        503,
        "PeerHub cannot reach its database right now. If you need help "
        "now, the contacts on this page are always available.",
        headers={"Retry-After": "30"},
    )
