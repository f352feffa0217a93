"""The WebSocket endpoint: the ``websockets`` library's own asyncio server.

Not Starlette/uvicorn: measured on the same machine, the bare library delivers
two to three times as many frames per CPU-second (docs/performance.md). It runs
in uvicorn's event loop on its own port (``peerhub serve --ws-port``).

The handshake is refused with an HTTP status before any upgrade when:

- the path is not ``/ws`` (404);
- ``Origin`` is missing or not exactly one of ``PEERHUB_ALLOWED_ORIGINS`` (403) —
  a sibling subdomain is same-site, so SameSite cookies alone would let it in;
- there is no sign-in cookie, or its sign-in is unknown, expired or its account
  disabled (403);
- the person already has ``sockets_per_user`` sockets here (429), or the process
  is full (503).

Frames over 64 KiB close the socket (1009); permessage-deflate is off (no
compression side channel, less CPU); websockets' pings are the heartbeat. Logs
carry the user id, origin and address, never tokens or message text.
"""

from __future__ import annotations

import asyncio
import http
import logging
import time
import uuid
from dataclasses import dataclass
from http.cookies import CookieError, SimpleCookie
from typing import TYPE_CHECKING
from urllib.parse import parse_qs, urlsplit

from sqlalchemy.exc import SQLAlchemyError
from websockets.asyncio.server import Server, ServerConnection
from websockets.asyncio.server import serve as ws_serve
from websockets.exceptions import ConnectionClosed
from websockets.http11 import Request, Response
from websockets.typing import Origin

from peerhub import i18n
from peerhub.accounts.twofactor import standing
from peerhub.i18n import _
from peerhub.realtime import handlers, protocol, writer
from peerhub.realtime.hub import CLOSE_POLICY, Peer
from peerhub.realtime.protocol import ProtocolError
from peerhub.security import signins
from peerhub.security.clientip import client_ip

if TYPE_CHECKING:
    from peerhub.realtime.service import Realtime

log = logging.getLogger("peerhub.realtime.ws")


class _NoDebug(logging.Filter):
    """websockets logs headers (the sign-in cookie) and frames (people's words) at
    DEBUG. Those records never leave this logger, whatever the log level is set to."""

    def filter(self, record: logging.LogRecord) -> bool:
        return record.levelno > logging.DEBUG


# The library's own INFO lines repeat ours ("socket opened/closed"): warnings only.
_library_log = logging.getLogger("peerhub.realtime.websockets")
_library_log.setLevel(logging.WARNING)
_library_log.addFilter(_NoDebug())


@dataclass(frozen=True, slots=True)
class Handshake:
    sign_in_id: str
    user_id: str
    pseudonym: str
    origin: str
    ip: str
    # The person's interface language (BCP 47): their account's choice, else what the
    # page asked for (?lang=, the language cookie, Accept-Language), as on the site.
    language: str = "en-GB"


class PeerConnection(ServerConnection):
    """A connection that carries who it is from the handshake to the handler."""

    handshake_info: Handshake | None = None


def _cookie(request: Request, name: str) -> str | None:
    header = "; ".join(request.headers.get_all("Cookie"))
    if not header:
        return None
    jar: SimpleCookie = SimpleCookie()
    try:
        jar.load(header)
    except CookieError:
        return None
    morsel = jar.get(name)
    return morsel.value if morsel is not None and morsel.value else None


def _language(request: Request, account: str | None) -> str:
    """The socket's language, chosen as LocaleMiddleware chooses a page's (room.js
    passes the page's own language as ``?lang=``)."""
    query = parse_qs(urlsplit(request.path).query).get("lang")
    return i18n.choose(
        query=query[0] if query else None,
        account=account,
        cookie=_cookie(request, i18n.LANG_COOKIE),
        accept_language=request.headers.get("Accept-Language"),
    ).tag


