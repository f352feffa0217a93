"""Who may call a route: the signed-in and administrator checks, written once.

A route that needs a signed-in person says so with :func:`signed_in`; one for
PeerHub's administrators with :func:`admin_only`. Either decorator answers a caller
who may not come in, and otherwise calls the route with the person as its second
argument, so a route cannot reach the person without having been checked::

    @signed_in
    async def account_page(request: Request, user: User) -> Response: ...

    @admin_only
    async def admin_page(request: Request, admin: User) -> Response: ...

The answers (docs/architecture.md, "Signed-in routes"):

* nobody signed in, on ``/api/``: 401 JSON ``{"error": "Sign in first."}``;
* nobody signed in, on a page: a 303 to ``/login?next=<this path and query>``;
* signed in but not an administrator, on an :func:`admin_only` route: 403 with the
  route's words (a page for people, JSON for ``/api/`` and JSON callers).

A route that shows something else to someone not signed in (a public page with a
signed-in variant) reads the person with :func:`optional_user`, which never answers
for the route.
"""

from __future__ import annotations

import enum
from collections.abc import Awaitable, Callable
from functools import wraps
from typing import overload
from urllib.parse import quote

from babel.support import LazyProxy
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from peerhub.i18n import _, lazy_gettext
from peerhub.models import User
from peerhub.web.render import auth, error

Handler = Callable[[Request], Awaitable[Response]]
UserHandler = Callable[[Request, User], Awaitable[Response]]

ADMINS_ONLY = lazy_gettext("Only PeerHub administrators can open this page.")


class Need(enum.Enum):
    """Who a decorated route lets in."""

    SIGNED_IN = "signed in"
    ADMIN = "administrator"


# Every route made by the decorators, and whom it lets in (for the tests that walk
# the app's routes: tests/security/test_signed_in_routes.py).
_NEEDS: dict[Callable[..., object], Need] = {}


def need_of(endpoint: Callable[..., object]) -> Need | None:
    """Whom ``endpoint`` lets in, if it was made by :func:`signed_in` or :func:`admin_only`."""
    return _NEEDS.get(endpoint)


def login_redirect(request: Request) -> Response:
    """To the sign-in page, coming back here (path and query) afterwards."""
    target = quote(request.url.path + (f"?{request.url.query}" if request.url.query else ""))
    return RedirectResponse(f"/login?next={target}", status_code=303)


def sign_in_first(request: Request) -> Response:
    """The answer to someone not signed in: 401 JSON on ``/api/``, else to the sign-in page."""
    if request.url.path.startswith("/api/"):
        return error(request, 401, _("Sign in first."))
    return login_redirect(request)


def optional_user(request: Request) -> User | None:
    """The signed-in person, or None: for a route that is open to everyone but shows a
    signed-in person more (it never redirects or refuses)."""
    return auth(request).user


def signed_in(handler: UserHandler) -> Handler:
    """The route needs a signed-in person; it is called with them."""

    @wraps(handler)
    async def route(request: Request) -> Response:
        user = auth(request).user
        if user is None:
            return sign_in_first(request)
        return await handler(request, user)

    _NEEDS[route] = Need.SIGNED_IN
    return route


def _admins(handler: UserHandler, refusal: str | LazyProxy) -> Handler:
    @wraps(handler)
    async def route(request: Request) -> Response:
        user = auth(request).user
        if user is None:
            return sign_in_first(request)
        if not user.is_admin:
            return error(request, 403, str(refusal))
        return await handler(request, user)

    _NEEDS[route] = Need.ADMIN
    return route


@overload
def admin_only(handler: UserHandler, /) -> Handler: ...


@overload
def admin_only(*, refusal: LazyProxy) -> Callable[[UserHandler], Handler]: ...


def admin_only(
    handler: UserHandler | None = None, /, *, refusal: LazyProxy = ADMINS_ONLY
) -> Handler | Callable[[UserHandler], Handler]:
    """The route is for PeerHub's administrators; it is called with the administrator.

    Someone not signed in is answered as by :func:`signed_in`; anyone else who is not an
    administrator gets a 403 saying ``refusal`` (``@admin_only(refusal=lazy_gettext(
    "..."))`` for a route with its own words).
    """
    if handler is not None:
        return _admins(handler, refusal)

    def decorate(handler: UserHandler) -> Handler:
        return _admins(handler, refusal)

    return decorate
