"""Shared fixtures: every database test runs on SQLite and on PostgreSQL.

PostgreSQL is taken from ``PEERHUB_TEST_POSTGRES_URL`` (default: the local server's
``test`` database). Each test session creates its own database there and drops it
at the end. When PostgreSQL cannot be reached its tests are skipped, unless
``PEERHUB_TEST_REQUIRE_POSTGRES=1`` (as in CI), which makes them fail instead.

Each test starts from an empty, fully migrated schema: tables are emptied before it.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import os
import re
import secrets
import socket
import threading
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from peerhub import migrate
from peerhub.app import create_app
from peerhub.config import DEFAULT_CRISIS_CONTACTS, Settings
from peerhub.db import make_engine, make_sessionmaker
from peerhub.schema import metadata
from peerhub.security.passwords import Passwords

REPO = Path(__file__).resolve().parents[1]
CHEAP_ARGON2 = {"time_cost": 1, "memory_cost": 8, "parallelism": 1}
DEFAULT_PG = "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
BASE = "http://testserver"


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--db",
        default=os.environ.get("PEERHUB_TEST_DB", "sqlite,postgres"),
        help="comma-separated database backends to run on (sqlite, postgres)",
    )


def _flag(name: str) -> bool:
    return os.environ.get(name, "") in ("1", "true", "yes")


def _pg_required() -> bool:
    # An explicitly given PostgreSQL must work; the default local one may be absent.
    return _flag("PEERHUB_TEST_REQUIRE_POSTGRES") or "PEERHUB_TEST_POSTGRES_URL" in os.environ


async def _pg_admin(url: str, statement: str) -> None:
    engine = make_engine(url, isolation_level="AUTOCOMMIT", poolclass=None)
    try:
        async with engine.connect() as conn:
            await conn.execute(text(statement))
    finally:
        await engine.dispose()


@dataclass
class Backend:
    name: str
    url: str | None = None
    error: str | None = None
    cleanup: list[str] = field(default_factory=list)


@pytest.fixture(scope="session")
def backends(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[dict[str, Backend]]:
    """Create and migrate one database per backend for the whole test session."""
    wanted = {b.strip() for b in request.config.getoption("--db").split(",") if b.strip()}
    found: dict[str, Backend] = {}
    if "sqlite" in wanted:
        path = tmp_path_factory.mktemp("sqlite") / "peerhub-test.sqlite3"
        url = f"sqlite+aiosqlite:///{path}"
        asyncio.run(migrate.upgrade(url))
        found["sqlite"] = Backend("sqlite", url)
    pg_admin_url = os.environ.get("PEERHUB_TEST_POSTGRES_URL", DEFAULT_PG)
    if "postgres" in wanted:
        name = f"peerhub_test_{os.getpid()}_{secrets.token_hex(3)}"
        try:
            asyncio.run(_pg_admin(pg_admin_url, f'CREATE DATABASE "{name}"'))
            url = make_url(pg_admin_url).set(database=name).render_as_string(hide_password=False)
            asyncio.run(migrate.upgrade(url))
            found["postgres"] = Backend("postgres", url, cleanup=[name])
        except Exception as exc:
            found["postgres"] = Backend("postgres", error=f"{type(exc).__name__}: {exc}")
    yield found
    for backend in found.values():
        for db_name in backend.cleanup:
            asyncio.run(
                _pg_admin(pg_admin_url, f'DROP DATABASE IF EXISTS "{db_name}" WITH (FORCE)')
            )


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "backend_name" in metafunc.fixturenames:
        wanted = [b.strip() for b in metafunc.config.getoption("--db").split(",") if b.strip()]
        if metafunc.definition.get_closest_marker("postgres_only"):
            wanted = [b for b in wanted if b == "postgres"]
        # Each copy is marked with its database (on_sqlite, on_postgres), so a run can
        # pick one copy of every test: `make test` measures coverage on the SQLite half
        # and the tests that need no database, then runs the rest without (Makefile).
        params = [pytest.param(b, marks=getattr(pytest.mark, f"on_{b}")) for b in wanted]
        metafunc.parametrize("backend_name", params, scope="session")


async def _empty_all_tables(url: str) -> None:
    engine = make_engine(url)
    try:
        async with engine.begin() as conn:
            tables = [t.name for t in reversed(metadata.sorted_tables)]
            if url.startswith("postgresql"):
                # A connection a previous test left inside a transaction would make the
                # deletes wait for ever: fail that test's successor clearly instead.
                await conn.execute(text("SET LOCAL lock_timeout = '60s'"))
                # DELETE, children first, then every sequence back to 1, in one round
                # trip: a test's few rows go in about 4 ms, where TRUNCATE of every table
                # (which recreates each table's files) took 0.4 s per test.
                script = "".join(f'DELETE FROM "{t}";' for t in tables)  # noqa: S608 - fixed names
                script += "SELECT setval(c.oid, 1, false) FROM pg_class c WHERE c.relkind = 'S';"
                raw = await conn.get_raw_connection()
                driver = raw.driver_connection
                assert driver is not None
                await driver.execute(script)
            else:
                for table in tables:
                    await conn.execute(text(f'DELETE FROM "{table}"'))  # noqa: S608 - fixed names
    finally:
        await engine.dispose()


def run_sync(coro_fn: Any, *args: Any) -> Any:
    """Run a coroutine to completion on a fresh loop in a worker thread.

    Works whether or not this thread already runs a loop (pytest-asyncio's, or the
    one Playwright's sync API keeps in the test thread).
    """
    box: dict[str, Any] = {}

    def target() -> None:
        try:
            box["value"] = asyncio.run(coro_fn(*args))
        except BaseException as exc:
            box["error"] = exc

    worker = threading.Thread(target=target)
    worker.start()
    worker.join()
    if "error" in box:
        raise box["error"]
    return box.get("value")


def emptied_backend(backends: dict[str, Backend], backend_name: str) -> str:
    """The backend's database URL with every table emptied; skip (or fail, when
    PostgreSQL is required) if that backend is not available."""
    backend = backends.get(backend_name)
    if backend is None or backend.url is None:
        reason = backend.error if backend else "not requested"
        if backend_name == "postgres" and _pg_required():
            pytest.fail(f"PostgreSQL is required but unavailable: {reason}")
        pytest.skip(f"{backend_name} unavailable: {reason}")
    run_sync(_empty_all_tables, backend.url)
    return backend.url


@pytest.fixture
def db_url(backends: dict[str, Backend], backend_name: str) -> str:
    return emptied_backend(backends, backend_name)


@pytest.fixture
async def sessions(db_url: str) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    engine = make_engine(db_url)
    try:
        yield make_sessionmaker(engine)
    finally:
        await engine.dispose()


@pytest.fixture(scope="session")
def redis_url() -> str:
    """A reachable Redis (database 15 by default), or skip; CI requires it."""
    url = os.environ.get("PEERHUB_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")

    async def ping() -> None:
        from redis.asyncio import Redis

        client = Redis.from_url(url, socket_connect_timeout=2)
        try:
            await client.ping()
        finally:
            await client.aclose()

    try:
        run_sync(ping)
    except Exception as exc:
        if _flag("PEERHUB_TEST_REQUIRE_REDIS"):
            pytest.fail(f"Redis is required but unreachable at {url}: {exc}")
        pytest.skip(f"Redis unreachable at {url}")
    return url


@pytest.fixture
def passwords() -> Passwords:
    return Passwords(CHEAP_ARGON2)


class FakeClock:
    """A clock that tests move by hand."""

    def __init__(self, start: datetime | None = None) -> None:
        self.now = start or datetime(2026, 11, 2, 9, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **kwargs: float) -> None:
        self.now += timedelta(**kwargs)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


def make_settings(db: str, data_dir: Path, base_url: str = BASE, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "database_url": db,
        "secret_key": "test-secret-key-" + "x" * 40,
        "base_url": base_url,
        "allowed_origins": (base_url,),
        "data_dir": data_dir,
        "frontend_dir": REPO / "peerhub",
        "crisis_contacts": DEFAULT_CRISIS_CONTACTS,
        "argon2_params": CHEAP_ARGON2,
    }
    values.update(overrides)
    return Settings(**values)


@pytest.fixture
def settings(db_url: str, tmp_path: Path) -> Settings:
    return make_settings(db_url, tmp_path)


@contextlib.asynccontextmanager
async def app_client(
    settings: Settings, clock: Any = None, base_url: str = BASE
) -> AsyncIterator[httpx.AsyncClient]:
    """A client for a fresh app (lifespan entered) built from ``settings``."""
    application = create_app(settings, **({"clock": clock} if clock else {}))
    async with application.router.lifespan_context(application):
        transport = httpx.ASGITransport(app=application)
        async with httpx.AsyncClient(transport=transport, base_url=base_url) as c:
            yield c


@pytest.fixture
async def app(settings: Settings, clock: FakeClock) -> AsyncIterator[Any]:
    application = create_app(settings, clock=clock)
    async with application.router.lifespan_context(application):
        yield application


@pytest.fixture
async def client(app: Any) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app, client=("203.0.113.7", 50000))
    async with httpx.AsyncClient(transport=transport, base_url=BASE) as c:
        yield c


async def outbox_idle(app: Any) -> None:
    """Wait until the app's outbox has sent what is due: e-mails and duty notices go by
    its loop after the commit, not in the request that recorded them."""
    app.state.outbox.wake()
    await asyncio.wait_for(app.state.outbox.idle(), 10.0)


CSRF_META = re.compile(r'<meta name="csrf-token" content="([^"]+)">')


async def csrf_token(client: httpx.AsyncClient, path: str = "/") -> str:
    """The CSRF token a page would put in its forms, for this client's cookies."""
    page = await client.get(path)
    match = CSRF_META.search(page.text)
    assert match, f"no csrf meta tag on {path}"
    return match.group(1)


