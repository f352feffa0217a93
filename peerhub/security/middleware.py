"""Pure ASGI middleware: security headers, authentication, the two-factor gate and CSRF.

Order (outermost first): headers -> authentication -> two-factor gate -> CSRF -> routes.
Starlette has no CSRF protection and no Origin check of its own, so both are here.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Iterable
from http.cookies import SimpleCookie
from typing import Any
from urllib.parse import parse_qs, quote, urlsplit

from sqlalchemy.exc import SQLAlchemyError
from starlette.datastructures import Headers, MutableHeaders
from starlette.responses import JSONResponse, PlainTextResponse, RedirectResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from peerhub.accounts import twofactor
from peerhub.context import AppContext
from peerhub.i18n import _
from peerhub.security import signins
from peerhub.security.tokens import keyed, same

log = logging.getLogger("peerhub.security")

ANON_COOKIE = "peerhub_csrf"
UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
MAX_FORM_BYTES = 64 * 1024


def ctx_of(scope: Scope) -> AppContext:
    ctx: AppContext = scope["app"].state.ctx
    return ctx


def cookie_header(
    name: str, value: str, *, secure: bool, max_age: int | None = None, http_only: bool = True
) -> str:
    parts = [f"{name}={value}", "Path=/", "SameSite=Lax"]
    if http_only:
        parts.append("HttpOnly")
    if secure:
        parts.append("Secure")
    if max_age is not None:
        parts.append(f"Max-Age={max_age}")
    return "; ".join(parts)


def read_cookies(headers: Headers) -> dict[str, str]:
    jar: SimpleCookie = SimpleCookie()
    try:
        jar.load(headers.get("cookie", ""))
    except Exception:
        return {}
    return {k: v.value for k, v in jar.items()}


# Files that are the same for everyone: cacheable, and served without a sign-in.
STATIC_PATHS = ("/favicon.ico",)


def is_static(path: str) -> bool:
    # /i18n/<tag>.json: the scripts' strings of one language, the same for everyone.
    return path.startswith(("/static/", "/i18n/")) or path in STATIC_PATHS


class SecurityHeadersMiddleware:
    """CSP without inline script, framing refused, no-store on everything but static files."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        settings = ctx_of(scope).settings
        connect = " ".join(
            ["'self'"] + [o.replace("http", "ws", 1) for o in settings.allowed_origins]
        )
        csp = (
            "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
            f"connect-src {connect}; font-src 'self'; object-src 'none'; base-uri 'none'; "
            "frame-ancestors 'none'; form-action 'self'"
        )
        static = is_static(scope["path"])

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                h = MutableHeaders(scope=message)
                h.setdefault("Content-Security-Policy", csp)
                h.setdefault("X-Content-Type-Options", "nosniff")
                h.setdefault("X-Frame-Options", "DENY")
                h.setdefault("Referrer-Policy", "strict-origin-when-cross-origin")
                h.setdefault("Cross-Origin-Opener-Policy", "same-origin")
                h.setdefault("Cross-Origin-Resource-Policy", "same-site")
                h.setdefault(
                    "Permissions-Policy",
                    "geolocation=(), camera=(), microphone=(), interest-cohort=()",
                )
                if settings.secure_cookies:
                    h.setdefault("Strict-Transport-Security", "max-age=63072000; includeSubDomains")
                if static:
                    h.setdefault("Cache-Control", "public, max-age=3600")
                else:
                    h.setdefault("Cache-Control", "no-store")
            await send(message)

        await self.app(scope, receive, send_with_headers)


