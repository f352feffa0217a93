"""The ``peerhub`` command: serve, migrate, demo, create-admin, allocate, retention."""

from __future__ import annotations

import argparse
import asyncio
import getpass
import logging
import os
import signal
import sys
import time
from collections.abc import Sequence
from typing import Any

from peerhub.config import ConfigError, Settings, load_settings

log = logging.getLogger("peerhub")


class CommandError(Exception):
    """A user-facing error: printed as one line, exit status 1."""


def _configure_logging() -> None:
    from peerhub import logs

    logs.configure(os.environ.get("PEERHUB_LOG_LEVEL", "INFO"))


def _migrate(settings: Settings) -> str | None:
    from peerhub import migrate

    if settings.is_sqlite:
        settings.data_dir.mkdir(parents=True, exist_ok=True)
    try:
        asyncio.run(migrate.upgrade(settings.database_url))
        return asyncio.run(migrate.current_revision(settings.database_url))
    except (OSError, ConnectionError) as exc:
        raise CommandError(f"cannot reach the database: {exc.__class__.__name__}") from exc
    except Exception as exc:
        from sqlalchemy.exc import SQLAlchemyError

        if isinstance(exc, SQLAlchemyError):
            raise CommandError(
                f"migration failed: {exc.__class__.__name__}: {str(exc).splitlines()[0]}"
            ) from exc
        raise


def cmd_serve(settings: Settings, args: argparse.Namespace) -> int:
    import uvicorn

    from peerhub import mail
    from peerhub.app import create_app

    mail.load_sender()  # bad PEERHUB_SMTP_* values stop start-up here, not at first use
    if "PEERHUB_BASE_URL" not in os.environ:
        # Nobody said where PeerHub is published, so it is where it listens.
        settings = settings.listening_on(args.host, args.port)
    # Real-time rooms: the WebSocket server listens beside uvicorn, in its event
    # loop, on --ws-port, else PEERHUB_WS_PORT, else the HTTP port + 1.
    settings = settings.with_overrides(
        extra={
            **settings.extra,
            "ws_host": args.host,
            "ws_port": args.ws_port,
            "ws_default_port": args.port + 1,
            # The rotas' gap check runs in served processes (peerhub/rotas/jobs.py).
            "rota_gap_check": True,
        }
    )
    if settings.is_sqlite:
        revision = _migrate(settings)
        log.debug("embedded database at revision %s", revision)
    _check_namespace(settings)
    app = create_app(settings)
    debug = os.environ.get("PEERHUB_LOG_LEVEL", "INFO").upper() == "DEBUG"
    config = uvicorn.Config(
        app,
        host=args.host,
        port=args.port,
        # Our own middleware reads X-Forwarded-For from PEERHUB_TRUSTED_PROXIES only.
        proxy_headers=False,
        server_header=False,
        # The access log would record query strings, which may carry codes; the
        # app logs what it needs without them.
        access_log=False,
        ws_max_size=64 * 1024,
        ws_per_message_deflate=False,
        # uvicorn's start-up chatter gives way to the one line startup_line() makes;
        # its warnings and errors still show.
        log_level="debug" if debug else "warning",
        # Stopping: requests still running after this are cancelled, so the whole
        # stop stays within STOP_BOUND (docs/realtime.md, "Stopping").
        timeout_graceful_shutdown=2,
    )
    server = _announcing_server(config)
    # After a clean stop on SIGTERM uvicorn raises the signal again; exit 0 then
    # rather than die of it (a forced stop exits 1, see _watchdog).
    signal.signal(signal.SIGTERM, _stopped)
    try:
        _run(server)
    finally:
        _leave_stuck_threads()
    return 0 if server.started else 1


# Seconds from SIGTERM (or Ctrl+C) to the end of the process, whatever the database
# and Redis are doing. Every step of the stop has its own smaller limit; this is the
# last resort, for a library that outwaits them all.
STOP_BOUND = 10.0


def _run(server: Any, cleanup: float = 1.0) -> None:
    """``server.run()``, except that the clean-up after serving is bounded.

    ``asyncio.run`` cancels every task still running and waits for each to end, with
    no limit: a task the stop gave up on (a database call blocked in a thread, behind
    a lock another program holds for up to the 30 s busy timeout) would hold the
    process long past STOP_BOUND. Here they get ``cleanup`` seconds; any still running
    are left to :func:`_leave_stuck_threads`. What was acknowledged is committed
    already (tests/realtime/test_shutdown.py).
    """
    factory = server.config.get_loop_factory()
    loop = factory() if factory is not None else asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    try:
        loop.run_until_complete(server.serve())
    finally:
        left = [task for task in asyncio.all_tasks(loop) if not task.done()]
        for task in left:
            task.cancel()
        if left:
            loop.run_until_complete(asyncio.wait(left, timeout=cleanup))
        for step in (loop.shutdown_asyncgens(), loop.shutdown_default_executor()):
            loop.run_until_complete(_within(step, cleanup / 2))
        if not any(not task.done() for task in left):
            loop.close()
        asyncio.set_event_loop(None)