async def serve(rt: Realtime) -> Server:
    settings = rt.ctx.settings
    config = rt.config
    allowed = frozenset(settings.allowed_origins)

    async def process_request(conn: ServerConnection, request: Request) -> Response | None:
        peer_ip = conn.remote_address[0] if conn.remote_address else None
        ip = client_ip(peer_ip, request.headers, settings.trusted_proxies)
        if request.path.split("?", 1)[0] != "/ws":
            return conn.respond(http.HTTPStatus.NOT_FOUND, "Not found.\n")
        origin = request.headers.get("Origin")
        if origin is None or origin not in allowed:
            log.info("handshake refused: origin not allowed (ip=%s)", ip)
            return conn.respond(http.HTTPStatus.FORBIDDEN, "Origin not allowed.\n")
        token = _cookie(request, settings.sign_in_cookie_name)
        if token is None or len(token) > 256:
            log.info("handshake refused: no sign-in (ip=%s)", ip)
            return conn.respond(http.HTTPStatus.FORBIDDEN, "Sign in first.\n")
        if len(rt.hub.peers) >= config.max_sockets:
            return conn.respond(http.HTTPStatus.SERVICE_UNAVAILABLE, "Too busy; try again.\n")
        try:
            async with rt.ctx.sessions() as db, db.begin():
                found = await signins.resolve(db, settings, token, rt.ctx.clock())
                # A role that needs two-step sign-in (docs/two-factor.md) gets no socket
                # until it is set up, as it gets no page.
                unenrolled = found is not None and (await standing(db, found[1])).must_enrol
        except (SQLAlchemyError, OSError, TimeoutError):
            log.warning("handshake refused: database unavailable")
            return conn.respond(http.HTTPStatus.SERVICE_UNAVAILABLE, "Try again shortly.\n")
        if found is None:
            log.info("handshake refused: sign-in unknown or ended (ip=%s)", ip)
            return conn.respond(http.HTTPStatus.FORBIDDEN, "Sign in first.\n")
        sign_in, user = found
        if unenrolled:
            log.info("handshake refused: two-step sign-in not set up (user=%s)", user.id)
            return conn.respond(http.HTTPStatus.FORBIDDEN, "Set up two-step sign-in first.\n")
        if rt.hub.count_user(user.id) >= config.sockets_per_user:
            log.info("handshake refused: too many sockets (user=%s)", user.id)
            return conn.respond(http.HTTPStatus.TOO_MANY_REQUESTS, "Too many connections.\n")
        assert isinstance(conn, PeerConnection)  # noqa: S101 - create_connection below
        conn.handshake_info = Handshake(
            sign_in.id, user.id, user.pseudonym, origin, ip, _language(request, user.language)
        )
        return None

    async def handler(conn: ServerConnection) -> None:
        assert isinstance(conn, PeerConnection)  # noqa: S101
        info = conn.handshake_info
        if info is None:  # pragma: no cover - process_request always sets it
            await conn.close(CLOSE_POLICY, "Not signed in.")
            return
        await run_connection(rt, conn, info)

    return await ws_serve(
        handler,
        config.host,
        config.port,
        origins=[Origin(o) for o in sorted(allowed)],
        compression=None,
        process_request=process_request,
        server_header=None,
        max_size=config.max_frame,
        max_queue=16,
        write_limit=config.write_limit,
        ping_interval=config.ping_interval,
        ping_timeout=config.ping_timeout,
        close_timeout=5,
        open_timeout=10,
        create_connection=PeerConnection,
        logger=_library_log,
    )