class AuthMiddleware:
    """Puts an :class:`~peerhub.security.signins.Auth` in ``scope["state"]["auth"]``.

    If the database cannot be reached the request goes on as anonymous with
    ``state["db_ok"] = False``: pages that need no data (the crisis route above
    all) still work.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        if scope["path"].startswith("/static/"):
            # Static files need nobody: no sign-in look-up. Error pages (a missing file,
            # a wrong method) still render, as for someone signed out.
            scope.setdefault("state", {})["auth"] = signins.Auth(None, None, "")
            await self.app(scope, receive, send)
            return
        ctx = ctx_of(scope)
        settings = ctx.settings
        cookies = read_cookies(Headers(scope=scope))
        state = scope.setdefault("state", {})
        token = cookies.get(settings.sign_in_cookie_name)
        auth: signins.Auth | None = None
        stale_cookie = False
        state["db_ok"] = True
        if token:
            try:
                async with ctx.sessions() as db, db.begin():
                    found = await signins.resolve(db, settings, token, ctx.clock())
                    standing = await twofactor.standing(db, found[1]) if found else None
                if found is not None and standing is not None:
                    row, user = found
                    auth = signins.Auth(
                        user,
                        row.id,
                        row.csrf_token,
                        must_enrol_2fa=standing.must_enrol,
                        roles=standing.roles,
                    )
                else:
                    stale_cookie = True
            except (SQLAlchemyError, OSError, TimeoutError):
                log.warning("sign-in lookup failed: database unavailable")
                state["db_ok"] = False

        anon = cookies.get(ANON_COOKIE)
        new_anon = None
        if anon is None or len(anon) > 64:
            anon = new_anon = secrets.token_urlsafe(24)
        if auth is None:
            auth = signins.Auth(None, None, keyed(settings.secret_key, "csrf-anon", anon))
        state["auth"] = auth

        if scope["type"] == "websocket":
            await self.app(scope, receive, send)
            return

        async def send_with_cookies(message: Message) -> None:
            if message["type"] == "http.response.start":
                h = MutableHeaders(scope=message)
                already = [v for k, v in message["headers"] if k == b"set-cookie"]
                name = settings.sign_in_cookie_name.encode()
                if stale_cookie and not any(v.startswith(name + b"=") for v in already):
                    h.append(
                        "Set-Cookie",
                        cookie_header(
                            settings.sign_in_cookie_name,
                            "",
                            secure=settings.secure_cookies,
                            max_age=0,
                        ),
                    )
                if new_anon is not None:
                    h.append(
                        "Set-Cookie",
                        cookie_header(ANON_COOKIE, new_anon, secure=settings.secure_cookies),
                    )
            await send(message)

        await self.app(scope, receive, send_with_cookies)


ENROL_PATH = "/account/2fa"
# What someone who must set up two-step sign-in, and has not, can still reach.
TWO_FACTOR_OPEN = frozenset(
    {
        "/",
        "/crisis",
        "/api/crisis-contacts",
        "/healthz",
        "/readyz",
        "/signup",
        "/login",
        "/login/2fa",
        "/logout",
        ENROL_PATH,
        "/account/sessions",
        "/api/me",
    }
)


class TwoFactorGate:
    """Sends people whose role needs two-step sign-in, and who have not set it up, to do so.

    Deny by default: until they have, such a person reaches only the paths in
    :data:`TWO_FACTOR_OPEN` (the crisis route, signing in and out, setting up two-step
    sign-in, their sign-ins). Every other page redirects to the set-up page (and back
    afterwards); APIs answer 403 in JSON. A privileged page added later is covered
    without anyone remembering to add a check. Everyone else passes straight through.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        auth = scope.get("state", {}).get("auth") if scope["type"] != "lifespan" else None
        if (
            not isinstance(auth, signins.Auth)
            or not auth.must_enrol_2fa
            or scope["path"] in TWO_FACTOR_OPEN
            or is_static(scope["path"])
        ):
            await self.app(scope, receive, send)
            return
        if scope["type"] == "websocket":
            await send({"type": "websocket.close", "code": 1008})
            return
        headers = Headers(scope=scope)
        response: Response
        if scope["path"].startswith("/api/") or wants_json(headers):
            response = JSONResponse(
                {"error": _("Set up two-step sign-in first."), "enrol": ENROL_PATH}, status_code=403
            )
        else:
            target = ENROL_PATH
            if scope["method"] in ("GET", "HEAD"):
                query = scope.get("query_string", b"").decode("latin-1")
                here = scope["path"] + (f"?{query}" if query else "")
                target += "?next=" + quote(here, safe="")
            response = RedirectResponse(target, status_code=303)
        await response(scope, receive, send)


def _origin(url: str) -> str | None:
    parts = urlsplit(url)
    if not parts.scheme or not parts.netloc:
        return None
    return f"{parts.scheme}://{parts.netloc}".lower()


