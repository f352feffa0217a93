"""Finding interface text that did not go through a catalogue.

Pages are fetched in the pseudo-language (peerhub/i18n.py, ``pseudo``): every string
that went through gettext comes back between ⟦ and ⟧ with every letter accented, so a
plain ASCII word, inside a span (a value put into a translated sentence) or out of it,
did not come from a catalogue. What is left of a page's text once the site's content
(group names, people's pseudonyms, crisis services' own names, place names:
:func:`content_strings`) and text marked as
being in another language (an element whose ``lang`` differs from the page's) are
taken out, and that still has an English word in it, was written in English and never
translated.
"""

from __future__ import annotations

import functools
import re
from html.parser import HTMLParser

from sqlalchemy import String, Text, select
from sqlalchemy.ext.asyncio import AsyncEngine

from peerhub import places
from peerhub.i18n import PSEUDO_CLOSE, PSEUDO_OPEN
from peerhub.models import Base

_WORD = re.compile(r"[A-Za-z]{2,}")
# Attributes a person reads or hears.
_READ_ATTRS = ("alt", "title", "placeholder", "aria-label", "aria-description", "content")
_VOID = {
    "area",
    "base",
    "br",
    "col",
    "embed",
    "hr",
    "img",
    "input",
    "link",
    "meta",
    "source",
    "track",
    "wbr",
}
# Words that are the same in every language: the product's name, and abbreviations
# people use as they are.
ALWAYS = ("PeerHub", "HSDS", "BSL", "NHS", "SMS", "CSV", "JSON", "iCalendar", "URL")


class _Text(HTMLParser):
    def __init__(self, page_lang: str) -> None:
        super().__init__(convert_charrefs=True)
        self.page_lang = page_lang
        self.stack: list[tuple[str, bool]] = []  # (tag, skipping)
        self.found: list[str] = []

    @property
    def skipping(self) -> bool:
        return bool(self.stack) and self.stack[-1][1]

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "html":
            self.page_lang = a.get("lang", self.page_lang)
            return
        skip = (
            self.skipping
            or tag in ("script", "style", "template")
            or ("lang" in a and a["lang"].casefold() != self.page_lang.casefold())
        )
        if not skip:
            for name in _READ_ATTRS:
                if name in a and not (tag == "meta" and a.get("name") != "description"):
                    self.found.append(a[name])
            if tag == "input" and a.get("type") in ("submit", "button", "reset"):
                self.found.append(a.get("value", ""))
        if tag not in _VOID:
            self.stack.append((tag, skip))

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)
        if tag not in _VOID and self.stack:
            self.stack.pop()

    def handle_endtag(self, tag: str) -> None:
        for i in range(len(self.stack) - 1, -1, -1):
            if self.stack[i][0] == tag:
                del self.stack[i:]
                return

    def handle_data(self, data: str) -> None:
        if not self.skipping:
            self.found.append(data)


@functools.cache
def _pattern(known: frozenset[str]) -> re.Pattern[str]:
    """Whole words or phrases only: "Roshni" goes, the "ro" in "groups" stays."""
    alternatives = "|".join(re.escape(k) for k in sorted(known, key=len, reverse=True))
    return re.compile(r"(?<!\w)(?:" + alternatives + r")(?!\w)")


def untranslated(html: str, content: set[str]) -> list[str]:
    """The pieces of a page's text that look like English left untranslated."""
    parser = _Text("en-XA")
    parser.feed(html)
    left: list[str] = []
    known = _pattern(frozenset(content) | frozenset(ALWAYS))
    for text in parser.found:
        # Every letter of a translated string is accented, so a plain word left, inside
        # a span or out of it, was put in as a value or written in English.
        rest = text.replace(PSEUDO_OPEN, " ").replace(PSEUDO_CLOSE, " ")
        if not _WORD.search(rest):
            continue
        rest = known.sub(" ", rest)
        if _WORD.search(rest):
            left.append(" ".join(rest.split())[:120])
    return left


async def content_strings(engine: AsyncEngine, extra: tuple[str, ...] = ()) -> set[str]:
    """Every text value stored in the database (content, not interface), and ``extra``."""
    found: set[str] = {s for s in extra if s and len(s) >= 2}
    # Place names from the bundled GeoNames tables, which pages name as they are.
    found.update(places.district_towns())
    async with engine.connect() as conn:
        for table in Base.metadata.sorted_tables:
            columns = [c for c in table.columns if isinstance(c.type, String | Text)]
            if not columns:
                continue
            rows = await conn.execute(select(*columns).limit(5000))
            for row in rows:
                for value in row:
                    if isinstance(value, str) and len(value) >= 2:
                        found.add(value)
                        # Its lines, and the parts of an address ("…, Caernarfon").
                        parts = (p for line in value.splitlines() for p in (line, *line.split(",")))
                        found.update(p.strip() for p in parts if len(p.strip()) >= 2)
    return found
