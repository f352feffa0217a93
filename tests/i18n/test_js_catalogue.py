"""/i18n/<tag>.json: the room's script strings, plurals by CLDR category."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from peerhub import i18n
from tests.conftest import app_client, make_settings
from tests.realtime.js_strings import REPO, scripts_catalog

HIDDEN = (
    "%(num)s hidden message. Use “Show it” in a message’s place to see it.",
    "%(num)s hidden messages. Use “Show it” in a message’s place to see it.",
)


@pytest.fixture
def scripts(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(i18n, "_js_source_catalog", scripts_catalog)


def test_the_scripts_strings_are_extractable() -> None:
    ids = {m.id for m in scripts_catalog() if m.id}
    assert HIDDEN in ids  # a plural: both forms
    assert "Send report" in ids and "%(name)s is typing…" in ids
    assert ("%(num)s minute", "%(num)s minutes") in ids


# The first argument of every _("…") and ngettext("…", …) in the scripts.
CALL = re.compile(r'\b(?:_|ngettext)\(\s*("(?:[^"\\]|\\.)*")')


def test_every_call_in_the_scripts_is_extracted() -> None:
    """Babel's JavaScript extractor misses a call nested in another's arguments
    (``_("…%(x)s", { x: ngettext(…) })``): compute such words first."""
    ids = {m.id if isinstance(m.id, str) else m.id[0] for m in scripts_catalog() if m.id}
    missed = []
    for path in sorted((REPO / "peerhub" / "static" / "js").glob("*.js")):
        if path.name == "i18n.js":
            continue  # the machinery: its calls are examples in comments
        for m in CALL.finditer(path.read_text(encoding="utf-8")):
            if json.loads(m.group(1)) not in ids:
                missed.append(f"{path.name}: {m.group(1)}")
    assert not missed, missed


async def test_a_plural_has_every_cldr_form_of_the_language(
    scripts: None, db_url: str, tmp_path: Path
) -> None:
    async with app_client(make_settings(db_url, tmp_path)) as client:
        response = await client.get("/i18n/cy.json")
        assert response.status_code == 200
        body = response.json()
        assert body["lang"] == "cy" and body["dir"] == "ltr"
        forms = body["messages"][HIDDEN[0]]
        # Welsh has six CLDR plural categories; each carries the catalogue's form for a
        # number of that category (0, 1, 2, 3, 6, 7), as gettext's rule picks it.
        assert set(forms) == {"zero", "one", "two", "few", "many", "other"}
        welsh = i18n.translations("cy", "js")
        for category, n in (("zero", 0), ("one", 1), ("two", 2), ("few", 3), ("many", 6)):
            assert forms[category] == welsh.ngettext(*HIDDEN, n), category
        assert forms["other"] == welsh.ngettext(*HIDDEN, 7)
        assert forms["one"] != HIDDEN[0] and "chuddio" in forms["one"]  # Welsh, not English
        assert forms["one"] != forms["other"]
        urdu = (await client.get("/i18n/ur.json")).json()
        assert urdu["dir"] == "rtl" and set(urdu["messages"][HIDDEN[0]]) == {"one", "other"}
        missing = await client.get("/i18n/xx-nope.json")
        assert missing.status_code == 404


async def test_the_pseudo_language_translates_every_form(
    scripts: None, db_url: str, tmp_path: Path
) -> None:
    try:
        async with app_client(make_settings(db_url, tmp_path, pseudo_locale=True)) as client:
            messages = (await client.get("/i18n/en-XA.json")).json()["messages"]
    finally:
        i18n.enable_pseudo(False)
    assert messages[HIDDEN[0]] == {"one": i18n.pseudo(HIDDEN[0]), "other": i18n.pseudo(HIDDEN[1])}
    assert messages["Send report"] == i18n.pseudo("Send report")


def test_the_rooms_system_events_are_worded_by_the_script() -> None:
    """Events the server stores as data (no English sentence): the room script words
    each from the catalogue, the retention notice by CLDR plural."""
    ids = {m.id for m in scripts_catalog() if m.id}
    assert "A member deleted their account." in ids
    assert (
        "Messages older than %(num)s day are deleted, as this group chose.",
        "Messages older than %(num)s days are deleted, as this group chose.",
    ) in ids
    assert "Deleted: its writer deleted their account." in ids
    room = (REPO / "peerhub" / "static" / "js" / "room-events.js").read_text(encoding="utf-8")
    assert 'case "member.erased":' in room and 'case "room.retention":' in room