def wants_json(headers: Headers) -> bool:
    accept = headers.get("accept", "")
    ctype = headers.get("content-type", "")
    return "application/json" in ctype or (
        "application/json" in accept and "text/html" not in accept
    )


def refusal(headers: Headers, status: int, message: str) -> Response:
    if wants_json(headers):
        return JSONResponse({"error": message}, status_code=status)
    return PlainTextResponse(message, status_code=status)


class CSRFMiddleware:
    """Refuses cross-site writes, then checks a synchronizer token.

    1. ``Sec-Fetch-Site`` must be same-origin or none when present; otherwise
       ``Origin`` (or ``Referer``) must be one of the allowed origins when present.
    2. The token — the sign-in's own, or for someone not signed in an HMAC of a
       random pre-sign-in cookie — must arrive in ``X-CSRF-Token`` or as the
       ``csrf_token`` field of a URL-encoded form.
    Paths in ``exempt`` (public, read-only-in-effect APIs such as matching) skip
    step 2 but not step 1. Paths under a prefix in ``read_only`` (the HSDS API: no
    cookie is read there and no handler takes an unsafe method) skip both, so that
    their own 405, in JSON with CORS headers, answers a POST or DELETE.
    """

    def __init__(
        self, app: ASGIApp, exempt: Iterable[str] = (), read_only: Iterable[str] = ()
    ) -> None:
        self.app = app
        self.exempt = tuple(exempt)
        self.read_only = tuple(read_only)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] != "http"
            or scope["method"] not in UNSAFE_METHODS
            or any(scope["path"] == p or scope["path"].startswith(p + "/") for p in self.read_only)
        ):
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        allowed = ctx_of(scope).settings.allowed_origins
        site = headers.get("sec-fetch-site")
        if site is not None:
            if site not in ("same-origin", "none"):
                await refusal(headers, 403, _("Cross-site request refused."))(scope, receive, send)
                return
        else:
            source = headers.get("origin") or headers.get("referer")
            if source is not None and source != "null" and _origin(source) not in allowed:
                await refusal(headers, 403, _("Request from another site refused."))(
                    scope, receive, send
                )
                return
            if source == "null":
                await refusal(headers, 403, _("Request from an opaque origin refused."))(
                    scope, receive, send
                )
                return
        if scope["path"].startswith(self.exempt):
            await self.app(scope, receive, send)
            return

        expected = scope["state"]["auth"].csrf_token
        supplied = headers.get("x-csrf-token")
        replay: list[Message] = []
        if supplied is None:
            ctype = headers.get("content-type", "").split(";")[0].strip().lower()
            if ctype == "application/x-www-form-urlencoded":
                body, replay, too_big = await _read_body(receive)
                if too_big:
                    await refusal(headers, 413, _("The form is too large."))(scope, receive, send)
                    return
                fields = parse_qs(body.decode("utf-8", "replace"), max_num_fields=200)
                tokens = fields.get("csrf_token")
                supplied = tokens[0] if tokens else None
        if supplied is None or not same(supplied, expected):
            await refusal(
                headers,
                403,
                _(
                    "This form has expired or did not come from PeerHub. "
                    "Go back, reload the page and try again."
                ),
            )(scope, receive, send)
            return
        if replay:
            await self.app(scope, _replaying(replay, receive), send)
        else:
            await self.app(scope, receive, send)


async def _read_body(receive: Receive) -> tuple[bytes, list[Message], bool]:
    chunks: list[bytes] = []
    messages: list[Message] = []
    size = 0
    while True:
        message = await receive()
        messages.append(message)
        if message["type"] != "http.request":
            break
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > MAX_FORM_BYTES:
            return b"", messages, True
        chunks.append(chunk)
        if not message.get("more_body", False):
            break
    return b"".join(chunks), messages, False


def _replaying(messages: list[Message], receive: Receive) -> Receive:
    pending = list(messages)

    async def replay() -> Message:
        if pending:
            return pending.pop(0)
        return await receive()

    return replay


def auth_of(scope: Any) -> signins.Auth:
    """The request's Auth from a Starlette Request/WebSocket or a raw scope."""
    state = scope["state"] if isinstance(scope, dict) else scope.scope["state"]
    auth: signins.Auth = state["auth"]
    return auth
