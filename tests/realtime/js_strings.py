"""The browser scripts' strings, extracted as ``make messages`` extracts them (Babel's
JavaScript extractor, babel-js.cfg), for tests that serve /i18n/<tag>.json before the
catalogues (peerhub/locale/js.pot) have been extracted again."""

from __future__ import annotations

from functools import cache
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir

REPO = Path(__file__).resolve().parents[2]
KEYWORDS = {"_": None, "ngettext": (1, 2)}


@cache
def scripts_catalog() -> Catalog:
    catalog = Catalog(domain="js")
    found = extract_from_dir(
        REPO / "peerhub" / "static" / "js",
        method_map=[("**.js", "javascript")],
        options_map={"**.js": {"parse_template_string": "true"}},
        keywords=KEYWORDS,
    )
    for filename, lineno, message, _comments, _context in found:
        catalog.add(message, locations=[(filename, lineno)])
    return catalog