async def run_connection(rt: Realtime, conn: ServerConnection, info: Handshake) -> None:
    config = rt.config

    def closer(peer: Peer, code: int, reason: str) -> None:
        grace = config.stop_close if rt.stopping else config.close_grace
        rt.spawn(close_within(conn, code, reason, grace))

    peer = Peer(
        conn,
        config,
        socket_id=uuid.uuid4().hex,
        user_id=info.user_id,
        pseudonym=info.pseudonym,
        sign_in_id=info.sign_in_id,
        closer=closer,
    )
    # This task (and what it spawns) speaks the person's language; code running for
    # this socket elsewhere (the writer, control events) uses i18n.using(peer.language).
    i18n.activate(i18n.by_tag(info.language) or i18n.current())
    peer.language = info.language
    rt.hub.add_peer(peer)
    log.info("socket opened user=%s origin=%s ip=%s", info.user_id, info.origin, info.ip)
    frames = _Bucket(config.frame_rate, config.frame_burst)
    errors = 0
    reader = protocol.reader(rt.registry.specs)
    peer.send(
        protocol.welcome(
            protocol.Person(info.user_id, info.pseudonym),
            {
                "max_frame": config.max_frame,
                "max_body": protocol.MAX_BODY,
                # The latest page (a first visit, a resume too far back) and a
                # history frame's default; history_max is the most it may ask for.
                "history_page": config.page_size,
                "history_max": protocol.HISTORY_PAGE_MAX,
                "resume_max": config.resume_max,
                "send_rate": config.send_rate,
                "send_burst": config.send_burst,
            },
        )
    )
    try:
        async for raw in conn:
            if peer.closing:
                break  # a frame racing a close is never acted on
            if rt.stopping:
                continue  # not acted on: unacknowledged, so the client sends it again
            if not frames.take():
                peer.close(CLOSE_POLICY, _("Too many frames."))
                break
            try:
                frame = reader.decode(raw)
            except ProtocolError as exc:
                errors += 1
                peer.send(
                    protocol.error(
                        exc.code, exc.message, ref=exc.ref, room=exc.room, client_id=exc.client_id
                    )
                )
                if errors > config.error_burst:
                    peer.close(CLOSE_POLICY, _("Too many malformed frames."))
                    break
                continue
            handler = handlers.HANDLERS.get(frame.type)
            try:
                if handler is not None:
                    await handler(rt, peer, frame)
                else:
                    await handlers.extension(rt, peer, frame)
            except ConnectionClosed:
                raise
            except writer.WriteRefused as exc:
                peer.send(protocol.error(exc.code, exc.message, ref=frame.ref, room=frame.room))
            except writer.Busy:
                # The writer's queue is full, or its batch could not be stored for a
                # passing reason: nothing was changed, and the same frame can succeed.
                peer.send(
                    protocol.error(
                        "busy",
                        _("The server is busy; try again."),
                        ref=frame.ref,
                        room=frame.room,
                        retry_after=1.0,
                    )
                )
            except Exception as exc:
                peer.send(_fault(frame, exc))
        if peer.close_code is not None:
            # Closed by us: say why before the library closes with 1000.
            await close_within(conn, peer.close_code, peer.close_reason, config.close_grace)
    except ConnectionClosed:
        pass
    finally:
        peer.closing = True
        peer.outbox.shut()
        rt.leave_all(peer)
        rt.hub.remove_peer(peer)
        code = conn.close_code
        log.info("socket closed user=%s code=%s", info.user_id, code)


def _fault(frame: protocol.Frame, exc: Exception) -> bytes:
    """The answer to a frame whose handler failed: ``internal`` only where trying
    again can succeed (docs/protocol.md, "Error codes")."""
    if writer.data_fault(exc):
        # The frame's own data was refused by the database: retrying cannot help.
        log.warning("frame %s refused by the database: %s", frame.type, exc.__class__.__name__)
        refusal = writer.NOT_STORABLE
        return protocol.error(refusal.code, refusal.message, ref=frame.ref, room=frame.room)
    if writer.passing_fault(exc) or isinstance(exc, SQLAlchemyError):
        log.warning("frame %s failed: %s", frame.type, exc.__class__.__name__)
        message = _("The database is not answering; try again shortly.")
    else:
        log.exception("frame %s failed", frame.type)
        message = _("Something went wrong; nothing was changed. Try again.")
    return protocol.error("internal", message, ref=frame.ref, room=frame.room)


async def close_within(conn: ServerConnection, code: int, reason: str, grace: float) -> None:
    """Close with ``code``; drop the TCP connection if that takes longer than ``grace``.

    The library's close waits for its close frame to enter a socket buffer that a
    client which stopped reading never empties (and its close timeout only starts
    after that), so without this the socket, and its place in the per-person and
    per-process counts, would be held for as long as the client stays silent. A
    client that reads again within ``grace`` gets the close frame (1013, 1001...);
    one that does not sees the connection dropped: 1006 (docs/protocol.md).
    """
    # A close reason may be 123 bytes of UTF-8: cut a translation at a whole character.
    short = reason.encode()[:120].decode(errors="ignore")
    task = asyncio.ensure_future(conn.close(code, short))
    done, _pending = await asyncio.wait({task}, timeout=grace)
    if task not in done:
        conn.transport.abort()
        done, _pending = await asyncio.wait({task}, timeout=1.0)
        if task not in done:  # pragma: no cover - abort ends the close at once
            task.cancel()
    elif not task.cancelled():
        task.exception()  # retrieved: a closing socket's error is not news


class _Bucket:
    """A token bucket for one socket's frames (smaller than a TokenBuckets table)."""

    __slots__ = ("burst", "rate", "stamp", "tokens")

    def __init__(self, rate: float, burst: int) -> None:
        self.rate, self.burst = rate, float(burst)
        self.tokens, self.stamp = float(burst), time.monotonic()

    def take(self) -> bool:
        now = time.monotonic()
        self.tokens = min(self.burst, self.tokens + (now - self.stamp) * self.rate)
        self.stamp = now
        if self.tokens >= 1.0:
            self.tokens -= 1.0
            return True
        return False


__all__ = ["Handshake", "PeerConnection", "serve"]
