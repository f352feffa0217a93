"""Fixtures for the data-rights tests: a person seeded everywhere, and the real-time
fixtures (a real server with its WebSocket port) for the tests that need live rooms."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from peerhub.config import Settings
from peerhub.security.passwords import Passwords
from tests.conftest import FakeClock
from tests.privacy.helpers import Seeded, seed
from tests.realtime.conftest import (  # noqa: F401 - fixtures used by the tests here
    connect_as,
    rt_clock,
    rt_settings,
    server,
    world,
)


@pytest.fixture
async def seeded(
    app: Any,
    settings: Settings,
    passwords: Passwords,
    clock: FakeClock,
    sessions: async_sessionmaker[AsyncSession],
) -> Seeded:
    return await seed(sessions, settings, passwords, clock())
