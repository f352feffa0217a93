"""The home page, the crisis route and error handlers."""

from __future__ import annotations

import logging

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response

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


async def server_error(request: Request, exc: Exception) -> Response:
    # The exception type only: its text may quote user input.
    log.error("unhandled %s on %s %s", type(exc).__name__, request.method, request.url.path)
    return error(
        request,
        500,
        "Something went wrong on our side. Your work may not have been "
        "saved. Please try again in a moment.",
    )


async def database_unavailable(request: Request, exc: Exception) -> Response:
    log.error("database unavailable (%s) on %s", type(exc).__name__, request.url.path)
    return error(
        request,
        503,
        "PeerHub cannot reach its database right now. If you need help "
        "now, the contacts on this page are always available.",
        headers={"Retry-After": "30"},
    )
