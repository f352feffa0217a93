"""HTTP routes for changing a password and getting back into an account.

- ``/account/password``: change the password (the current one, then the new one);
  every other sign-in and its sockets end.
- ``/account/recovery``: recovery words, made (shown once) and replaced. Sign-up
  comes here first (:func:`after_signup`).
- ``/recover``: "Forgotten your password?": the name and the recovery words; or
  ``/recover/code`` (a code from an organiser or an administrator), or
  ``/recover/email`` (a link sent to the account's e-mail address). Each gives a
  short-lived signed *reset ticket* cookie and leads to ``/recover/password``, where
  the new password is chosen; every sign-in and socket of the person then ends.
- ``/recover/save``: the words shown on a page, back as a text file (works without
  JavaScript).
- ``POST /organise/groups/{group_id}/reset-code`` and ``POST /admin/reset-code``:
  one-time codes handed over in person.

See peerhub/accounts/recovery.py for the rules and docs/security.md for the reasons.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any
from urllib.parse import quote

from sqlalchemy.exc import SQLAlchemyError
from starlette.background import BackgroundTask
from starlette.requests import Request
from starlette.responses import PlainTextResponse, RedirectResponse, Response
from starlette.routing import Route

from peerhub import i18n, mail
from peerhub.accounts import actions, recovery
from peerhub.accounts.actions import clean_email, clean_pseudonym
from peerhub.accounts.page_helpers import asker_of, device_cookie_header, safe_next
from peerhub.db import transaction
from peerhub.errors import FieldError, Forbidden, NotFound
from peerhub.i18n import _, lazy_gettext
from peerhub.models import GroupRole, SignIn, User
from peerhub.security import devices
from peerhub.security.middleware import ANON_COOKIE, cookie_header
from peerhub.security.permissions import require_rank
from peerhub.security.signins import Auth
from peerhub.security.tokens import keyed
from peerhub.web.guards import admin_only, signed_in
from peerhub.web.render import auth, ctx, error, form_text, ip, render

log = logging.getLogger("peerhub.accounts")

# The password fields' names (also the keys of their error messages).
CURRENT, NEW, AGAIN = "current_password", "new_password", "confirm_password"
WRONG_WORDS = lazy_gettext(
    "Those words do not match that name. Check the name and each word, and try again."
)
WRONG_CODE = lazy_gettext("That code does not match that name, or it has been used or has expired.")
# Making words without typing the password again is allowed only just after signing
# up, in the sign-in the sign-up started, before any words were made.
FRESH_SIGNUP = 30 * 60


def after_signup(nxt: str) -> str:
    """Where sign-up leads: the offer of recovery words, then where the person was going."""
    return "/account/recovery?welcome=1" + ("" if nxt == "/account" else f"&next={quote(nxt)}")


def _wait_message(seconds: int, *, account_wide: bool = False) -> str:
    minutes = max(1, (seconds + 59) // 60)
    message = i18n.ngettext(
        "Too many attempts. Please wait %(num)s minute and try again.",
        "Too many attempts. Please wait %(num)s minutes and try again.",
        minutes,
    )
    if account_wide:
        message += " " + _(
            "Someone may be trying to get into this account. The phone or computer you "
            "usually sign in on can still do this now."
        )
    return message


def _see_other(url: str) -> Response:
    return RedirectResponse(url, status_code=303)


# --- Changing the password -------------------------------------------------------------------


@signed_in
async def change_page(request: Request, user: User) -> Response:
    return render(request, "recovery/change.html", {"done": bool(request.query_params.get("done"))})


@signed_in
async def change(request: Request, user: User) -> Response:
    app = ctx(request)
    settings = app.settings
    form = await request.form()
    current = form_text(form, CURRENT, 4096)
    new = form_text(form, NEW, 4096)
    again = form_text(form, AGAIN, 4096)
    errors: dict[str, str] = {}
    if not current:
        errors[CURRENT] = _("Enter your current password.")
    if not new:
        errors[NEW] = _("Choose a new password.")
    elif new != again:
        errors[AGAIN] = _("The two new passwords are not the same. Type it again.")
    else:
        try:
            recovery.check_new_password(new, user.pseudonym, NEW)
        except FieldError as exc:
            errors[exc.field] = exc.message
    device = ""
    wait = 0
    if not errors:
        now = app.clock()
        try:
            checked = await recovery.check_password(
                app.sessions,
                app.passwords,
                settings.secret_key,
                user,
                current,
                now,
                asker=asker_of(request),
                purpose="change",
            )
            if checked is None:
                errors[CURRENT] = _("That is not your current password.")
            else:
                new_hash = await app.passwords.hash(new)
                async with transaction(app.sessions) as db:
                    me = await db.get(User, user.id)
                    if me is None:
                        raise NotFound(user.id)
                    # The other sign-ins end, and their sockets close once this commits.
                    await recovery.change_password(
                        db,
                        me,
                        now,
                        checked_hash=checked,
                        new_hash=new_hash,
                        keep_sign_in=auth(request).sign_in_id,
                        client_ip=ip(request),
                    )
                    # This browser stays one of the person's known devices under the
                    # new password (the others are forgotten with the old one), so
                    # strangers guessing the name cannot keep them out of it.
                    device = await actions.remember_device(
                        db,
                        settings,
                        me,
                        now,
                        cookie=request.cookies.get(devices.cookie_name(settings)),
                        user_agent=request.headers.get("user-agent", ""),
                        client_ip=ip(request),
                    )
        except recovery.Throttled as exc:
            wait = exc.retry_after
            errors[CURRENT] = _wait_message(wait)
        except recovery.PasswordMoved:
            errors[CURRENT] = _("Your password was changed meanwhile. Type the new one.")
    if errors:
        headers = {"Retry-After": str(wait)} if wait else None
        return render(
            request,
            "recovery/change.html",
            {"errors": errors},
            status=429 if wait else 422,
            headers=headers,
        )
    response = _see_other("/account/password?done=1")
    response.headers.append("Set-Cookie", device_cookie_header(settings, device))
    return response


# --- Recovery words on the account -----------------------------------------------------------


async def _words_state(request: Request, user: User) -> tuple[datetime | None, bool]:
    """When the person's words were made (None: no words), and whether they may make
    words now without typing their password again (just after signing up)."""
    app = ctx(request)
    now = app.clock()
    async with app.sessions() as db:
        row = await recovery.words_of(db, user.id)
        sign_in = (
            await db.get(SignIn, auth(request).sign_in_id) if auth(request).sign_in_id else None
        )
    fresh = (
        row is None
        and sign_in is not None
        and abs((sign_in.created_at - user.created_at).total_seconds()) < 5
        and (now - user.created_at).total_seconds() < FRESH_SIGNUP
    )
    return (row.created_at if row else None), fresh


@signed_in
async def words_page(request: Request, user: User) -> Response:
    made_at, fresh = await _words_state(request, user)
    return render(
        request,
        "recovery/words_offer.html",
        {
            "made_at": made_at,
            "needs_password": not fresh,
            "welcome": bool(request.query_params.get("welcome")),
            "next": safe_next(request.query_params.get("next")),
        },
    )


@signed_in
async def make_words(request: Request, user: User) -> Response:
    app = ctx(request)
    form = await request.form()
    nxt = safe_next(form_text(form, "next"))
    welcome = form_text(form, "welcome", 5) == "1"
    made_at, fresh = await _words_state(request, user)
    password = form_text(form, "password", 4096)
    now, address = app.clock(), ip(request)
    problem, wait = "", 0
    words: list[str] | None = None
    if not fresh:
        # Like changing the password: someone with a borrowed sign-in must not be
        # able to make a spare key to the account for later.
        if not password:
            problem = _("Enter your password, to show it is you.")
        else:
            try:
                if not await recovery.check_password(
                    app.sessions,
                    app.passwords,
                    app.settings.secret_key,
                    user,
                    password,
                    now,
                    asker=asker_of(request),
                    purpose="words",
                ):
                    problem = _("That is not your password.")
            except recovery.Throttled as exc:
                wait = exc.retry_after
                problem = _wait_message(wait)
    if not problem:
        async with transaction(app.sessions) as db:
            me = await db.get(User, user.id)
            if me is None:
                return error(request, 404, _("We could not find your account."))
            words = await recovery.make_words(db, app.passwords, me, now, client_ip=address)
    if words is None:
        return render(
            request,
            "recovery/words_offer.html",
            {
                "made_at": made_at,
                "needs_password": not fresh,
                "welcome": welcome,
                "next": nxt,
                "errors": {"password": problem},
            },
            status=429 if wait else 422,
            headers={"Retry-After": str(wait)} if wait else None,
        )
    return render(
        request,
        "recovery/words.html",
        {
            "words": words,
            "pseudonym": user.pseudonym,
            "replaced": made_at is not None,
            "done_url": nxt,
            "done_label": _("I have saved them"),
        },
    )


async def save_words(request: Request) -> Response:
    """The words the page showed, back as a text file to keep (no JavaScript needed).

    Nothing is looked up: the file holds exactly what the form sent, after checking
    it is a name and six words from the list, so this cannot serve anything else.
    """
    form = await request.form()
    try:
        words = recovery.check_words(form_text(form, "words", 400))
        name = clean_pseudonym(form_text(form, "pseudonym", 200))
    except FieldError as exc:
        return error(request, 422, exc.message, field=exc.field)
    base = ctx(request).settings.base_url
    text = "\n".join(
        [
            _("PeerHub recovery words for %(name)s", name=name),
            "",
            "    " + " ".join(words),
            "",
            _("If you forget your password, go to"),
            f"    {base}/recover",
            _("and type your name on PeerHub and these words."),
            "",
            *mail.paragraph(
                _("Each set of words works once. Afterwards PeerHub gives you a new set.")
            ),
            *mail.paragraph(
                _(
                    "Keep this somewhere safe and private: anyone with these words and your "
                    "name can choose a new password for your account."
                )
            ),
            "",
        ]
    )
    return PlainTextResponse(
        text,
        headers={"Content-Disposition": 'attachment; filename="peerhub-recovery-words.txt"'},
    )


# --- Forgotten password: proving who you are -------------------------------------------------


def _ticket_cookie_name(request: Request) -> str:
    return "__Host-peerhub_reset" if ctx(request).settings.secure_cookies else "peerhub_reset"


def _to_new_password(request: Request, proof: recovery.Proof) -> Response:
    app = ctx(request)
    value = recovery.ticket_value(app.settings.secret_key, proof)
    seconds = max(1, int((proof.expires_at - app.clock()).total_seconds()))
    response = _see_other("/recover/password")
    response.headers.append(
        "Set-Cookie",
        cookie_header(
            _ticket_cookie_name(request), value, secure=app.settings.secure_cookies, max_age=seconds
        ),
    )
    return response


def _clear_ticket(request: Request, response: Response) -> None:
    settings = ctx(request).settings
    response.headers.append(
        "Set-Cookie",
        cookie_header(_ticket_cookie_name(request), "", secure=settings.secure_cookies, max_age=0),
    )


async def forgot_page(request: Request) -> Response:
    return render(
        request, "recovery/forgot.html", {"expired": bool(request.query_params.get("expired"))}
    )


async def forgot(request: Request) -> Response:
    app = ctx(request)
    form = await request.form()
    values = {
        "pseudonym": form_text(form, "pseudonym", 200),
        "words": form_text(form, "words", 400),
    }
    errors: dict[str, str] = {}
    if not values["pseudonym"].strip():
        errors["pseudonym"] = _("Enter your name on PeerHub.")
    try:
        words = recovery.check_words(values["words"])
    except FieldError as exc:
        errors[exc.field] = exc.message
    if errors:
        return render(
            request, "recovery/forgot.html", {"errors": errors, "values": values}, status=422
        )
    try:
        proof = await recovery.prove_with_words(
            app.sessions,
            app.passwords,
            app.settings.secret_key,
            app.clock(),
            pseudonym=values["pseudonym"],
            words=words,
            asker=asker_of(request),
        )
    except recovery.Throttled as exc:
        return render(
            request,
            "recovery/forgot.html",
            {
                "errors": {"form": _wait_message(exc.retry_after, account_wide=exc.account_wide)},
                "values": values,
            },
            status=429,
            headers={"Retry-After": str(exc.retry_after)},
        )
    if proof is None:
        return render(
            request,
            "recovery/forgot.html",
            {"errors": {"form": str(WRONG_WORDS)}, "values": values},
            status=401,
        )
    return _to_new_password(request, proof)


async def code_page(request: Request) -> Response:
    return render(request, "recovery/code.html")


async def redeem_code(request: Request) -> Response:
    app = ctx(request)
    form = await request.form()
    values = {"pseudonym": form_text(form, "pseudonym", 200), "code": form_text(form, "code", 60)}
    errors: dict[str, str] = {}
    if not values["pseudonym"].strip():
        errors["pseudonym"] = _("Enter your name on PeerHub.")
    if recovery.clean_code(values["code"]) is None:
        errors["code"] = _(
            "A reset code is %(length)s letters and numbers, like ABCDE-23456.",
            length=recovery.CODE_LENGTH,
        )
    if errors:
        return render(
            request, "recovery/code.html", {"errors": errors, "values": values}, status=422
        )
    try:
        async with transaction(app.sessions) as db:
            proof = await recovery.prove_with_code(
                db,
                app.settings.secret_key,
                app.clock(),
                pseudonym=values["pseudonym"],
                code=values["code"],
                asker=asker_of(request),
            )
    except recovery.Throttled as exc:
        return render(
            request,
            "recovery/code.html",
            {
                "errors": {"form": _wait_message(exc.retry_after, account_wide=exc.account_wide)},
                "values": values,
            },
            status=429,
            headers={"Retry-After": str(exc.retry_after)},
        )
    if proof is None:
        return render(
            request,
            "recovery/code.html",
            {"errors": {"form": str(WRONG_CODE)}, "values": values},
            status=401,
        )
    return _to_new_password(request, proof)


# --- Forgotten password: by e-mail -----------------------------------------------------------


async def email_page(request: Request) -> Response:
    return render(
        request, "recovery/email.html", {"expired": bool(request.query_params.get("expired"))}
    )


def _log_key(request: Request) -> str:
    return keyed(ctx(request).settings.secret_key, "notify-log", "")


async def send_link(
    request_app: Any,
    pseudonym: str,
    email: str,
    client_ip: str,
    log_key: str,
    language: str | None = None,
) -> None:
    """After the answer has gone: find the account, make a link and send it.

    Run in the background so the answer (and how long it takes) is the same whether
    or not the name and address match an account.
    """
    app = request_app.state.ctx
    now = app.clock()
    try:
        async with transaction(app.sessions) as db:
            found = await recovery.request_email_link(
                db,
                app.settings.secret_key,
                now,
                pseudonym=pseudonym,
                email=email,
                client_ip=client_ip,
            )
    except (SQLAlchemyError, OSError) as exc:
        # The answer has gone already; the person can ask again.
        log.warning("password reset link not made: %s", type(exc).__name__)
        return
    if found is None:
        return
    user, token = found
    settings = app.settings
    contacts = settings.crisis_contacts
    # In the account's own language if it has one, else the language the link was
    # asked for in; the crisis line's words in the same language.
    with i18n.using(mail.language_of(user.language or language)) as written_in:
        subject, body = mail.reset_link_message(
            pseudonym=user.pseudonym,
            link=f"{settings.base_url}/recover/link?token={token}",
            minutes=int(recovery.EMAIL_LINK.total_seconds() // 60),
            help_line=f"{contacts[0].name}, {contacts[0].how_text}" if contacts else "",
            language=written_in.tag,
        )
    sender = mail.sender_of(request_app.state, log_key)
    await mail.deliver(sender, user.email or "", subject, body, log_key=log_key)


async def request_link(request: Request) -> Response:
    app = ctx(request)
    form = await request.form()
    values = {
        "pseudonym": form_text(form, "pseudonym", 200),
        "email": form_text(form, "email", 300),
    }
    errors: dict[str, str] = {}
    if not values["pseudonym"].strip():
        errors["pseudonym"] = _("Enter your name on PeerHub.")
    try:
        if clean_email(values["email"]) is None:
            errors["email"] = _("Enter the e-mail address you gave PeerHub.")
    except FieldError as exc:
        errors[exc.field] = exc.message
    if errors:
        return render(
            request, "recovery/email.html", {"errors": errors, "values": values}, status=422
        )
    address = ip(request)
    # Every request counts the same, whatever it matches: the answer (200, or 429 once
    # there were too many) must not say whether the address belongs to the name.
    try:
        async with transaction(app.sessions) as db:
            await recovery.count_email_request(
                db,
                app.settings.secret_key,
                app.clock(),
                pseudonym=values["pseudonym"],
                asker=asker_of(request),
            )
    except recovery.Throttled as exc:
        return render(
            request,
            "recovery/email.html",
            {
                "errors": {"form": _wait_message(exc.retry_after, account_wide=exc.account_wide)},
                "values": values,
            },
            status=429,
            headers={"Retry-After": str(exc.retry_after)},
        )
    response = render(
        request,
        "recovery/email_sent.html",
        {"minutes": int(recovery.EMAIL_LINK.total_seconds() // 60)},
    )
    response.background = BackgroundTask(
        send_link,
        request.app,
        values["pseudonym"],
        values["email"],
        address,
        _log_key(request),
        i18n.current().tag,
    )
    return response


async def open_link(request: Request) -> Response:
    """The link from the e-mail: a ticket, then straight on to a page whose address
    holds no token (so it is not kept in the history or sent on as a Referer)."""
    app = ctx(request)
    token = request.query_params.get("token", "")
    async with app.sessions() as db:
        proof = await recovery.prove_with_link(db, app.settings.secret_key, app.clock(), token)
    if proof is None:
        return _see_other("/recover/email?expired=1")
    return _to_new_password(request, proof)


# --- Choosing the new password ---------------------------------------------------------------


async def _ticket(request: Request) -> tuple[recovery.Ticket, User] | None:
    app = ctx(request)
    async with app.sessions() as db:
        return await recovery.ticket_user(
            db,
            app.settings.secret_key,
            request.cookies.get(_ticket_cookie_name(request)),
            app.clock(),
        )


def _expired(request: Request) -> Response:
    response = _see_other("/recover?expired=1")
    _clear_ticket(request, response)
    return response


async def new_password_page(request: Request) -> Response:
    found = await _ticket(request)
    if found is None:
        return _expired(request)
    return render(request, "recovery/new_password.html", {"person": found[1].pseudonym})


def _signed_out_view(request: Request) -> dict[str, Any]:
    """The page after a reset shows nobody signed in (whoever this browser was signed in
    as has just been signed out), and its forms carry the signed-out CSRF token."""
    anon = request.cookies.get(ANON_COOKIE)
    token = (
        keyed(ctx(request).settings.secret_key, "csrf-anon", anon)
        if anon and len(anon) <= 64
        else auth(request).csrf_token
    )
    return {"user": None, "auth": Auth(None, None, token), "csrf_token": token}


async def set_new_password(request: Request) -> Response:
    found = await _ticket(request)
    if found is None:
        return _expired(request)
    ticket, person = found
    app = ctx(request)
    form = await request.form()
    new = form_text(form, NEW, 4096)
    again = form_text(form, AGAIN, 4096)
    errors: dict[str, str] = {}
    if not new:
        errors[NEW] = _("Choose a new password.")
    elif new != again:
        errors[AGAIN] = _("The two passwords are not the same. Type it again.")
    done: recovery.Reset | None = None
    if not errors:
        try:
            async with transaction(app.sessions) as db:
                me = await db.get(User, person.id)
                if me is None:
                    return _expired(request)
                done = await recovery.complete_reset(
                    db,
                    app.passwords,
                    me,
                    ticket,
                    app.clock(),
                    new_password=new,
                    client_ip=ip(request),
                )
        except FieldError as exc:
            errors[exc.field] = exc.message
        except recovery.Spent:
            return _expired(request)
    if done is None:
        return render(
            request,
            "recovery/new_password.html",
            {"person": person.pseudonym, "errors": errors},
            status=422,
        )
    response = render(
        request,
        "recovery/reset_done.html",
        {
            "words": done.new_words,
            "pseudonym": person.pseudonym,
            "used_words": ticket.method == "words",
            **_signed_out_view(request),
        },
    )
    _clear_ticket(request, response)
    # Anything this browser was signed in with has ended too.
    settings = app.settings
    response.headers.append(
        "Set-Cookie",
        cookie_header(settings.sign_in_cookie_name, "", secure=settings.secure_cookies, max_age=0),
    )
    return response


# --- Codes handed over in person -------------------------------------------------------------


def _issued(
    request: Request, result: recovery.IssuedCode | recovery.Refused, back: str
) -> Response:
    if isinstance(result, recovery.Refused):
        headers = {"Retry-After": str(result.retry_after)} if result.retry_after else None
        return render(
            request,
            "recovery/code_refused.html",
            {"message": result.message, "back": back},
            status=result.status,
            headers=headers,
        )
    return render(
        request,
        "recovery/code_issued.html",
        {"issued": result, "back": back, "hours": int(recovery.CODE_LIFE.total_seconds() // 3600)},
    )


@signed_in
async def organiser_code(request: Request, user: User) -> Response:
    app = ctx(request)
    group_id = request.path_params["group_id"]
    form = await request.form()
    person_id = form_text(form, "user_id", 36)
    back = f"/organise/groups/{group_id}#members-title"
    try:
        async with transaction(app.sessions) as db:
            if not person_id:
                # Still only for the group's organisers: others learn nothing.
                await require_rank(db, user, group_id, GroupRole.ORGANISER)
                raise FieldError("user_id", _("Choose the member who needs a reset code."))
            result = await recovery.issue_organiser_code(
                db,
                app.settings.secret_key,
                user,
                group_id,
                person_id,
                app.clock(),
                client_ip=ip(request),
            )
    except NotFound:
        return error(request, 404, _("We could not find that member in this group."))
    except Forbidden:
        return error(request, 403, _("Only the group's organisers can give reset codes."))
    except FieldError as exc:
        return error(request, 422, exc.message, field=exc.field)
    return _issued(request, result, back)


@admin_only
async def admin_code(request: Request, admin: User) -> Response:
    app = ctx(request)
    form = await request.form()
    person_id = form_text(form, "user_id", 36)
    if not person_id:
        return error(
            request, 422, _("Choose the account that needs a reset code."), field="user_id"
        )
    try:
        async with transaction(app.sessions) as db:
            result = await recovery.issue_admin_code(
                db, app.settings.secret_key, admin, person_id, app.clock(), client_ip=ip(request)
            )
    except NotFound:
        return error(request, 404, _("No such account."))
    except Forbidden:
        return error(request, 403, _("Only PeerHub administrators can do this."))
    return _issued(request, result, "/admin")


routes = [
    Route("/account/password", change_page, methods=["GET"]),
    Route("/account/password", change, methods=["POST"]),
    Route("/account/recovery", words_page, methods=["GET"]),
    Route("/account/recovery", make_words, methods=["POST"]),
    Route("/recover", forgot_page, methods=["GET"]),
    Route("/recover", forgot, methods=["POST"]),
    Route("/recover/save", save_words, methods=["POST"]),
    Route("/recover/code", code_page, methods=["GET"]),
    Route("/recover/code", redeem_code, methods=["POST"]),
    Route("/recover/email", email_page, methods=["GET"]),
    Route("/recover/email", request_link, methods=["POST"]),
    Route("/recover/link", open_link, methods=["GET"]),
    Route("/recover/password", new_password_page, methods=["GET"]),
    Route("/recover/password", set_new_password, methods=["POST"]),
    Route("/organise/groups/{group_id}/reset-code", organiser_code, methods=["POST"]),
    Route("/admin/reset-code", admin_code, methods=["POST"]),
]