async def _within(step: Any, seconds: float) -> None:
    task = asyncio.ensure_future(step)
    await asyncio.wait({task}, timeout=seconds)
    if not task.done():
        task.cancel()


def _stopped(signum: int, frame: Any) -> None:
    raise SystemExit(0)


def _watchdog(bound: float) -> None:
    """End the process ``bound`` seconds from now if it has not ended by itself."""
    import threading

    def force() -> None:
        sys.stderr.write(f"peerhub: error: stopping took over {bound:.0f} s; stopped anyway\n")
        sys.stderr.flush()
        os._exit(1)

    timer = threading.Timer(bound, force)
    timer.daemon = True
    timer.start()


def _leave_stuck_threads(wait: float = 1.0) -> None:
    """Exit now if a database thread is still busy after the server stopped.

    Each SQLite connection has a thread of its own that the interpreter waits for at
    exit; one blocked on a lock another program holds (or left by a task the stop
    gave up on) would hold the process for as long as that lasts. What was
    acknowledged is committed already; nothing is lost by not waiting.
    """
    import threading

    deadline = time.monotonic() + wait
    for thread in threading.enumerate():
        if thread is threading.main_thread() or thread.daemon:
            continue
        thread.join(max(0.0, deadline - time.monotonic()))
    stuck = [t for t in threading.enumerate() if t.is_alive() and not t.daemon]
    if len(stuck) > 1:  # the main thread is always there
        log.warning("%d database threads still busy after stopping; exiting", len(stuck) - 1)
        logging.shutdown()
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(0)


def _check_namespace(settings: Settings) -> None:
    """Refuse to serve, in one line, when another deployment uses this one's Redis
    channel namespace (peerhub/realtime/deployment.py). The app checks again as it
    starts; this is where the refusal reads well. Skipped when the database cannot be
    reached: the server then joins the bus (and checks) once it can."""
    from peerhub.realtime import deployment

    configured = deployment.configured_namespace()  # a bad value stops here, too
    if not settings.redis_url:
        return

    async def check() -> None:
        from sqlalchemy.exc import SQLAlchemyError

        from peerhub.db import make_engine
        from peerhub.realtime.bus.redis import RedisBus

        engine = make_engine(settings.database_url)
        try:
            identity = await asyncio.wait_for(deployment.resolve(engine, configured), 10)
        except (SQLAlchemyError, OSError, TimeoutError):
            return
        finally:
            await engine.dispose()
        found = await RedisBus(str(settings.redis_url)).subscribers(identity.marker_pattern)
        foreign = identity.foreign_markers(found or [])
        if foreign:
            raise identity.refusal(foreign)

    asyncio.run(check())


def _announcing_server(config: Any) -> Any:
    """uvicorn's server, saying in one line where PeerHub listens once it does."""
    import uvicorn

    class Server(uvicorn.Server):
        async def startup(self, sockets: Any = None) -> None:
            await super().startup(sockets)
            if self.should_exit:
                return  # the port was taken: uvicorn has said so
            print(startup_line(self.config.host, self.config.port, self.config.app), flush=True)

        def handle_exit(self, sig: int, frame: Any) -> None:
            if not self.should_exit:
                _watchdog(STOP_BOUND)
            super().handle_exit(sig, frame)

    return Server(config)


def startup_line(host: str, port: int, app: Any) -> str:
    """'PeerHub serves pages at … and its WebSocket at …' for the running app."""
    shown = f"[{host}]" if ":" in host else host
    line = f"PeerHub serves pages at http://{shown}:{port}"
    realtime = getattr(app.state, "realtime", None)
    ws_port = getattr(realtime, "port", None)
    if ws_port is not None:
        line += f" and its WebSocket at ws://{shown}:{ws_port}/ws"
    return line + "  (Ctrl+C to stop)"

    return 0


def cmd_migrate(settings: Settings, args: argparse.Namespace) -> int:
    revision = _migrate(settings)
    print(f"database is up to date (revision {revision})")
    return 0


