"""HTTP routes of two-step sign-in: the code after the password, and the set-up page.

- ``/login/2fa``: after a right password, for someone who has set up two-step sign-in.
  The browser holds only a signed pre-sign-in cookie (5 minutes) until the code is
  right; then a sign-in starts exactly as ``POST /login`` starts one.
- ``/account/2fa``: set up (key as text and as an ``otpauth://`` link, confirmed with a
  code and the password), recovery codes shown once, new recovery codes, moving to a
  new phone, and turning it off (only for people whose role does not need it).

See docs/two-factor.md.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from peerhub import audit
from peerhub.accounts import actions, twofactor
from peerhub.accounts.page_helpers import device_cookie_header, safe_next
from peerhub.db import transaction
from peerhub.i18n import _, lazy_gettext, ngettext
from peerhub.models import User
from peerhub.security import devices, signins, totp
from peerhub.security.middleware import cookie_header
from peerhub.web import landing
from peerhub.web.guards import signed_in
from peerhub.web.render import auth, ctx, error, form_text, ip, render

WRONG_CODE = lazy_gettext(
    "That code did not work. Check the newest code in your app and try again."
)
WRONG_RECOVERY = lazy_gettext("That recovery code did not work. Each code works only once.")
MISMATCH_MESSAGE = lazy_gettext("That is not your password.")


def _wait_message(seconds: int) -> str:
    minutes = max(1, (seconds + 59) // 60)
    return ngettext(
        "Too many attempts. Please wait %(num)s minute.",
        "Too many attempts. Please wait %(num)s minutes.",
        minutes,
    )


def _clear_pending(request: Request, response: Response) -> None:
    settings = ctx(request).settings
    response.headers.append(
        "Set-Cookie",
        cookie_header(
            twofactor.pending_cookie_name(settings), "", secure=settings.secure_cookies, max_age=0
        ),
    )


def start_second_step(request: Request, user: User, nxt: str) -> Response:
    """The answer to a right password when the person has set up two-step sign-in."""
    app = ctx(request)
    settings = app.settings
    value = twofactor.pending_login_value(settings, user, app.clock())
    target = f"/login/2fa?next={quote(nxt, safe='')}" if nxt else "/login/2fa"
    response = RedirectResponse(target, status_code=303)
    response.headers.append(
        "Set-Cookie",
        cookie_header(
            twofactor.pending_cookie_name(settings),
            value,
            secure=settings.secure_cookies,
            max_age=int(twofactor.PENDING_LOGIN.total_seconds()),
        ),
    )
    return response


async def _pending(request: Request) -> tuple[User, str] | None:
    """The person a valid, unspent pre-sign-in cookie names, and the cookie."""
    app = ctx(request)
    value = request.cookies.get(twofactor.pending_cookie_name(app.settings))
    user_id = twofactor.pending_user_id(value)
    if value is None or user_id is None:
        return None
    async with app.sessions() as db:
        user = await db.get(User, user_id)
        if user is None or not twofactor.pending_valid(app.settings, value, user, app.clock()):
            return None
        if await twofactor.pending_spent(db, value):
            return None
    return user, value


class _Replayed(Exception):
    """The pre-sign-in cookie has already completed a sign-in: undo this attempt."""


def _expired(request: Request) -> Response:
    response = RedirectResponse("/login?expired=1", status_code=303)
    _clear_pending(request, response)
    return response


async def second_step_page(request: Request) -> Response:
    if await _pending(request) is None:
        return _expired(request)
    next_ = safe_next(request.query_params.get("next"), "")
    return render(request, "login_2fa.html", {"next": next_})


async def second_step(request: Request) -> Response:
    app = ctx(request)
    form = await request.form()
    code = form_text(form, "code", 40)
    recovery = form_text(form, "recovery_code", 60)
    nxt = safe_next(form_text(form, "next"), "")  # none: the role's work (web/landing.py)
    field = "code" if code.strip() or not recovery.strip() else "recovery_code"
    context: dict[str, Any] = {"next": nxt}
    if field == "code" and totp.clean_code(code) is None:
        message = (
            _("Enter the 6-digit code from your app.")
            if not code.strip()
            else _("The code is 6 numbers, like 123456.")
        )
        context["errors"] = {"code": message}
        return render(request, "login_2fa.html", context, status=422)
    if field == "recovery_code" and twofactor.clean_recovery_code(recovery) is None:
        context["errors"] = {"recovery_code": _("A recovery code is 12 letters and numbers.")}
        return render(request, "login_2fa.html", context, status=422)

    pending = await _pending(request)
    if pending is None:
        return _expired(request)
    user, value = pending
    now, address = app.clock(), ip(request)
    settings = app.settings
    device_cookie = request.cookies.get(devices.cookie_name(settings))
    new: signins.NewSignIn | None = None
    device_value = ""
    method: str | None = None
    wait = 0
    try:
        async with transaction(app.sessions) as db:
            held = await twofactor.reserve_attempt(db, user.id, address, now)
            wait = 0 if held.allowed else held.verdict.retry_after
            if not wait:
                method = await twofactor.use_code(
                    db,
                    user.id,
                    now,
                    code=code if field == "code" else "",
                    recovery_code=recovery if field == "recovery_code" else "",
                    client_ip=address,
                )
                await twofactor.settle_attempt(
                    db, held, user.id, address, now, ok=method is not None, where="login"
                )
            if method is not None:
                # Single-use: a copy of this cookie replayed later finds its nonce spent.
                # If it is spent already, everything above is undone (the code too).
                if not await twofactor.spend_pending(db, value, now):
                    raise _Replayed
                audit.record(
                    db,
                    now,
                    "login.succeeded",
                    actor_id=user.id,
                    subject_id=user.id,
                    client_ip=address,
                    second_factor=method,
                )
                new = await actions.login(
                    db,
                    settings,
                    user,
                    now,
                    old_sign_in_id=auth(request).sign_in_id,
                    user_agent=request.headers.get("user-agent", ""),
                    client_ip=address,
                )
                device_value = await actions.remember_device(
                    db,
                    settings,
                    user,
                    now,
                    cookie=device_cookie,
                    user_agent=request.headers.get("user-agent", ""),
                    client_ip=address,
                )
                nxt = actions.where_after_sign_in(
                    db, nxt, await landing.after_sign_in(db, user, nxt)
                )
    except _Replayed:
        async with transaction(app.sessions) as db:
            audit.record(db, now, "2fa.replay_refused", subject_id=user.id, client_ip=address)
        return _expired(request)
    if wait:
        context["errors"] = {field: _wait_message(wait)}
        return render(
            request, "login_2fa.html", context, status=429, headers={"Retry-After": str(wait)}
        )
    if new is None:
        context["errors"] = {field: str(WRONG_CODE) if field == "code" else str(WRONG_RECOVERY)}
        return render(request, "login_2fa.html", context, status=401)
    # Someone who needed a recovery code has probably lost their phone: show them
    # how many codes are left and how to move to a new one.
    target = "/account/2fa?recovered=1" if method == "recovery" else nxt
    response = RedirectResponse(target, status_code=303)
    response.headers.append(
        "Set-Cookie",
        cookie_header(settings.sign_in_cookie_name, new.token, secure=settings.secure_cookies),
    )
    response.headers.append("Set-Cookie", device_cookie_header(settings, device_value))
    _clear_pending(request, response)
    return response


# --- The set-up page ----------------------------------------------------------------------


async def _page_context(request: Request, user: User) -> dict[str, Any]:
    app = ctx(request)
    now = app.clock()
    async with transaction(app.sessions) as db:
        standing = await twofactor.standing(db, user)
        row = (
            await twofactor.settings_of(db, user.id)
            if standing.enrolled
            else await twofactor.pending_key(db, user.id, now)
        )
        left = await twofactor.codes_left(db, user.id) if standing.enrolled else 0
    pending = row.pending_secret if row is not None else None
    return {
        "standing": standing,
        "enrolled": standing.enrolled,
        "confirmed_at": row.confirmed_at if row is not None else None,
        "codes_left": left,
        "pending": pending is not None,
        "key_text": totp.grouped(pending) if pending else "",
        "otpauth": totp.provisioning_uri(pending, user.pseudonym) if pending else "",
        "next": safe_next(request.query_params.get("next")),
    }


@signed_in
async def setup_page(request: Request, user: User) -> Response:
    return render(request, "account_2fa.html", await _page_context(request, user))


async def _check_password(request: Request, user: User, password: str) -> bool:
    return await ctx(request).passwords.verify(user.password_hash, password[:1024])


@signed_in
async def setup_action(request: Request, user: User) -> Response:
    app = ctx(request)
    form = await request.form()
    what = form_text(form, "action", 20)
    nxt = safe_next(form_text(form, "next"))
    now, address = app.clock(), ip(request)
    errors: dict[str, str] = {}
    codes: list[str] | None = None
    wait = 0
    moved = False

    if what in ("restart", "cancel"):
        async with transaction(app.sessions) as db:
            if what == "restart":
                await twofactor.new_key(db, user.id, now)
            else:
                await twofactor.cancel_new_key(db, user.id, now)
        return RedirectResponse("/account/2fa", status_code=303)
    if what not in ("confirm", "regenerate", "move", "disable"):
        return error(request, 422, _("Unknown change."), field="action")

    fields = {
        "confirm": ("code", "password"),
        "regenerate": ("regen_code", None),
        "move": ("move_code", None),
        "disable": ("off_code", "off_password"),
    }[what]
    code_field, password_field = fields
    if what == "disable":
        async with app.sessions() as db:
            required = (await twofactor.standing(db, user)).required
        if required:
            return error(
                request, 403, _("Your role needs two-step sign-in, so it cannot be turned off.")
            )
    code = form_text(form, code_field, 60)
    password = form_text(form, password_field, 4096) if password_field else ""
    if not code.strip():
        errors[code_field] = _("Enter the 6-digit code from your app.")
    if password_field and not password:
        errors[password_field] = _("Enter your password.")
    if not errors:
        # The try is counted before the password or code is checked, and committed, so
        # tries sent in parallel queue on the counters instead of slipping past one
        # check together; a right answer gives it back (settle_attempt).
        async with transaction(app.sessions) as db:
            held = await twofactor.reserve_attempt(db, user.id, address, now)
        wait = 0 if held.allowed else held.verdict.retry_after
        if wait:
            errors[code_field] = _wait_message(wait)
        else:
            password_ok = not password_field or await _check_password(request, user, password)
            async with transaction(app.sessions) as db:
                if not password_ok:
                    errors[password_field or code_field] = str(MISMATCH_MESSAGE)
                elif what == "confirm":
                    moved = await twofactor.is_enrolled(db, user.id)
                    codes = await twofactor.confirm(db, user, code, now, client_ip=address)
                    if codes is None:
                        errors[code_field] = str(WRONG_CODE)
                    else:
                        # Sessions started elsewhere with the password alone end now.
                        await signins.end_other_sign_ins(db, user.id, auth(request).sign_in_id)
                elif not await twofactor.use_code(
                    db,
                    user.id,
                    now,
                    code=code,
                    recovery_code="" if what == "regenerate" else code,
                    client_ip=address,
                ):
                    errors[code_field] = str(WRONG_CODE)
                elif what == "regenerate":
                    codes = await twofactor.regenerate_codes(db, user, now, client_ip=address)
                elif what == "move":
                    await twofactor.new_key(db, user.id, now)
                else:
                    await twofactor.disable(db, user, now, client_ip=address)
                await twofactor.settle_attempt(
                    db, held, user.id, address, now, ok=not errors, where=what
                )
    if errors:
        context = await _page_context(request, user)
        context.update(errors=errors, action=what, next=nxt)
        headers = {"Retry-After": str(wait)} if wait else None
        return render(
            request, "account_2fa.html", context, status=429 if wait else 422, headers=headers
        )
    if codes is not None:
        return render(
            request,
            "account_2fa_codes.html",
            {"codes": codes, "next": nxt, "first_time": what == "confirm" and not moved},
        )
    if what == "move":
        return RedirectResponse("/account/2fa#set-up", status_code=303)
    return RedirectResponse("/account/2fa?off=1", status_code=303)


routes = [
    Route("/login/2fa", second_step_page, methods=["GET"]),
    Route("/login/2fa", second_step, methods=["POST"]),
    Route("/account/2fa", setup_page, methods=["GET"]),
    Route("/account/2fa", setup_action, methods=["POST"]),
]
