"""create_app(settings): every route, middleware and the lifespan, declared in one place."""

from __future__ import annotations

import contextlib
import time
from collections.abc import AsyncIterator

from sqlalchemy.exc import InterfaceError, OperationalError
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from peerhub import i18n
from peerhub.accounts import recovery_routes as recovery
from peerhub.accounts import routes as accounts
from peerhub.accounts import twofactor_routes as two_factor
from peerhub.care import routes as care
from peerhub.checkins import actions as checkins
from peerhub.checkins import routes as checkin_routes
from peerhub.config import Settings
from peerhub.context import AppContext, Clock, system_clock
from peerhub.db import make_engine, make_sessionmaker
from peerhub.directory import routes as directory
from peerhub.duty import escalation
from peerhub.duty import pages as duty_pages
from peerhub.errors import BadInput, Forbidden, NotFound
from peerhub.finding import routes as finding
from peerhub.finding.profiles import MatchIndex
from peerhub.groups import routes as groups
from peerhub.health import healthz, readyz
from peerhub.inputs import JSONProblem
from peerhub.moderation import api as moderation_api
from peerhub.moderation import pages as moderation_pages
from peerhub.moderation.extension import Moderation
from peerhub.notify import channels as notify_channels
from peerhub.notify import letters as notify_letters
from peerhub.notify import routes as notify_routes
from peerhub.notify.banner import NoticeBanner
from peerhub.openapi import openapi_json
from peerhub.outbox.dispatcher import Dispatcher
from peerhub.outcomes import routes as outcomes
from peerhub.privacy import routes as privacy
from peerhub.realtime import after_commit
from peerhub.realtime import config as realtime_config  # real-time rooms (peerhub/realtime)
from peerhub.realtime import routes as realtime_routes
from peerhub.realtime.policy import Registry as RealtimeRegistry
from peerhub.realtime.service import Realtime, bounded
from peerhub.referrals import routes as referrals
from peerhub.rotas import gaps as rota_gaps
from peerhub.rotas import routes as rotas
from peerhub.security.inputguard import HSDS, InputGuard
from peerhub.security.middleware import (
    AuthMiddleware,
    CSRFMiddleware,
    SecurityHeadersMiddleware,
    TwoFactorGate,
)
from peerhub.security.passwords import Passwords
from peerhub.security.ratelimit import TokenBuckets
from peerhub.sharing import routes as sharing
from peerhub.web import language, pages, work
from peerhub.web.failsafe import Failsafe
from peerhub.web.render import make_environment

# Public JSON APIs that change nothing a person owns; they still get the Origin check.
CSRF_EXEMPT = ("/api/match",)


