"""The notification routes: the banner's polling endpoint and "mark as seen", the
notifications settings page, this browser's push subscription, and the service worker.

- ``GET /api/notices/unread``: the signed-in person's unread notices as JSON (the
  topic's words in the page's language), polled by peerhub/static/js/notices.js;
- ``POST /notices/{id}/seen`` and ``POST /notices/seen``: mark one, or all, seen;
- ``GET|POST /account/notifications``: the channels for duty notices, the SMS number
  and the sound for urgent notices;
- ``POST /api/notices/sound``: ``{"on": true|false}``, the sound for urgent notices
  (JSON, with the CSRF header), answered with ``{"sound": ...}``;
- ``POST /api/notices/push`` and ``POST /api/notices/push/remove``: this browser's Web
  Push subscription, added or removed (JSON, with the CSRF header);
  ``POST /account/notifications/browsers``: every browser removed (a form);
- ``GET /sw.js``: the service worker, from the site's root so its scope is the site.
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from peerhub import notify
from peerhub.accounts.page_helpers import safe_next
from peerhub.db import transaction
from peerhub.errors import FieldError
from peerhub.i18n import _
from peerhub.models import User
from peerhub.notify import choices
from peerhub.notify.banner import shown
from peerhub.notify.push import vapid_of
from peerhub.security.middleware import wants_json
from peerhub.web.guards import signed_in
from peerhub.web.render import ctx, error, form_text, read_json, render

#: Seconds between polls while the page is visible (the script backs off when hidden).
POLL_SECONDS = 20


@signed_in
async def unread_json(request: Request, user: User) -> Response:
    async with ctx(request).sessions() as db:
        notices, sound = await notify.unread_with_sound(db, user.id)
    found = shown(notices)
    return JSONResponse(
        {
            "notices": [
                {"id": n.id, "text": str(n.text), "url": n.url, "urgent": n.urgent} for n in found
            ],
            "poll": POLL_SECONDS,
            "sound": sound,
        }
    )


@signed_in
async def sound_set(request: Request, user: User) -> Response:
    body = await read_json(request, max_bytes=1024)
    on = body.get("on") if isinstance(body, dict) else None
    if not isinstance(on, bool):
        return error(request, 422, _("Say whether to play a sound for urgent notices."))
    app = ctx(request)
    async with transaction(app.sessions) as db:
        await choices.set_sound(db, user.id, on, app.clock())
    return JSONResponse({"sound": on})


def _done(request: Request, next_path: str) -> Response:
    if wants_json(request.headers):
        return JSONResponse({"ok": True})
    return RedirectResponse(next_path, status_code=303)


@signed_in
async def seen(request: Request, user: User) -> Response:
    form = await request.form()
    app = ctx(request)
    async with transaction(app.sessions) as db:
        await notify.mark_read(db, user.id, request.path_params["notice_id"], app.clock())
    return _done(request, safe_next(form_text(form, "next", 300), "/"))


@signed_in
async def all_seen(request: Request, user: User) -> Response:
    form = await request.form()
    app = ctx(request)
    async with transaction(app.sessions) as db:
        await notify.mark_all_read(db, user.id, app.clock())
    return _done(request, safe_next(form_text(form, "next", 300), "/"))


def _page(
    request: Request,
    user: User,
    chosen: choices.Choices,
    *,
    errors: dict[str, str] | None = None,
    phone: str | None = None,
    status: int = 200,
) -> Response:
    return render(
        request,
        "notify/settings.html",
        {
            "chosen": chosen,
            "has_email": bool(user.email),
            "phone": chosen.phone if phone is None else phone,
            "errors": errors or {},
            "vapid_public_key": vapid_of(ctx(request), request.app.state).public_key,
            "done": request.query_params.get("done", ""),
        },
        status=status,
    )


@signed_in
async def settings_page(request: Request, user: User) -> Response:
    async with ctx(request).sessions() as db:
        chosen = await choices.choices(db, user.id)
    return _page(request, user, chosen)


@signed_in
async def settings_save(request: Request, user: User) -> Response:
    form = await request.form()
    app = ctx(request)
    wanted = set(form.getlist("channel"))
    phone = "" if form_text(form, "remove_phone") else form_text(form, "phone", 40)
    try:
        async with transaction(app.sessions) as db:
            await choices.save(
                db,
                user.id,
                email="email" in wanted,
                push="push" in wanted,
                sms="sms" in wanted,
                phone=phone,
                now=app.clock(),
                sound=bool(form_text(form, "sound")),
            )
    except FieldError as exc:
        async with app.sessions() as db:
            saved = await choices.choices(db, user.id)
        chosen = choices.Choices(
            "email" in wanted,
            "push" in wanted,
            "sms" in wanted,
            saved.phone,
            saved.browsers,
            bool(form_text(form, "sound")),
        )
        return _page(
            request, user, chosen, errors={exc.field: exc.message}, phone=phone, status=422
        )
    return RedirectResponse("/account/notifications?done=saved", status_code=303)


def _subscription(body: Any) -> tuple[str, str, str]:
    if not isinstance(body, dict) or not isinstance(body.get("keys"), dict):
        raise ValueError("no subscription")
    keys = body["keys"]
    return choices.checked_subscription(body.get("endpoint"), keys.get("p256dh"), keys.get("auth"))


@signed_in
async def push_add(request: Request, user: User) -> Response:
    body = await read_json(request, max_bytes=4096)
    try:
        endpoint, p256dh, auth = _subscription(body)
    except ValueError:
        return error(request, 422, _("This browser’s push subscription could not be used."))
    app = ctx(request)
    async with transaction(app.sessions) as db:
        await choices.subscribe(db, user.id, endpoint, p256dh, auth, app.clock())
    return JSONResponse({"ok": True}, status_code=201)


@signed_in
async def push_remove(request: Request, user: User) -> Response:
    body = await read_json(request, max_bytes=4096)
    endpoint = body.get("endpoint") if isinstance(body, dict) else None
    if not isinstance(endpoint, str) or not endpoint:
        return error(request, 422, _("Say which browser to stop sending notifications to."))
    app = ctx(request)
    async with transaction(app.sessions) as db:
        await choices.unsubscribe(db, user.id, endpoint)
    return JSONResponse({"ok": True})


@signed_in
async def browsers_remove(request: Request, user: User) -> Response:
    app = ctx(request)
    async with transaction(app.sessions) as db:
        await choices.unsubscribe(db, user.id, None)
    return RedirectResponse("/account/notifications?done=browsers", status_code=303)


async def service_worker(request: Request) -> Response:
    # Served from the root so that its scope is the whole site; no-store (as every
    # page), so a new version is picked up at once.
    return FileResponse(
        ctx(request).settings.frontend_dir / "static" / "sw.js",
        media_type="text/javascript",
        headers={"Service-Worker-Allowed": "/"},
    )


routes: list[BaseRoute] = [
    Route("/api/notices/unread", unread_json, methods=["GET"]),
    Route("/notices/seen", all_seen, methods=["POST"]),
    Route("/notices/{notice_id}/seen", seen, methods=["POST"]),
    Route("/account/notifications", settings_page, methods=["GET"]),
    Route("/account/notifications", settings_save, methods=["POST"]),
    Route("/account/notifications/browsers", browsers_remove, methods=["POST"]),
    Route("/api/notices/sound", sound_set, methods=["POST"]),
    Route("/api/notices/push", push_add, methods=["POST"]),
    Route("/api/notices/push/remove", push_remove, methods=["POST"]),
    Route("/sw.js", service_worker, methods=["GET"]),
]
