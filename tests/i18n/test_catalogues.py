"""The catalogues are healthy: every one compiles, no translation loses or invents a
placeholder or a tag, and the templates (POT) hold every string the code has."""

from __future__ import annotations

import io
import re
import subprocess
import sys
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

from peerhub import i18n

ROOT = Path(__file__).resolve().parents[2]
PLACEHOLDER = re.compile(r"%\(\w+\)[sdif]|\{\{\s*\w+\s*\}\}")
TAG = re.compile(r"</?([a-z]+)\b")
PO_FILES = sorted(i18n.LOCALE_DIR.glob("*/LC_MESSAGES/*.po"))


def _read(path: Path) -> Catalog:
    with path.open("rb") as f:
        locale = None if path.suffix == ".pot" else path.parent.parent.name
        return read_po(f, locale=locale, domain=path.stem)


def test_every_shipped_language_has_both_catalogues() -> None:
    for identifier in i18n.SHIPPED:
        if identifier == i18n.SOURCE:
            continue
        for domain in i18n.DOMAINS:
            assert (i18n.LOCALE_DIR / identifier / "LC_MESSAGES" / f"{domain}.po").exists()


@pytest.mark.parametrize("path", PO_FILES, ids=lambda p: f"{p.parent.parent.name}/{p.name}")
def test_catalogue_compiles_and_keeps_placeholders_and_tags(path: Path) -> None:
    catalog = _read(path)
    write_mo(io.BytesIO(), catalog)  # compiles
    problems: list[str] = []
    for message in catalog:
        # A fuzzy entry (a guess `make messages` made from a similar English text) is not
        # compiled, so it is never shown; a translator fixes it and removes the flag.
        if not message.id or not message.string or message.fuzzy:
            continue
        ids = message.id if isinstance(message.id, tuple | list) else (message.id,)
        strings = message.string if isinstance(message.string, tuple | list) else (message.string,)
        wanted = set().union(*(set(PLACEHOLDER.findall(s)) for s in ids))
        tags = sorted(TAG.findall(ids[0]))
        for text in strings:
            if not text:
                continue
            found = set(PLACEHOLDER.findall(text))
            # A plural form may leave out the number (Welsh "un grŵp"), nothing else.
            if found - wanted or (wanted - found) - {"%(num)s"}:
                problems.append(f"{ids[0]!r}: placeholders {sorted(found)} ≠ {sorted(wanted)}")
            if sorted(TAG.findall(text)) != tags:
                problems.append(f"{ids[0]!r}: tags {sorted(TAG.findall(text))} ≠ {tags}")
    for message, errors in catalog.check():
        if not message.fuzzy:
            problems.extend(f"{message.id!r}: {e}" for e in errors)
    assert not problems, "\n".join(problems[:40])


@pytest.mark.parametrize("path", PO_FILES, ids=lambda p: f"{p.parent.parent.name}/{p.name}")
def test_catalogue_holds_every_entry_of_its_template(path: Path) -> None:
    template = _read(i18n.LOCALE_DIR / f"{path.stem}.pot")
    catalog = _read(path)
    missing = [m.id for m in template if m.id and catalog.get(m.id, context=m.context) is None]
    assert not missing, f"run `make messages`: {len(missing)} entries missing, e.g. {missing[:5]}"


@pytest.mark.parametrize("path", PO_FILES, ids=lambda p: f"{p.parent.parent.name}/{p.name}")
def test_every_shipped_language_is_complete(path: Path) -> None:
    """Same completeness for every language (the Welsh Language Standards' "not less
    favourably"): no entry is left empty or as a guess (fuzzy), which would show the
    English on that language's pages. After `make messages`, translate what it added."""
    catalog = _read(path)
    left = [
        m.id if isinstance(m.id, str) else m.id[0]
        for m in catalog
        if m.id
        and (m.fuzzy or not m.string or (isinstance(m.string, tuple | list) and not all(m.string)))
    ]
    assert not left, f"{len(left)} entries untranslated or fuzzy, e.g. {left[:5]}"


@pytest.mark.parametrize("domain", i18n.DOMAINS)
def test_a_plural_whose_plural_has_the_number_has_it_in_the_singular_too(domain: str) -> None:
    """A language with one plural form (Chinese) writes every number with form 0, which
    is checked against the English singular: if that lacks ``%(num)s``, the translation
    cannot say "every 3 months". The case of exactly one is a ``gettext`` of its own."""
    template = _read(i18n.LOCALE_DIR / f"{domain}.pot")
    wrong = [
        m.id[0]
        for m in template
        if isinstance(m.id, tuple) and "%(num)s" in m.id[1] and "%(num)s" not in m.id[0]
    ]
    assert not wrong, wrong


@pytest.mark.parametrize(("domain", "config"), [("messages", "babel.cfg"), ("js", "babel-js.cfg")])
def test_templates_are_up_to_date(domain: str, config: str, tmp_path: Path) -> None:
    """`make messages` was run after the last change to a string."""
    out = tmp_path / f"{domain}.pot"
    words = ["_", "ngettext:1,2"]
    if domain == "messages":
        words += ["gettext", "pgettext:1c,2", "lazy_gettext", "N_"]
    keywords = [part for word in words for part in ("-k", word)]
    subprocess.run(
        [
            sys.executable,
            "-m",
            "babel.messages.frontend",
            "-q",
            "extract",
            "-F",
            config,
            *keywords,
            "--no-location",
            "-o",
            str(out),
            ".",
        ],
        cwd=ROOT,
        check=True,
    )
    fresh = {m.id if isinstance(m.id, str) else m.id[0] for m in _read(out) if m.id}
    kept = {
        m.id if isinstance(m.id, str) else m.id[0]
        for m in _read(i18n.LOCALE_DIR / f"{domain}.pot")
        if m.id
    }
    assert fresh == kept, (
        f"run `make messages`: new {sorted(fresh - kept)[:5]}, gone {sorted(kept - fresh)[:5]}"
    )