async def post_form(
    client: httpx.AsyncClient, path: str, data: dict[str, str], *, token: str | None = None
) -> httpx.Response:
    form = dict(data)
    form["csrf_token"] = token if token is not None else await csrf_token(client)
    return await client.post(path, data=form, headers={"Origin": BASE})


async def sign_up(
    client: httpx.AsyncClient, pseudonym: str, password: str = "a long test password"
) -> httpx.Response:
    response = await post_form(client, "/signup", {"pseudonym": pseudonym, "password": password})
    assert response.status_code == 303, response.text
    return response


# A fixed key for tests (base32 of "12345678901234567890", RFC 6238's SHA-1 test key).
TEST_TOTP_SECRET = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"


def totp_code(at: datetime, secret: str = TEST_TOTP_SECRET) -> str:
    """The authenticator app's code for ``secret`` at ``at``."""
    from peerhub.security import totp

    return totp.totp(totp.decode_secret(secret), at)


async def enrol_2fa(target: Any, user_id: str, *, secret: str = TEST_TOTP_SECRET) -> str:
    """Set up two-step sign-in for a person straight in the database, as if they had
    confirmed it, so that tests can act as admins, organisers, moderators and verified
    professionals (whose roles need it). ``target`` is an app, an httpx client of an
    in-process app, or a session factory. Returns the secret."""
    from peerhub.accounts.models_2fa import TwoFactor

    app = getattr(getattr(target, "_transport", None), "app", target)
    maker = app.state.ctx.sessions if hasattr(app, "state") else app
    async with maker() as db, db.begin():
        row = await db.get(TwoFactor, user_id)
        if row is None:
            row = TwoFactor(user_id=user_id)
            db.add(row)
        row.secret = secret
        row.confirmed_at = datetime(2026, 1, 1, tzinfo=UTC)
        row.pending_secret = None
        row.last_step = None
    return secret


