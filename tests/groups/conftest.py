"""Fixtures for the group tests: a package-scoped Chromium, like tests/browser's.

Playwright's sync API keeps an event loop running in this thread while it lives,
so the browser tests of this package are moved to its end (see
``pytest_collection_modifyitems``) and the browser is closed when the package is
done, before any async test elsewhere runs.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import pytest

from tests.browser.conftest import chromium, new_page

HERE = os.path.dirname(os.path.abspath(__file__))


def _is_mine(item: pytest.Item) -> bool:
    return os.path.dirname(str(item.path)) == HERE


def _is_browser(item: pytest.Item) -> bool:
    return _is_mine(item) and item.get_closest_marker("browser") is not None


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    slots = [i for i, item in enumerate(items) if _is_mine(item)]
    mine = [items[i] for i in slots]
    ordered = [x for x in mine if not _is_browser(x)] + [x for x in mine if _is_browser(x)]
    for slot, item in zip(slots, ordered, strict=True):
        items[slot] = item


@pytest.fixture(scope="package")
def browser() -> Iterator[Any]:
    with chromium() as instance:
        yield instance


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    with new_page(browser) as pg:
        yield pg
