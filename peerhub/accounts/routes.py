"""HTTP routes for sign-up, sign-in, sign-out, the account page and the admin page."""

from __future__ import annotations

from typing import Any

from sqlalchemy import or_, select
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from peerhub import audit
from peerhub.accounts import actions, recovery, twofactor
from peerhub.accounts.models_2fa import TwoFactor
from peerhub.accounts.page_helpers import asker_of, device_cookie_header, safe_next
from peerhub.accounts.recovery_routes import after_signup
from peerhub.accounts.twofactor_routes import start_second_step
from peerhub.db import transaction
from peerhub.errors import FieldError, NotFound
from peerhub.groups import actions as group_actions
from peerhub.groups import invitations
from peerhub.groups import queries as group_queries
from peerhub.i18n import _, ngettext
from peerhub.models import ProfessionalStatus, User
from peerhub.realtime import after_commit
from peerhub.security import buckets, devices, signins
from peerhub.security.middleware import cookie_header
from peerhub.security.tokens import digest
from peerhub.web import landing, work
from peerhub.web.guards import admin_only, signed_in
from peerhub.web.limits import too_many
from peerhub.web.render import auth, ctx, error, form_text, ip, render


def _sign_in_cookie(request: Request, token: str) -> str:
    settings = ctx(request).settings
    return cookie_header(settings.sign_in_cookie_name, token, secure=settings.secure_cookies)


async def signup_page(request: Request) -> Response:
    if auth(request).signed_in:
        return RedirectResponse("/account", status_code=303)
    return render(request, "signup.html", {"next": safe_next(request.query_params.get("next"))})


async def signup(request: Request) -> Response:
    app = ctx(request)
    form = await request.form()
    values = {
        "pseudonym": form_text(form, "pseudonym", 200),
        "email": form_text(form, "email", 300),
    }
    nxt = safe_next(form_text(form, "next"))
    now, address = app.clock(), ip(request)
    user_agent = request.headers.get("user-agent", "")
    try:
        async with transaction(app.sessions) as db:
            user = await actions.signup(
                db,
                app.passwords,
                now,
                pseudonym=values["pseudonym"],
                password=form_text(form, "password", 4096),
                email=values["email"] or None,
                client_ip=address,
            )
            new = await actions.login(
                db,
                app.settings,
                user,
                now,
                old_sign_in_id=None,
                user_agent=user_agent,
                client_ip=address,
            )
            device = await actions.remember_device(
                db,
                app.settings,
                user,
                now,
                cookie=request.cookies.get(devices.cookie_name(app.settings)),
                user_agent=user_agent,
                client_ip=address,
            )
    except FieldError as exc:
        return render(
            request,
            "signup.html",
            {"errors": {exc.field: exc.message}, "values": values, "next": nxt},
            status=422,
        )
    except buckets.Exhausted as exc:
        return too_many(request, exc)

    # First the offer of recovery words (a spare key to the account), then onwards.
    response = RedirectResponse(after_signup(nxt), status_code=303)
    response.headers.append("Set-Cookie", _sign_in_cookie(request, new.token))
    response.headers.append("Set-Cookie", device_cookie_header(app.settings, device))
    return response


async def login_page(request: Request) -> Response:
    who = auth(request)
    nxt = safe_next(request.query_params.get("next"), "")
    if who.signed_in:  # already in: where they were going, or their own work
        return RedirectResponse(nxt or landing.landing(who.roles), status_code=303)
    # No next= given: after sign-in the person lands on their role's work.
    return render(request, "login.html", {"next": nxt})