def create_app(settings: Settings, *, clock: Clock = system_clock) -> Starlette:
    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        engine = make_engine(settings.database_url)
        app.state.ctx = AppContext(
            settings=settings,
            engine=engine,
            sessions=make_sessionmaker(engine),
            passwords=Passwords(settings.argon2_params, settings.password_hash_concurrency),
            clock=clock,
        )
        app.state.match_index = MatchIndex(app.state.ctx.sessions, settings.base_url, clock)
        app.state.redis = None
        if settings.redis_url:
            from redis.asyncio import Redis

            app.state.redis = Redis.from_url(
                settings.redis_url, socket_timeout=5, socket_connect_timeout=5
            )

        async def close_clients() -> None:
            # Bounded: a database or Redis that does not answer must not keep the
            # process from stopping (docs/realtime.md, "Stopping").
            if app.state.redis is not None:
                await bounded(app.state.redis.aclose(), 0.3, "the Redis client")
            await bounded(engine.dispose(), 0.7, "the database pool")

        # Real-time rooms: writer, hub and bus in this process, and the WebSocket
        # server on its own port when one is configured (peerhub serve does).
        try:
            app.state.realtime = Realtime(
                app.state.ctx, realtime_config.load(settings), app.state.realtime_registry
            )
            # Refuses (NamespaceInUse) when another deployment uses its Redis channels.
            await app.state.realtime.start()
        except BaseException:
            await close_clients()
            raise
        # The outbox's dispatcher (peerhub/outbox): what actions recorded to happen after
        # their commit. Started once the rooms run (its handlers publish to them), and
        # stopped first; what it leaves is delivered after the restart.
        app.state.outbox = Dispatcher(engine, clock=clock)
        after_commit.register(app.state.outbox, app.state.realtime)
        app.state.moderation.deliver_effects(app.state.outbox, app.state.realtime)
        # The duty desk's ladder: unopened crisis alerts and unhandled reports climb.
        escalation.register(app.state.outbox, app.state.ctx.sessions, clock)
        # Private check-ins close by themselves after the organisation's quiet period.
        checkins.register(app.state.outbox, app.state.ctx.sessions, clock)
        # Duty notices by e-mail, Web Push and SMS (peerhub/notify).
        notify_channels.register(app.state.outbox, app.state.ctx, app.state)
        rota_gaps.register(app.state.outbox, app.state.ctx.sessions, clock)
        # E-mails about join requests and referrals (peerhub/notify/letters.py).
        notify_letters.register(app.state.outbox, app.state.ctx, app.state)
        await app.state.outbox.start()
        if settings.extra.get("rota_gap_check"):  # peerhub serve: the rotas' gap check
            await rota_gaps.start(app.state.ctx.sessions)
        try:
            yield
        finally:
            await app.state.outbox.stop()  # the row in hand finished, at most 5 s
            await app.state.realtime.stop()  # real-time rooms: bounded too
            await close_clients()

    routes = [
        Route("/", pages.home, methods=["GET"]),
        Route("/favicon.ico", pages.favicon, methods=["GET"]),
        Route("/crisis", pages.crisis_page, methods=["GET"]),
        Route("/api/crisis-contacts", pages.crisis_json, methods=["GET"]),
        Route("/openapi.json", openapi_json, methods=["GET"]),
        Route("/healthz", healthz, methods=["GET"]),
        Route("/readyz", readyz, methods=["GET"]),
        *accounts.routes,
        *two_factor.routes,
        *recovery.routes,  # changing and resetting passwords, recovery words
        *groups.routes,
        *directory.routes,
        *finding.routes,
        *outcomes.routes,  # /organise/outcomes: what happens after a match, by kind
        *referrals.routes,
        *moderation_pages.routes,  # GET /organise/groups/{id}/moderation
        *moderation_api.routes,  # POST /api/moderation/{frame type}: the console over HTTP
        *privacy.routes,  # /account/export, /account/erase (data rights)
        *sharing.routes,  # /account/sharing, /account/crisis-plan, person cards
        *realtime_routes.routes,  # GET /api/realtime and /groups/{slug}/room
        *care.routes,  # /care and /organise/organisations/{id}/care (moderators' care)
        *work.routes,  # each role's own work: /account/groups, /moderate
        *duty_pages.routes,  # /duty: crisis alerts' records, the safeguarding log
        *rotas.routes,  # /organise/groups/{id}/rota, /account/rota, /rota/feed/{token}.ics
        *checkin_routes.routes,  # /check-ins: private check-ins, /duty/check-ins/{id}
        *language.routes,  # /language, /easy-read, /i18n/{tag}.json
        *notify_routes.routes,  # duty notices: /api/notices/*, /account/notifications, /sw.js
        Mount("/static", StaticFiles(directory=settings.frontend_dir / "static"), name="static"),
    ]
    app = Starlette(
        routes=routes,
        middleware=[
            Middleware(SecurityHeadersMiddleware),
            # An unhandled exception: the 500 page, and the connection kept (failsafe.py).
            Middleware(Failsafe),
            Middleware(AuthMiddleware),
            # A signed-in person's unread duty notices for the page (peerhub/notify).
            Middleware(NoticeBanner),
            # The request's language and Easy Read, from ?lang=, the account, a cookie
            # or Accept-Language (peerhub/web/language.py, peerhub/i18n.py).
            Middleware(language.LocaleMiddleware),
            # NUL and control characters refused before any route (inputguard.py).
            Middleware(InputGuard),
            Middleware(TwoFactorGate),
            # The read-only HSDS API answers unsafe methods itself: 405, JSON, CORS.
            Middleware(CSRFMiddleware, exempt=CSRF_EXEMPT, read_only=(HSDS,)),
        ],
        exception_handlers={
            # Registered once for every route: no route turns these into answers itself.
            HTTPException: pages.http_exception,
            NotFound: pages.not_found,
            Forbidden: pages.forbidden,
            BadInput: pages.bad_input,
            JSONProblem: pages.json_problem,
            OperationalError: pages.database_unavailable,
            InterfaceError: pages.database_unavailable,
            ConnectionError: pages.database_unavailable,
            TimeoutError: pages.database_unavailable,
            Exception: pages.server_error,
        },
        lifespan=lifespan,
    )
    app.state.settings = settings
    # Extensions of the real-time rooms (moderation) register here before start-up.
    app.state.realtime_registry = RealtimeRegistry()
    # (Kept: the outbox's dispatcher delivers its actions' effects through it.)
    app.state.moderation = Moderation()
    app.state.moderation.setup(app.state.realtime_registry)
    # /api/match and /find: a burst of 30, then one search a second per address.
    app.state.match_limits = TokenBuckets(rate=1.0, burst=30, clock=time.monotonic)
    # Referral codes: 10 tries, then one every 6 seconds per address (no guessing).
    app.state.code_limits = TokenBuckets(rate=1 / 6, burst=10, clock=time.monotonic)
    if settings.pseudo_locale:
        i18n.enable_pseudo()
    app.state.jinja = make_environment(settings)
    app.state.crisis_lists = {}  # the crisis panel drawn per language and nation (render.py)
    return app