def cmd_demo(settings: Settings, args: argparse.Namespace) -> int:
    from peerhub.context import system_clock
    from peerhub.db import make_engine, make_sessionmaker
    from peerhub.demo import DEMO_PASSWORD, DEMO_TOTP_SECRET, load_demo
    from peerhub.security import totp
    from peerhub.security.passwords import Passwords

    _migrate(settings)
    if os.environ.get("PEERHUB_LOG_LEVEL", "INFO").upper() != "DEBUG":
        # The demo's 40 accounts are in the audit trail; echoing each one here would
        # bury the summary below (and `make run`'s start-up line) in noise.
        logging.getLogger("peerhub.audit").setLevel(logging.WARNING)

    async def run() -> object:
        engine = make_engine(settings.database_url)
        try:
            return await load_demo(make_sessionmaker(engine), Passwords(), system_clock())
        finally:
            await engine.dispose()

    summary = asyncio.run(run())
    print(summary)
    print(
        f"Demo accounts (password: {DEMO_PASSWORD}): demo-admin, demo-organiser, "
        "demo-moderator, demo-gp, demo-member"
    )
    print(
        "Two-step sign-in: every demo account but demo-member also asks for a code. "
        f"Add this key to an authenticator app: {totp.grouped(DEMO_TOTP_SECRET)}\n"
        "  (or open "
        f"{totp.provisioning_uri(DEMO_TOTP_SECRET, 'demo accounts', 'PeerHub demo')}),\n"
        "  or run `peerhub demo-code` for the current code."
    )
    return 0


def cmd_demo_code(settings: Settings, args: argparse.Namespace) -> int:
    """The demo accounts' current sign-in code (their key is public: demo only)."""
    import time

    from peerhub.demo import DEMO_TOTP_SECRET
    from peerhub.security import totp

    now = time.time()
    left = totp.STEP - int(now) % totp.STEP
    print(totp.totp(totp.decode_secret(DEMO_TOTP_SECRET), now))
    print(f"(the code for the demo accounts; it changes in {left} seconds)", file=sys.stderr)
    return 0


def _read_password(args: argparse.Namespace) -> str:
    if args.password_stdin:
        return sys.stdin.readline().rstrip("\n")
    env = os.environ.get("PEERHUB_ADMIN_PASSWORD")
    if env:
        return env
    if not sys.stdin.isatty():
        raise CommandError("no password: use --password-stdin or set PEERHUB_ADMIN_PASSWORD")
    first = getpass.getpass("Password for the new admin: ")
    if first != getpass.getpass("Same password again: "):
        raise CommandError("the two passwords differ")
    return first


def cmd_create_admin(settings: Settings, args: argparse.Namespace) -> int:
    from peerhub.accounts.actions import signup
    from peerhub.context import system_clock
    from peerhub.db import make_engine, make_sessionmaker, transaction
    from peerhub.errors import FieldError
    from peerhub.security.passwords import Passwords

    if settings.is_sqlite:
        _migrate(settings)
    password = _read_password(args)

    async def run() -> str:
        engine = make_engine(settings.database_url)
        try:
            async with transaction(make_sessionmaker(engine)) as db:
                user = await signup(
                    db,
                    Passwords(),
                    system_clock(),
                    pseudonym=args.pseudonym,
                    password=password,
                    email=args.email,
                    is_admin=True,
                )
                return user.id
        finally:
            await engine.dispose()

    try:
        user_id = asyncio.run(run())
    except FieldError as exc:
        raise CommandError(f"{exc.field}: {exc.message}") from exc
    print(f"admin {args.pseudonym!r} created (id {user_id})")
    return 0


def cmd_allocate(settings: Settings, args: argparse.Namespace) -> int:
    from peerhub.context import system_clock
    from peerhub.db import make_engine, make_sessionmaker, transaction
    from peerhub.finding.actions import allocate_places

    async def run() -> int:
        engine = make_engine(settings.database_url)
        try:
            async with transaction(make_sessionmaker(engine)) as db:
                return len(await allocate_places(db, system_clock()))
        finally:
            await engine.dispose()

    offers = asyncio.run(run())
    print(f"{offers} place{'s' if offers != 1 else ''} offered to people on waiting lists")
    return 0


