"""No interface text is left in English: every page, as every role, in the pseudo-language.

The crawl of tests/test_links.py, with the pseudo-language chosen (its cookie): every
page each demo account reaches by links is read by :func:`untranslated`, and any text
that did not come through a catalogue fails the test, naming the page.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from babel.messages.pofile import read_po
from starlette.applications import Starlette

from peerhub import crisis, i18n
from peerhub.app import create_app
from peerhub.db import make_engine
from tests.conftest import BASE, FakeClock, make_settings
from tests.i18n.untranslated import content_strings, untranslated
from tests.test_links import ROLES, Crawl, load_demo_into, route_shapes, sign_in

PSEUDO_TAG = "en-XA"


class PseudoCrawl(Crawl):
    content: set[str]
    left: dict[str, list[str]]

    async def fetch(self, target: str) -> tuple[int, str, str]:
        status, final, html = await super().fetch(target)
        if html:
            found = untranslated(html, self.content)
            if found:
                self.left.setdefault(final, found)
        return status, final, html


@pytest.fixture
async def pseudo_app(db_url: str, tmp_path: Path) -> AsyncIterator[tuple[Starlette, FakeClock]]:
    clock = FakeClock()
    settings = make_settings(
        db_url, tmp_path, pseudo_locale=True, extra={"ws_port": 0, "ws_host": "127.0.0.1"}
    )
    await load_demo_into(settings.database_url, clock)
    app = create_app(settings, clock=clock)
    async with app.router.lifespan_context(app):
        yield app, clock
    i18n.enable_pseudo(False)


async def _content(app: Starlette) -> set[str]:
    settings = app.state.settings
    extra: list[str] = []
    # Every route /crisis and the crisis panel show (the defaults' fitted routes when the
    # settings name none: peerhub/crisis.py, routes_of).
    for contact in (*crisis.routes_of(settings), *settings.young_people_services):
        extra.append(contact.name)  # a service's own name is the same in every language
    engine = make_engine(settings.database_url)
    try:
        return await content_strings(engine, tuple(extra))
    finally:
        await engine.dispose()


async def test_every_page_is_translated(pseudo_app: tuple[Starlette, FakeClock]) -> None:
    app, clock = pseudo_app
    content = await _content(app)
    shapes = route_shapes(app)
    report: list[str] = []
    for number, role in enumerate(ROLES):
        transport = httpx.ASGITransport(app=app, client=(f"203.0.113.{170 + number}", 50000))
        async with httpx.AsyncClient(
            transport=transport, base_url=BASE, cookies={i18n.LANG_COOKIE: PSEUDO_TAG}
        ) as client:
            pseudonym = ROLES[role]
            landed = await sign_in(client, pseudonym, clock) if pseudonym else "/"
            crawl = PseudoCrawl(role, client, shapes, signed_in=pseudonym is not None)
            crawl.content = content
            crawl.left = {}
            await crawl.run(landed, "/", "/crisis", "/find", "/signup", "/login")
            for url, pieces in sorted(crawl.left.items()):
                report.append(f"[{role}] {url}: " + " | ".join(pieces[:8]))
    assert not report, "text left in English:\n" + "\n".join(report)
    # Every string the pages looked up is in the extracted template, so translators
    # see it: none is built at run time where the extractor cannot find it.
    with (i18n.LOCALE_DIR / "messages.pot").open("rb") as f:
        template = {m.id if isinstance(m.id, str) else m.id[0] for m in read_po(f) if m.id}
    unextracted = sorted(i18n.PseudoTranslations.looked_up.get("messages", set()) - template)
    assert not unextracted, f"looked up but not extractable: {unextracted[:10]}"
