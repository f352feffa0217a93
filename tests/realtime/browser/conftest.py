"""Chromium for the room's browser tests, in a package of its own.

Playwright's sync API keeps an event loop running in this thread while it lives,
so the browser is package-scoped and closed when this package is done, before any
async test elsewhere runs. Everything here is synchronous; database set-up runs
on a loop of its own (``run_sync``).
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Dialog

from peerhub.config import Settings
from peerhub.db import make_engine, make_sessionmaker
from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS
from tests.conftest import make_settings, run_sync
from tests.realtime.conftest import RTServer, World, make_world

try:  # two-step sign-in, which moderators' and organisers' pages need, when it exists
    from tests.conftest import enrol_2fa
except ImportError:  # pragma: no cover - before two-step sign-in
    enrol_2fa = None  # type: ignore[assignment]


@pytest.fixture(scope="package")
def browser() -> Iterator[Any]:
    if not shutil.which(CHROMIUM) and not os.path.exists(CHROMIUM):
        if os.environ.get("PEERHUB_TEST_REQUIRE_BROWSER") in ("1", "true"):
            pytest.fail(f"Chromium is required but missing at {CHROMIUM}")
        pytest.skip(f"no Chromium at {CHROMIUM} (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        instance = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            yield instance
        finally:
            instance.close()


@pytest.fixture
def room_settings(db_url: str, tmp_path: Path) -> Settings:
    return make_settings(db_url, tmp_path)


@pytest.fixture
def room_world(db_url: str, room_settings: Settings) -> World:
    async def build() -> World:
        engine = make_engine(db_url)
        try:
            sessions = make_sessionmaker(engine)
            world = await make_world(sessions, room_settings, datetime.now(UTC))
            if enrol_2fa is not None:
                # Their roles need two-step sign-in before the pages let them in.
                for name in ("mo", "olga"):
                    await enrol_2fa(sessions, world.users[name])
            return world
        finally:
            await engine.dispose()

    world: World = run_sync(build)
    return world


@pytest.fixture
def room_server(room_settings: Settings, room_world: World) -> Iterator[RTServer]:
    with RTServer(room_settings) as server:
        yield server


@pytest.fixture
def person(browser: Any, room_server: RTServer, room_world: World) -> Iterator[Any]:
    """A function that opens a signed-in page as one of the world's people."""
    contexts: list[Any] = []
    pages: list[Any] = []

    def open_as(name: str, width: int = 1024) -> Any:
        context = browser.new_context(viewport={"width": width, "height": 900}, locale="en-GB")
        context.add_cookies(
            [
                {
                    "name": room_server.settings.sign_in_cookie_name,
                    "value": room_world.tokens[name],
                    "url": room_server.base,
                }
            ]
        )
        contexts.append(context)
        page = context.new_page()
        page.set_default_timeout(10_000)
        dialogs: list[str] = []

        def dismiss(dialog: Dialog) -> None:
            dialogs.append(dialog.message)
            dialog.dismiss()

        page.on("dialog", dismiss)
        page.dialogs = dialogs
        # Script errors on the page (an uncaught exception in a module) fail the test.
        errors: list[str] = []
        page.on("pageerror", lambda exc: errors.append(f"{name}: {exc}"))
        page.js_errors = errors
        pages.append(page)
        return page

    yield open_as
    for context in contexts:
        context.close()
    script_errors = [e for page in pages for e in page.js_errors]
    assert not script_errors, "script errors in the page:\n" + "\n".join(script_errors)