def cmd_retention(settings: Settings, args: argparse.Namespace) -> int:
    from peerhub.context import system_clock
    from peerhub.db import make_engine, make_sessionmaker, transaction
    from peerhub.outcomes.actions import Settled, settle
    from peerhub.privacy.retention import Purged, Reclaimed, purge, reclaim

    if args.batch_size < 1:
        raise CommandError("--batch-size must be at least 1")
    outcomes = Settled()

    async def run() -> tuple[list[Purged], Reclaimed]:
        nonlocal outcomes
        engine = make_engine(settings.database_url)
        try:
            sessions = make_sessionmaker(engine)
            # Match outcomes: settle those followed for long enough (their links to
            # people and groups go), and delete settled ones past their keeping time.
            async with transaction(sessions) as db:
                outcomes = await settle(db, system_clock())
            purged = await purge(sessions, system_clock(), batch_size=args.batch_size)
            # Then make the files forget what was deleted (and what erasures deleted).
            reclaimed = await reclaim(
                engine, sessions, purged, system_clock(), full=args.vacuum_full
            )
            return purged, reclaimed
        finally:
            await engine.dispose()

    results, reclaimed = asyncio.run(run())
    for r in results:
        print(
            f"{r.slug}: {r.messages} message{'s' if r.messages != 1 else ''} older than "
            f"{r.days} day{'s' if r.days != 1 else ''} deleted, {r.reports} resolved "
            f"report{'s' if r.reports != 1 else ''}"
        )
    total = sum(r.messages for r in results)
    groups = len(results)
    print(
        f"{total} message{'s' if total != 1 else ''} deleted in {groups} "
        f"group{'s' if groups != 1 else ''} with a retention setting"
    )
    print(
        f"match outcomes: {outcomes.settled} settled (links to people deleted), "
        f"{outcomes.deleted} older than the keeping time deleted"
    )
    if reclaimed.vacuumed:
        print(f"VACUUM: {', '.join(reclaimed.vacuumed)}")
    if reclaimed.checkpointed is not None:
        print(
            "SQLite write-ahead log emptied"
            if reclaimed.checkpointed
            else "SQLite write-ahead log busy: it will be emptied on the next run"
        )
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="peerhub",
        description="PeerHub: peer support groups, moderated rooms and a public directory.",
        epilog="Settings come from PEERHUB_* environment variables; see README.md.",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    serve = sub.add_parser(
        "serve",
        help="run the web server",
        description="Run PeerHub. The embedded SQLite database is "
        "migrated first; PostgreSQL needs `peerhub migrate`.",
    )
    serve.add_argument("--host", default="127.0.0.1", help="address to listen on")
    serve.add_argument("--port", type=int, default=8000, help="port to listen on")
    serve.add_argument(
        "--ws-port",
        type=int,
        default=None,
        help="port for the real-time rooms' WebSocket server "
        "(default: PEERHUB_WS_PORT, else --port + 1)",
    )
    serve.set_defaults(func=cmd_serve)

    mig = sub.add_parser(
        "migrate",
        help="bring the database schema up to date",
        description="Apply every pending migration to PEERHUB_DATABASE_URL.",
    )
    mig.set_defaults(func=cmd_migrate)

    demo = sub.add_parser(
        "demo",
        help="load the demo data set (safe to run again)",
        description="Load fictional organisations, groups and one demo "
        "account per role. Running it twice adds nothing.",
    )
    demo.set_defaults(func=cmd_demo)

    demo_code = sub.add_parser(
        "demo-code",
        help="print the demo accounts' current two-step sign-in code",
        description="Print the 6-digit code that the demo accounts' published key gives "
        "now, for signing in to a demo without an authenticator app.",
    )
    demo_code.set_defaults(func=cmd_demo_code)

    admin = sub.add_parser(
        "create-admin",
        help="create an administrator account",
        description="Create an admin. The password is asked for, read "
        "from standard input with --password-stdin, or taken "
        "from PEERHUB_ADMIN_PASSWORD.",
    )
    admin.add_argument("pseudonym", help="the admin's name on PeerHub")
    admin.add_argument("--email", default=None, help="optional e-mail address")
    admin.add_argument(
        "--password-stdin",
        action="store_true",
        help="read the password from the first line of standard input",
    )
    admin.set_defaults(func=cmd_create_admin)

    alloc = sub.add_parser(
        "allocate",
        help="offer free places to people on waiting lists",
        description="Offer every free place to the people waiting, by an optimal, fair "
        "assignment (how well the group fits, plus time waited). Offers last 7 days.",
    )
    alloc.set_defaults(func=cmd_allocate)

    keep = sub.add_parser(
        "retention",
        help="delete room messages older than each group's retention setting",
        description="For each group whose organisers set how many days its room keeps "
        "messages, delete older messages (and resolved reports; crisis alerts stay "
        "as the safeguarding record), in batches. Then make the database files forget "
        "what was deleted, and what account erasures deleted since the last run: on SQLite the "
        "write-ahead log is emptied; on PostgreSQL those tables are vacuumed. Run it "
        "daily. Groups without a setting keep everything.",
    )
    keep.add_argument(
        "--batch-size",
        type=int,
        default=500,
        help="rows deleted per transaction (default 500)",
    )
    keep.add_argument(
        "--vacuum-full",
        action="store_true",
        help="PostgreSQL: VACUUM FULL instead of VACUUM, which also removes the deleted "
        "bytes from the tables' files but locks each table while it is rewritten",
    )
    keep.set_defaults(func=cmd_retention)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    _configure_logging()
    try:
        settings = load_settings()
        code: int = args.func(settings, args)
        return code
    except (ConfigError, CommandError) as exc:
        print(f"peerhub: error: {exc}", file=sys.stderr)
        return 2 if isinstance(exc, ConfigError) else 1
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
