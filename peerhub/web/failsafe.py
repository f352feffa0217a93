"""The last line: an unhandled exception becomes the 500 page, and the connection lives on.

Starlette's own ``ServerErrorMiddleware`` sends its 500 and then **re-raises** the
exception, so that the server can log it. uvicorn, seeing an exception from the app
after the response has started, closes the connection. A browser or proxy that had
already sent its next request on that keep-alive connection then gets a reset
instead of an answer: one bad request (a NUL in a path, on PostgreSQL) broke the
next, good one. uvicorn also logs the traceback with the exception's text, which
can quote what the person sent.

:class:`Failsafe` sits inside the security headers (so a 500 carries them) and
outside everything else. It answers an exception raised before the response started
with :func:`peerhub.web.pages.server_error` (the 500 page, or JSON for APIs, logged
by exception type only) and does not re-raise it, so the server keeps the
connection. An exception after a complete response is logged and dropped; one in the
middle of a response is re-raised, since the connection cannot be trusted then.
"""

from __future__ import annotations

import logging

from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from peerhub.i18n import lazy_gettext
from peerhub.web.pages import server_error, where

log = logging.getLogger("peerhub.web")

FALLBACK = lazy_gettext("Something went wrong on our side. Please try again in a moment.")


class Failsafe:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = complete = False

        async def watched(message: Message) -> None:
            nonlocal started, complete
            if message["type"] == "http.response.start":
                started = True
            elif message["type"] == "http.response.body" and not message.get("more_body"):
                complete = True
            await send(message)

        try:
            await self.app(scope, receive, watched)
        except Exception as exc:
            if not started:
                await (await _answer(scope, receive, exc))(scope, receive, send)
                return
            log.error(
                "unhandled %s on %s %s after the response %s",
                type(exc).__name__,
                scope.get("method"),
                where(scope),
                "was sent" if complete else "had started",
            )
            if not complete:
                raise


async def _answer(scope: Scope, receive: Receive, exc: Exception) -> Response:
    try:
        return await server_error(Request(scope, receive), exc)
    except Exception as failed:
        # The page itself could not be drawn (no authentication state yet, a template
        # error): a plain answer, still a 500 and still no traceback to the server.
        log.error(
            "unhandled %s, and the error page failed with %s",
            type(exc).__name__,
            type(failed).__name__,
        )
        return PlainTextResponse(str(FALLBACK), status_code=500)
