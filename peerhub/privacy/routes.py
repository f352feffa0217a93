"""The person's data rights over HTTP: download everything, or delete the account.

- ``GET /account/export``: a JSON file (``peerhub-export-YYYY-MM-DD.json``).
- ``GET /account/erase``: what deletion does, the choice about messages, the password.
- ``POST /account/erase``: delete (CSRF-checked by the middleware, like every form).
- ``GET /account/erased``: the page after, with the crisis route like every page.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from peerhub import audit
from peerhub.db import checkpoint, transaction
from peerhub.i18n import _, ngettext
from peerhub.models import User
from peerhub.privacy import erasure
from peerhub.privacy.erasure import Erased, MessageChoice
from peerhub.privacy.export import build_export
from peerhub.security import throttle
from peerhub.security.middleware import cookie_header
from peerhub.web.guards import signed_in
from peerhub.web.render import ctx, error, form_text, ip, render

log = logging.getLogger("peerhub.privacy")

PASSWORD_FIELD = "password"  # noqa: S105 - the form field's name, not a password


@signed_in
async def export(request: Request, user: User) -> Response:
    # A download started by another site (a link or a form elsewhere) is refused: the
    # file would land on the person's device without them asking for it.
    if request.headers.get("sec-fetch-site") == "cross-site":
        return error(request, 403, _("Start the download from your account page."))
    app = ctx(request)
    now = app.clock()
    async with transaction(app.sessions) as db:
        me = await db.get(User, user.id)
        if me is None:  # pragma: no cover - erased between the cookie check and here
            return error(request, 404, _("There is no such account."))
        data = await build_export(db, me, now)
        audit.record(
            db, now, "account.exported", actor_id=me.id, subject_id=me.id, client_ip=ip(request)
        )
    body = json.dumps(data, ensure_ascii=False, indent=2, sort_keys=False)
    return Response(
        body.encode("utf-8"),
        media_type="application/json; charset=utf-8",
        headers={
            "Content-Disposition": (
                f"attachment; filename=peerhub-export-{now.date().isoformat()}.json"
            ),
            "Cache-Control": "no-store",
        },
    )


async def _erase_context(request: Request, user: User) -> dict[str, Any]:
    async with ctx(request).sessions() as db:
        sole = await erasure.sole_organiser_of(db, user.id)
    return {"sole_organiser_of": sole, "values": {}, "errors": {}}


@signed_in
async def erase_page(request: Request, user: User) -> Response:
    return render(request, "privacy/erase.html", await _erase_context(request, user))


async def _refuse(
    request: Request,
    user: User,
    values: dict[str, str],
    errors: dict[str, str],
    status: int,
    headers: dict[str, str] | None = None,
) -> Response:
    context = await _erase_context(request, user)
    context.update(values=values, errors=errors)
    return render(request, "privacy/erase.html", context, status=status, headers=headers)


@signed_in
async def erase(request: Request, user: User) -> Response:
    app = ctx(request)
    form = await request.form()
    choice = form_text(form, "messages", 10)
    password = form_text(form, PASSWORD_FIELD, 4096)
    values = {"messages": choice if choice in ("remove", "keep") else ""}
    errors: dict[str, str] = {}
    if not values["messages"]:
        errors["messages"] = _("Choose what happens to your messages.")
    if not password:
        errors[PASSWORD_FIELD] = _("Enter your password, to show it is you.")
    if errors:
        return await _refuse(request, user, values, errors, 422)
    now, address = app.clock(), ip(request)
    keys = [erasure.erase_throttle_key(user.id), throttle.address_key(address)]
    done: Erased | None = None
    retry_after = 0
    # Counted before the password is checked, and committed, so tries sent in parallel
    # queue on the counters instead of slipping past one check together; a right
    # password gives its try back.
    async with transaction(app.sessions) as db:
        held = await throttle.reserve(db, keys, now)
        me = await db.get(User, user.id)
        stored = me.password_hash if me is not None else None
    if not held.allowed:
        retry_after = held.verdict.retry_after
    else:
        ok = await app.passwords.verify(stored, password[:1024])
        async with transaction(app.sessions) as db:
            if ok and stored is not None:
                await throttle.refund(db, held, keys, now, forget=keys[:1])
                done = await erasure.erase_account(db, user.id, now, choice=MessageChoice(choice))
            else:
                audit.record(
                    db, now, "account.erase_refused", actor_id=user.id, subject_id=user.id,
                    client_ip=address,
                )  # fmt: skip
    if retry_after:
        minutes = max(1, (retry_after + 59) // 60)
        message = ngettext(
            "Too many attempts. Please wait %(num)s minute.",
            "Too many attempts. Please wait %(num)s minutes.",
            minutes,
        )
        return await _refuse(
            request, user, values, {PASSWORD_FIELD: message}, 429, {"Retry-After": str(retry_after)}
        )
    if done is None:
        return await _refuse(
            request, user, values, {PASSWORD_FIELD: _("That password is not right.")}, 422
        )
    # The person's live sockets closed in every process when the erasure committed
    # (peerhub.security.signins records it); now make every live room whose log
    # changed drop what it cached, and forget the person in the matching index.
    await _tell_rooms(request, done)
    # SQLite: the deleted text is zeroed in the pages (secure_delete); empty the
    # write-ahead log, which still holds the pages as they were. PostgreSQL cannot
    # VACUUM inside this request: `peerhub retention` does, for every erasure since
    # its last run (the audit trail's "account.erased" is the note it reads).
    if await checkpoint(app.engine) is False:
        log.warning("the write-ahead log was busy after an erasure; peerhub retention empties it")
    index = getattr(request.app.state, "match_index", None)
    if index is not None:
        index.invalidate()
    settings = app.settings
    response = RedirectResponse("/account/erased", status_code=303)
    response.headers.append(
        "Set-Cookie",
        cookie_header(settings.sign_in_cookie_name, "", secure=settings.secure_cookies, max_age=0),
    )
    response.headers["Clear-Site-Data"] = '"cache", "storage"'
    return response


async def _tell_rooms(request: Request, done: Erased) -> None:
    """A system event in each room whose log changed. Every process's feed drops its
    ring of cached frames when a system event passes, so no catch-up can serve the
    old text or the old name from memory (docs/realtime.md, "Fan-out")."""
    service = getattr(request.app.state, "realtime", None)
    if service is None:
        return
    for room in sorted(done.rooms):
        try:
            # No text: each reader's page words the event in their own language
            # (peerhub/static/js/room-events.js, systemText).
            await service.append_event(room, {"event": "member.erased"})
        except Exception:  # the erasure is committed; a room that cannot be told
            # still serves the cleaned log to every new catch-up after its ring turns.
            log.exception("could not tell a room about an erased account")


async def erased_page(request: Request) -> Response:
    return render(request, "privacy/erased.html")


routes: list[BaseRoute] = [
    Route("/account/export", export, methods=["GET"]),
    Route("/account/erase", erase_page, methods=["GET"]),
    Route("/account/erase", erase, methods=["POST"]),
    Route("/account/erased", erased_page, methods=["GET"]),
]
