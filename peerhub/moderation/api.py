"""The moderation frames over HTTP: ``POST /api/moderation/{frame type}``, one per frame.

For a moderator console (or a person's own controls) that is not holding a socket. The
body is the frame's fields as JSON (``{"room": ..., "user": ..., "minutes": 5}`` for
``mod.timeout``), validated by the same struct as the frame (:mod:`.frames`); the route
runs the same action (:data:`.sockets.ACTIONS`) in a transaction that records the same
effects (an outbox row, :mod:`.after_commit`), delivered to the rooms of every process
once it commits and before the answer. The answer is the
frame a socket would get: ``done``, ``report.received``, ``mod.queue`` or
``me.controls``, as ``application/json``.

Guarded as every route is: :func:`~peerhub.web.guards.signed_in` (401 JSON), the CSRF
token and same-origin check and the two-step gate (the middleware), and the action
reads the person's rank in the group from the database. A refusal is the socket's
``error`` as ``{"error": message, "code": code}``: 404 for a room they are not in (or
nothing to act on), 403 for a rank too low, 422 for input the frame's struct or the
action refuses, 409 for what is already so ("already banned", "not held").
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from peerhub.i18n import _
from peerhub.models import User
from peerhub.moderation import actions, frames, queries
from peerhub.moderation.actions import Actor
from peerhub.moderation.extension import Moderation
from peerhub.moderation.policy import Refused
from peerhub.moderation.sockets import act, console_changed
from peerhub.realtime import protocol
from peerhub.realtime.protocol import ProtocolError, Spec
from peerhub.realtime.service import Realtime
from peerhub.web.guards import signed_in
from peerhub.web.render import error, read_json

MAX_BODY = 16 * 1024
SPECS: dict[str, Spec] = {name: spec for name, (spec, _rank, _room) in frames.CLIENT.items()}
STATUS = {
    "not_found": 404,
    "forbidden": 403,
    "bad_frame": 422,
    "bad_category": 422,
    "bad_outcome": 422,
}


def _refused(code: str, message: str) -> Response:
    return JSONResponse({"error": message, "code": code}, STATUS.get(code, 409))


def _frame_json(frame: bytes) -> Response:
    return Response(frame, media_type="application/json")


def _moderation(service: Realtime) -> Moderation | None:
    found = [p for p in service.registry.policies if isinstance(p, Moderation)]
    return found[0] if found else None


@signed_in
async def moderation_action(request: Request, user: User) -> Response:
    frame_type = request.path_params["frame_type"]
    if frame_type not in SPECS:
        return error(request, 404, _("There is no such moderation action."))
    # 415, 413 or 422 (JSON) for a body that is not plain, finite, shallow JSON.
    body = await read_json(request, max_bytes=MAX_BODY)
    if not isinstance(body, dict):
        return error(request, 422, _("Send the frame's fields as a JSON object."))
    try:
        raw = protocol.dumps({**body, "v": protocol.VERSION, "type": frame_type})
        frame = protocol.decode(raw.decode("utf-8"), SPECS)
    except ProtocolError as exc:  # as the socket's error frame says it
        return JSONResponse({"error": exc.message, "code": exc.code}, 422)
    service: Realtime | None = getattr(request.app.state, "realtime", None)
    moderation = _moderation(service) if service is not None else None
    if service is None or not service.started or moderation is None:
        return error(
            request,
            503,
            _("The rooms are not running. Try again in a minute."),
            headers={"Retry-After": "60"},
        )
    actor = Actor(user.id, service.now())
    try:
        return await _answer(service, frame, actor)
    except Refused as exc:
        return _refused(exc.code, exc.message)


async def _answer(service: Realtime, frame: protocol.Frame, actor: Actor) -> Response:
    if frame.type == "mod.queue":
        room = frame.text("room")
        async with service.sessions() as db:
            contents = await actions.queue(db, actor, room)
        return _frame_json(frames.queue(contents))
    if frame.type == "me.controls":
        async with service.sessions() as db:
            return _frame_json(frames.controls(await queries.controls(db, actor.user_id)))
    outcome = await act(service, frame, actor)
    if frame.type == "report.create":
        return _frame_json(frames.report_received(frame.text("room"), outcome.done["report"], None))
    console_changed(service, frame)
    return _frame_json(frames.done(frame.type, ref=None, room=frame.room, **outcome.done))


routes: list[BaseRoute] = [
    Route("/api/moderation/{frame_type}", moderation_action, methods=["POST"]),
]
