"""Module-scoped fixtures for the security tests: one app and one world per module.

The tests here walk every route for every role, so building the people once per
module (not once per test) keeps them fast. Modules that use these fixtures run
their tests on the module's event loop (``pytestmark = pytest.mark.asyncio(
loop_scope="module")``).
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio
from starlette.applications import Starlette

from peerhub.app import create_app
from tests.conftest import (
    BASE,
    Backend,
    FakeClock,
    emptied_backend,
    make_settings,
)
from tests.security.support import World, build_world


@pytest.fixture(scope="module")
def module_db(backends: dict[str, Backend], backend_name: str) -> str:
    """The backend's database, emptied once for this module (cf. ``db_url``)."""
    return emptied_backend(backends, backend_name)


@contextlib.asynccontextmanager
async def running_app(db: str, data_dir: Path, base: str) -> AsyncIterator[Starlette]:
    # A WebSocket listener on a free loopback port, so that the room page and
    # /api/realtime answer as they do in production (not 503).
    extra = {"ws_port": 0, "ws_host": "127.0.0.1"}
    settings = make_settings(db, data_dir, base_url=base, extra=extra)
    app = create_app(settings, clock=FakeClock())
    async with app.router.lifespan_context(app):
        yield app


@contextlib.asynccontextmanager
async def world_on(db: str, data_dir: Path, base: str, tag: str) -> AsyncIterator[World]:
    async with running_app(db, data_dir, base) as app:
        world = await build_world(app, base, tag)
        try:
            yield world
        finally:
            await world.aclose()


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def world(module_db: str, tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[World]:
    """An app on plain http with a person in every role of the matrix."""
    async with world_on(module_db, tmp_path_factory.mktemp("world"), BASE, "Sec") as built:
        yield built
