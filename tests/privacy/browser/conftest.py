"""Chromium for the data-rights browser tests, in a package of its own.

Playwright's sync API keeps an event loop running in this thread while it lives, so
the browser is package-scoped and closed when this package is done, before the async
tests of tests/privacy run (see tests/browser/conftest.py).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.browser.conftest import chromium, new_page


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "tests/privacy/browser/" in str(item.path):
            item.add_marker(pytest.mark.browser)


@pytest.fixture(scope="package")
def browser() -> Iterator[Any]:
    with chromium() as instance:
        yield instance


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    with new_page(browser) as pg:
        yield pg