async def enrol_me(client: httpx.AsyncClient) -> str:
    """Set up two-step sign-in for whoever ``client`` is signed in as; their user id."""
    me = await client.get("/api/me")
    assert me.status_code == 200, me.text
    user_id: str = me.json()["id"]
    await enrol_2fa(client, user_id)
    return user_id


# The first port of the first worker's block (see port_block).
FIRST_PORT = 20000


def port_block(worker: str, low: int) -> range:
    """This test process's own block of loopback ports, below the range the kernel
    hands out for ``bind(0)`` and outgoing connections, so that a port picked here is
    never taken between the pick and the server's bind, by the kernel or by another
    pytest-xdist worker (each worker has its own block).

    The blocks start at :data:`FIRST_PORT`, above every port browsers refuse to
    connect to: the Fetch standard's "bad ports" (https://fetch.spec.whatwg.org/#port-blocking)
    end at 10080, and Chromium fails a WebSocket to one with ``ERR_UNSAFE_PORT``
    (a room page that never connects).

    ``worker`` is pytest-xdist's name for this process (``gw0``, ``gw1``…); ``low`` is
    the first port of the kernel's ephemeral range."""
    number = worker.removeprefix("gw")
    index = int(number) if number.isdigit() else 0
    size = 1000
    slots = max(1, (low - FIRST_PORT) // size)
    start = FIRST_PORT + (index % slots) * size
    return range(start, start + size)


def _ephemeral_low() -> int:
    try:
        return int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return 32768


_PORT_BLOCK = port_block(os.environ.get("PYTEST_XDIST_WORKER", "gw0"), _ephemeral_low())
_next_port = itertools.count()


def free_port() -> int:
    """A loopback port nothing listens on, from this process's own block."""
    for _ in range(len(_PORT_BLOCK)):
        port = _PORT_BLOCK[next(_next_port) % len(_PORT_BLOCK)]
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError(f"no free loopback port in {_PORT_BLOCK}")


class LiveServer:
    """uvicorn serving a PeerHub app on a free loopback port, in a background thread."""

    def __init__(self, settings: Settings, port: int) -> None:
        import uvicorn

        self.port = port
        self.url = f"http://127.0.0.1:{port}"
        self.app = create_app(settings)
        config = uvicorn.Config(
            self.app,
            host="127.0.0.1",
            port=port,
            log_level="warning",
            lifespan="on",
            ws_per_message_deflate=False,
        )
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def __enter__(self) -> LiveServer:
        self.thread.start()
        deadline = datetime.now(UTC) + timedelta(seconds=20)
        while not self.server.started:
            if not self.thread.is_alive() or datetime.now(UTC) > deadline:
                raise RuntimeError("uvicorn did not start")
            self.thread.join(0.02)
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(10)


@pytest.fixture
def live_server(db_url: str, tmp_path: Path) -> Iterator[LiveServer]:
    port = free_port()
    settings = make_settings(db_url, tmp_path, base_url=f"http://127.0.0.1:{port}")
    with LiveServer(settings, port) as server:
        yield server
