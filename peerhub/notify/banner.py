"""The in-page channel: a signed-in person's unread notices on every page.

:class:`NoticeBanner` (after the sign-in middleware) reads them with one query on
``ix_notices_unread`` for a signed-in person's page requests — not for visitors,
static files, JSON calls or the polling endpoint — and puts them in
``scope["state"]["unread_notices"]``, where :func:`peerhub.web.render.render` hands
them to base.html. The same query reads the person's sound choice (a tone for a new
urgent notice), which the banner gives the page as ``data-sound``. A database that
does not answer shows no banner; the page (and its crisis route) still renders.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from babel.support import LazyProxy
from sqlalchemy.exc import SQLAlchemyError
from starlette.datastructures import Headers
from starlette.types import ASGIApp, Receive, Scope, Send

from peerhub import notify
from peerhub.notify.channels import topic_of

log = logging.getLogger("peerhub.notify")

STATE_KEY = "unread_notices"
# Paths that are never a page with a banner.
_NOT_PAGES = ("/static/", "/api/", "/i18n/", "/sw.js", "/healthz", "/readyz", "/favicon")


@dataclass(frozen=True, slots=True)
class Shown:
    """A notice as the banner shows it: the topic's words (in the page's language)."""

    id: str
    text: LazyProxy
    url: str
    urgent: bool


def shown(notices: list[notify.Notice]) -> list[Shown]:
    return [Shown(n.id, topic_of(n.topic).text, n.url, n.urgent) for n in notices]


class Unread(list[Shown]):
    """The banner's notices (a list, as base.html reads it) and ``sound``: whether the
    page plays a tone for a new urgent notice (the person's choice, on the server)."""

    def __init__(self, notices: list[Shown], sound: bool = True) -> None:
        super().__init__(notices)
        self.sound = sound


class NoticeBanner:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] in ("GET", "HEAD"):
            state = scope.setdefault("state", {})
            who = state.get("auth")
            user = getattr(who, "user", None)
            path: str = scope["path"]
            if user is not None and not path.startswith(_NOT_PAGES):
                accept = Headers(scope=scope).get("accept", "")
                if "application/json" not in accept:
                    state[STATE_KEY] = await _unread(scope, user.id)
        await self.app(scope, receive, send)


async def _unread(scope: Scope, user_id: str) -> Unread:
    try:
        async with scope["app"].state.ctx.sessions() as db:
            notices, sound = await notify.unread_with_sound(db, user_id)
            return Unread(shown(notices), sound)
    except (SQLAlchemyError, OSError, TimeoutError):
        log.warning("unread notices: database unavailable")
        return Unread([])
