"""The input guard: characters no PeerHub address or field can hold are refused at the door.

A NUL character cannot be stored or compared by PostgreSQL: a ``%00`` in a path, a
query string or a form used to reach a query and fail there with a 500 (on SQLite it
was stored). This pure ASGI middleware looks at every HTTP request before any route
(docs/security.md, "Bad input"):

- the **path**: a NUL or any other control character (no slug, id or code has one)
  is a 404 saying why, since no page has such an address;
- the **query string**: a NUL in any name or value is a 400 naming the parameter;
- a **form** (``application/x-www-form-urlencoded``) on POST, PUT, PATCH or DELETE:
  read here (at most :data:`MAX_FORM_BYTES`, else 413), a NUL in any field is a 400
  naming it, and the body is replayed to the route untouched;
- ``multipart/form-data``: PeerHub takes no file uploads, so it is a 415 (Starlette
  would otherwise spool the parts to disk for any route that reads a form).

JSON bodies are read by :func:`peerhub.inputs.parse_json` in the routes that take them
(it refuses NUL and unpaired surrogates too), and the database layer refuses what
gets past both (:func:`peerhub.inputs.check_parameter`). Unpaired surrogates cannot
arrive in a path, query or form: Starlette decodes percent-escapes as UTF-8 with
replacement.

Answers are JSON for ``/api/`` and ``/hsds/`` (the latter with its CORS headers and,
as the HSDS API documents for a bad parameter, 422) and pages for people.
"""

from __future__ import annotations

import re
from typing import Final
from urllib.parse import parse_qsl, unquote_plus

from starlette.datastructures import Headers
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from peerhub.directory.hsds import CORS
from peerhub.i18n import _
from peerhub.web.render import error

MAX_FORM_BYTES: Final = 64 * 1024
UNSAFE_METHODS: Final = frozenset({"POST", "PUT", "PATCH", "DELETE"})
_CONTROL: Final = re.compile("[\x00-\x1f\x7f]")
_SHOWABLE_NAME: Final = re.compile(r"[A-Za-z0-9_.\-\[\]]{1,40}")
HSDS: Final = "/hsds"


def _is_hsds(path: str) -> bool:
    return path == HSDS or path.startswith(HSDS + "/")


def _name(raw: str) -> str:
    """A parameter's name, if it is safe and short enough to repeat back."""
    return raw if _SHOWABLE_NAME.fullmatch(raw) else "one of the parameters"


def _nul_field(text: str) -> str | None:
    """The name of the first field of a query string or form holding a NUL (after
    percent-decoding), "one of the parameters" if it cannot be named, or None."""
    if "\x00" not in unquote_plus(text):
        return None
    for key, value in parse_qsl(text, keep_blank_values=True):
        if "\x00" in key or "\x00" in value:
            return _name(key) if "\x00" not in key else "one of the parameters"
    return "one of the parameters"


class InputGuard:
    """Refuses NUL (and, in paths, every control character) before any route runs."""

    def __init__(self, app: ASGIApp, max_form_bytes: int = MAX_FORM_BYTES) -> None:
        self.app = app
        self.max_form_bytes = max_form_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if _CONTROL.search(scope["path"]):
            await self._refuse(
                scope,
                receive,
                send,
                404,
                _(
                    "We could not find that page: its address contains a control character "
                    "(such as a NUL byte), which no PeerHub address has."
                ),
            )
            return
        query = scope.get("query_string", b"").decode("latin-1")
        field = _nul_field(query) if query else None
        if field is not None:
            await self._refuse_field(scope, receive, send, field, "address")
            return
        if scope["method"] not in UNSAFE_METHODS or _is_hsds(scope["path"]):
            # The HSDS API answers every unsafe method with its own 405; it reads no body.
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        ctype = headers.get("content-type", "").split(";")[0].strip().lower()
        if ctype == "multipart/form-data":
            await self._refuse(
                scope,
                receive,
                send,
                415,
                _(
                    "PeerHub does not take file uploads. Send the form as an ordinary "
                    "web form (application/x-www-form-urlencoded)."
                ),
            )
            return
        if ctype != "application/x-www-form-urlencoded":
            await self.app(scope, receive, send)
            return
        messages, body, too_big = await _read(receive, self.max_form_bytes)
        if too_big:
            await self._refuse(
                scope,
                receive,
                send,
                413,
                _(
                    "The form is larger than %(kib)s KiB. "
                    "Please shorten what you wrote and try again.",
                    kib=self.max_form_bytes // 1024,
                ),
            )
            return
        field = _nul_field(body.decode("latin-1"))
        if field is not None:
            await self._refuse_field(scope, receive, send, field, "form")
            return
        await self.app(scope, _replaying(messages, receive), send)

    async def _refuse_field(
        self, scope: Scope, receive: Receive, send: Send, field: str, where: str
    ) -> None:
        message = _refusal(where, field)
        if _is_hsds(scope["path"]):
            body = {"error": message, "field": field, "errors": {field: message}}
            await _with_cors(JSONResponse(body, status_code=422))(scope, receive, send)
            return
        await self._refuse(scope, receive, send, 400, message, field=field)

    async def _refuse(
        self,
        scope: Scope,
        receive: Receive,
        send: Send,
        status: int,
        message: str,
        *,
        field: str | None = None,
    ) -> None:
        response: Response
        if _is_hsds(scope["path"]):
            response = _with_cors(JSONResponse({"error": message}, status_code=status))
        else:
            response = error(Request(scope, receive), status, message, field=field)
        await response(scope, receive, send)


def _refusal(where: str, field: str) -> str:
    """Why a NUL in the address (``where`` "address") or a form was refused, in the
    page's language: naming the field unless it could not be told."""
    named = field != "one of the parameters"
    if where == "address":
        if named:
            return _(
                "The address contains a NUL character in “%(field)s”, which PeerHub "
                "cannot store. Remove it and try again.",
                field=field,
            )
        return _(
            "The address contains a NUL character in one of the parameters, which "
            "PeerHub cannot store. Remove it and try again."
        )
    if named:
        return _(
            "The form contains a NUL character in “%(field)s”, which PeerHub cannot "
            "store. Remove it and try again.",
            field=field,
        )
    return _(
        "The form contains a NUL character in one of the parameters, which PeerHub "
        "cannot store. Remove it and try again."
    )


def _with_cors(response: Response) -> Response:
    response.headers.update(CORS)
    return response


async def _read(receive: Receive, limit: int) -> tuple[list[Message], bytes, bool]:
    """The request body's messages and bytes; ``too_big`` once it passes ``limit``."""
    messages: list[Message] = []
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        messages.append(message)
        if message["type"] != "http.request":
            break
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            return messages, b"", True
        chunks.append(chunk)
        if not message.get("more_body", False):
            break
    return messages, b"".join(chunks), False


def _replaying(messages: list[Message], receive: Receive) -> Receive:
    pending = list(messages)

    async def replay() -> Message:
        if pending:
            return pending.pop(0)
        return await receive()

    return replay
