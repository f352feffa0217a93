"""Fixtures for the directory tests: data builders, a Chromium for the browser test.

The browser is module-scoped (not package-scoped like tests/browser's): Playwright's
sync API keeps an event loop running in the test thread while it lives, and this
package also holds async tests, so it must be gone as soon as the browser module is.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.browser.conftest import chromium, new_page


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with chromium() as instance:
        yield instance


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    with new_page(browser) as pg:
        yield pg