async def login(request: Request) -> Response:
    app = ctx(request)
    settings = app.settings
    form = await request.form()
    pseudonym = form_text(form, "pseudonym", 200)
    nxt = safe_next(form_text(form, "next"), "")  # none: the role's work (web/landing.py)
    now, address = app.clock(), ip(request)
    user_agent = request.headers.get("user-agent", "")
    device_cookie = request.cookies.get(devices.cookie_name(settings))
    result = await actions.authenticate(
        app.sessions,
        app.passwords,
        now,
        pseudonym=pseudonym,
        password=form_text(form, "password", 4096),
        client_ip=address,
        secret_key=settings.secret_key,
        device_cookie=device_cookie,
    )
    if result.throttled:
        minutes = max(1, (result.retry_after + 59) // 60)
        message = ngettext(
            "Too many attempts. Please wait %(num)s minute and try again.",
            "Too many attempts. Please wait %(num)s minutes and try again.",
            minutes,
        )
        if result.account_wide:
            message += " " + _(
                "Someone may be trying to guess this account's password. The phone or "
                "computer you usually sign in on can still sign in now."
            )
        return render(
            request,
            "login.html",
            {"errors": {"form": message}, "values": {"pseudonym": pseudonym}, "next": nxt},
            status=429,
            headers={"Retry-After": str(result.retry_after)},
        )
    if result.user is not None and result.second_factor:
        return start_second_step(request, result.user, nxt)
    if result.user is None:
        return render(
            request,
            "login.html",
            {
                "errors": {"form": _("That name and password do not match an account.")},
                "values": {"pseudonym": pseudonym},
                "next": nxt,
            },
            status=401,
        )
    async with transaction(app.sessions) as db:
        new = await actions.login(
            db,
            settings,
            result.user,
            now,
            old_sign_in_id=auth(request).sign_in_id,
            user_agent=user_agent,
            client_ip=address,
        )
        device = await actions.remember_device(
            db,
            settings,
            result.user,
            now,
            cookie=device_cookie,
            user_agent=user_agent,
            client_ip=address,
        )
        nxt = actions.where_after_sign_in(
            db, nxt, await landing.after_sign_in(db, result.user, nxt)
        )
    response = RedirectResponse(nxt, status_code=303)
    response.headers.append("Set-Cookie", _sign_in_cookie(request, new.token))
    response.headers.append("Set-Cookie", device_cookie_header(settings, device))
    return response


async def logout(request: Request) -> Response:
    app = ctx(request)
    who = auth(request)
    if who.user is not None:
        async with transaction(app.sessions) as db:
            # Every sign-in ends, and with them the person's live room sockets (1008).
            await actions.logout(db, who.user.id, app.clock(), ip(request))
    settings = app.settings
    response = RedirectResponse("/?signed_out=1", status_code=303)
    response.headers.append(
        "Set-Cookie",
        cookie_header(settings.sign_in_cookie_name, "", secure=settings.secure_cookies, max_age=0),
    )
    response.headers["Clear-Site-Data"] = '"cache", "storage"'
    return response


async def _account_context(request: Request, user: User) -> dict[str, Any]:
    app = ctx(request)
    now = app.clock()
    async with app.sessions() as db:
        places = await work.my_places(db, user.id, now, work.presence_of(request))
        organisations = await group_queries.my_organisations(db, user.id)
        two_factor = await twofactor.standing(db, user)
        words = await recovery.words_of(db, user.id)
        waiting = await invitations.waiting_for(db, user.id, now)
        ways_back = await recovery.ways_back(db, user.id, now)
    return {
        "invitations": waiting,
        "ways_back": ways_back,
        "places": places,
        "my_organisations": organisations,
        "organiser_of": len(organisations),
        "two_factor": two_factor,
        "has_recovery_words": words.created_at if words is not None else None,
    }


@signed_in
async def account_page(request: Request, user: User) -> Response:
    return render(request, "account.html", await _account_context(request, user))


@signed_in
async def account_update(request: Request, user: User) -> Response:
    app = ctx(request)
    form = await request.form()
    what = form_text(form, "action", 40)
    values = {k: form_text(form, k, 300) for k in ("email", "role", "organisation")}
    problem = None
    try:
        if what == "email":
            # An address can reset the password: adding or changing one needs it (a
            # wrong one is counted, in transactions of its own, like any other).
            problem = await recovery.email_change_problem(
                app.sessions,
                app.passwords,
                app.settings.secret_key,
                user,
                values["email"],
                form_text(form, "email_password", 4096),
                app.clock(),
                asker=asker_of(request),
            )
        async with transaction(app.sessions) as db:
            me = await db.get(User, user.id)
            if me is None:
                raise NotFound(user.id)
            if what == "email":
                if problem is None:
                    await actions.update_email(db, me, values["email"], app.clock())
            elif what == "professional":
                await actions.request_professional(
                    db, me, app.clock(), role=values["role"], organisation=values["organisation"]
                )
            else:
                raise FieldError("action", _("Unknown change."))
    except FieldError as exc:
        problem_at: dict[str, str] = {exc.field: exc.message}
    except recovery.Throttled as exc:
        wait = exc.retry_after
        minutes = max(1, (wait + 59) // 60)
        context = await _account_context(request, user)
        message = ngettext(
            "Too many attempts. Please wait %(num)s minute.",
            "Too many attempts. Please wait %(num)s minutes.",
            minutes,
        )
        context.update(errors={"email_password": message}, values=values)
        return render(
            request, "account.html", context, status=429, headers={"Retry-After": str(wait)}
        )
    else:
        # Committed: a wrong password is counted like a failed sign-in.
        problem_at = {"email_password": problem} if problem else {}
    if problem_at:
        context = await _account_context(request, user)
        context.update(errors=problem_at, values=values)
        return render(request, "account.html", context, status=422)
    return RedirectResponse("/account?saved=1", status_code=303)


@signed_in
async def api_me(request: Request, user: User) -> Response:
    return JSONResponse(
        {
            "id": user.id,
            "pseudonym": user.pseudonym,
            "is_admin": user.is_admin,
            "professional_status": user.professional_status,
            "csrf_token": auth(request).csrf_token,
        }
    )


@admin_only
async def admin_page(request: Request, admin: User) -> Response:
    app = ctx(request)
    query = request.query_params.get("q", "").strip()[:40]
    async with app.sessions() as db:
        pending = (
            await db.scalars(
                select(User)
                .where(User.professional_status == ProfessionalStatus.PENDING.value)
                .order_by(User.created_at)
            )
        ).all()
        unverified = await group_queries.unverified_organisations(db)
        verified = await group_queries.verified_organisations(db)
        found: list[User] = []
        if query:
            like = f"%{actions.pseudonym_key(query)}%"
            found = list(
                (
                    await db.scalars(
                        select(User)
                        .where(or_(User.pseudonym_key.like(like)))
                        .order_by(User.pseudonym_key)
                        .limit(50)
                    )
                ).all()
            )
        two_factor_ids = set(
            await db.scalars(
                select(TwoFactor.user_id).where(
                    TwoFactor.user_id.in_([u.id for u in found]),
                    TwoFactor.confirmed_at.is_not(None),
                )
            )
        )
    return render(
        request,
        "admin.html",
        {
            "pending": pending,
            "found": found,
            "two_factor_ids": two_factor_ids,
            "q": query,
            "unverified_organisations": unverified,
            "verified_organisations": verified,
        },
    )


@admin_only
async def admin_action(request: Request, admin: User) -> Response:
    app = ctx(request)
    form = await request.form()
    user_id = form_text(form, "user_id", 36)
    organisation_id = form_text(form, "organisation_id", 36)
    what = form_text(form, "action", 20)
    now = app.clock()
    try:
        async with transaction(app.sessions) as db:
            if what in ("verify", "decline"):
                await actions.decide_professional(db, admin, user_id, now, verify=what == "verify")
            elif what in ("disable", "enable"):
                await actions.set_disabled(db, admin, user_id, now, disabled=what == "disable")
            elif what == "reset_2fa":
                await actions.reset_two_factor(db, admin, user_id, now)
            elif what in ("verify_org", "unverify_org"):
                await group_actions.verify_organisation(
                    db, admin, organisation_id, now, verified=what == "verify_org"
                )
                if what == "unverify_org":
                    # No longer verified: its rooms close at once, in every process, once
                    # this commits (the socket's rank checks refuse them from now on;
                    # this closes what is already open).
                    reason = "This room is closed while PeerHub checks the group’s organisation."
                    for group_id, person_id in await group_queries.people_in_rooms(
                        db, organisation_id
                    ):
                        after_commit.revoke_membership(db, group_id, person_id, reason=reason)
            else:
                raise FieldError("action", _("Unknown action."))
    except NotFound:
        return error(request, 404, _("No such account or organisation."))
    except FieldError as exc:
        return error(request, 422, exc.message, field=exc.field)
    return RedirectResponse("/admin?done=1", status_code=303)


async def _sign_ins_context(request: Request, user: User) -> dict[str, Any]:
    app = ctx(request)
    now = app.clock()
    async with app.sessions() as db:
        rows = await signins.list_sign_ins(db, user.id)
        me = await db.get(User, user.id)
        known = await devices.listed(db, me, now) if me is not None else []
    current = auth(request).sign_in_id
    listed = [
        {
            "id": row.id,
            "device": signins.describe_device(row.user_agent),
            "created_at": row.created_at,
            "last_seen_at": row.last_seen_at,
            "current": row.id == current,
        }
        for row in rows
    ]
    here = {
        digest(token)
        for token in devices.tokens_in(
            app.settings.secret_key, request.cookies.get(devices.cookie_name(app.settings))
        )
    }
    remembered = [
        {
            "id": row.id,
            "device": signins.describe_device(row.user_agent),
            "created_at": row.created_at,
            "last_used_at": row.last_used_at,
            "current": row.token_hash in here,
        }
        for row in known
    ]
    return {"listed": listed, "remembered": remembered}


@signed_in
async def sign_ins_page(request: Request, user: User) -> Response:
    return render(request, "sessions.html", await _sign_ins_context(request, user))


@signed_in
async def sign_ins_end(request: Request, user: User) -> Response:
    """End one of the person's sign-ins, or forget one (or all) of their known devices."""
    app = ctx(request)
    form = await request.form()
    what = form_text(form, "action", 20)
    if what in ("forget_device", "forget_devices"):
        device_id = form_text(form, "device_id", 36) if what == "forget_device" else None
        async with transaction(app.sessions) as db:
            forgotten = await actions.forget_devices(
                db, user, app.clock(), device_id=device_id, client_ip=ip(request)
            )
        if what == "forget_device" and not forgotten:
            return error(request, 404, _("That device is not remembered any more."))
        return RedirectResponse("/account/sessions?forgotten=1", status_code=303)
    sign_in_id = form_text(form, "session_id", 36)  # the form keeps its field's name
    async with transaction(app.sessions) as db:
        ended = await signins.end_own_sign_in(db, user.id, sign_in_id)
        if ended:
            audit.record(
                db,
                app.clock(),
                "session.revoked",
                actor_id=user.id,
                subject_id=user.id,
                client_ip=ip(request),
            )
    if not ended:
        return error(request, 404, _("That session has already ended."))
    if sign_in_id == auth(request).sign_in_id:
        return RedirectResponse("/login", status_code=303)
    return RedirectResponse("/account/sessions?ended=1", status_code=303)


routes = [
    Route("/signup", signup_page, methods=["GET"]),
    Route("/signup", signup, methods=["POST"]),
    Route("/login", login_page, methods=["GET"]),
    Route("/login", login, methods=["POST"]),
    Route("/logout", logout, methods=["POST"]),
    Route("/account", account_page, methods=["GET"]),
    Route("/account", account_update, methods=["POST"]),
    Route("/account/sessions", sign_ins_page, methods=["GET"]),
    Route("/account/sessions", sign_ins_end, methods=["POST"]),
    Route("/api/me", api_me, methods=["GET"]),
    Route("/admin", admin_page, methods=["GET"]),
    Route("/admin", admin_action, methods=["POST"]),
]
