"""Headless Debian Chromium through Playwright, and an axe-core check for WCAG 2.2 AA."""

from __future__ import annotations

import contextlib
import os
import shutil
from collections.abc import Iterator
from typing import Any

import pytest

CHROMIUM = os.environ.get("PEERHUB_CHROMIUM", "/usr/bin/chromium")
# Without the networking flags this closed network refuses Chromium's background calls.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
    "--disable-quic",
]
WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "tests/browser/" in str(item.fspath):
            item.add_marker(pytest.mark.browser)


@contextlib.contextmanager
def chromium() -> Iterator[Any]:
    """Debian's Chromium through Playwright's sync API (skip, or fail in CI, if missing).

    Playwright's sync API keeps an event loop running in this thread while it lives,
    so fixtures built on this must end before async tests elsewhere run: use package or
    module scope, never session scope.
    """
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


@contextlib.contextmanager
def new_page(browser: Any) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 1024, "height": 800}, locale="en-GB")
    pg = context.new_page()
    pg.set_default_timeout(10_000)
    try:
        yield pg
    finally:
        context.close()


@pytest.fixture(scope="package")
def browser() -> Iterator[Any]:
    with chromium() as instance:
        yield instance


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    with new_page(browser) as pg:
        yield pg


def assert_accessible(page: Any, label: str = "") -> None:
    """axe-core finds no WCAG 2.0/2.1/2.2 A or AA violation on the page as it stands."""
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(
        page,
        options={"runOnly": {"type": "tag", "values": WCAG_TAGS}, "resultTypes": ["violations"]},
    )
    violations = results.response["violations"]
    details = [
        f"{v['id']} ({v['impact']}): {v['help']} -> "
        + "; ".join(
            n["target"][0] if isinstance(n["target"][0], str) else str(n["target"])
            for n in v["nodes"][:3]
        )
        for v in violations
    ]
    assert not violations, f"axe violations on {label or page.url}:\n" + "\n".join(details)


def assert_fits_narrow_screen(page: Any, width: int = 360) -> None:
    """At 360 px wide nothing forces sideways scrolling, and the crisis route is visible."""
    page.set_viewport_size({"width": width, "height": 800})
    overflow = page.evaluate("document.documentElement.scrollWidth")
    assert overflow <= width, f"{page.url} is {overflow}px wide at {width}px"
    # The crisis link by its place in the header, so the check holds in every language.
    assert page.locator("header a.crisis-link").first.is_visible()
    page.set_viewport_size({"width": 1024, "height": 800})
