"""peerhub.crisis: contacts fitted to the person (sign language, language, nation)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from peerhub import crisis
from peerhub.config import (
    DEFAULT_CRISIS_CONTACTS,
    DEFAULT_FITTED_CONTACTS,
    REPO_ROOT,
    ConfigError,
    load_crisis_contacts,
)

ROUTES = DEFAULT_CRISIS_CONTACTS + DEFAULT_FITTED_CONTACTS


def names(fitted: crisis.FittedContacts) -> list[str]:
    return [c.name for c in fitted.contacts]


@pytest.mark.parametrize("tag", ["bfi", "BFI", "sgn-GB", "isg", "ase", "ils"])
def test_sign_languages_are_recognised(tag: str) -> None:
    assert crisis.is_sign_language(tag)


@pytest.mark.parametrize("tag", ["en", "cy", "ar", "ur", "pa-Guru", "bn"])
def test_spoken_languages_are_not_sign_languages(tag: str) -> None:
    assert not crisis.is_sign_language(tag)


def test_a_deaf_bsl_user_is_led_to_bsl_and_text_routes() -> None:
    fitted = crisis.fit(ROUTES, languages=("bfi",), nation="England")
    order = list(fitted.contacts)
    assert fitted.sign_language
    assert order[0].name == "999 BSL"
    first_voice = next(i for i, c in enumerate(order) if "voice" in c.modes)
    # Every BSL, text and video route comes before the first voice line.
    assert all("voice" not in c.modes for c in order[:first_voice])
    assert {"999 BSL", "emergencySMS", "Shout", "NHS 111 by textphone"} <= set(
        c.name for c in order[:first_voice]
    )
    assert "Emergency" in names(fitted)  # 999 by voice is kept
    assert fitted.interpreter is None


def test_people_who_do_not_sign_are_not_shown_sign_routes() -> None:
    fitted = crisis.fit(ROUTES, languages=("en",), nation="England")
    assert not any(c.sign_language for c in fitted.contacts)


def test_someone_who_did_not_pick_english_is_told_how_to_ask_for_an_interpreter() -> None:
    assert crisis.fit(ROUTES, languages=("ar",)).interpreter == crisis.INTERPRETER_ADVICE
    assert crisis.fit(ROUTES, languages=("ar", "en")).interpreter is None
    assert crisis.fit(ROUTES).interpreter is None  # no languages given: nothing assumed
    ni = crisis.fit(ROUTES, languages=("so",), nation="Northern Ireland")
    assert ni.interpreter == crisis.INTERPRETER_ADVICE_GENERAL


@pytest.mark.parametrize(
    ("nation", "first", "absent"),
    [
        ("Scotland", {"NHS 24, 111", "Breathing Space"}, "NHS 111, option 2"),
        ("Northern Ireland", {"Lifeline"}, "NHS 111, option 2"),
        ("Wales", {"NHS 111, option 2"}, "Lifeline"),
        ("England", {"NHS 111, option 2"}, "Breathing Space"),
    ],
)
def test_the_nations_own_lines_come_first(nation: str, first: set[str], absent: str) -> None:
    fitted = crisis.fit(ROUTES, languages=("en",), nation=nation)
    assert set(names(fitted)[: len(first)]) == first
    assert absent not in names(fitted)
    assert "Samaritans" in names(fitted) and "Emergency" in names(fitted)


def test_without_a_place_only_uk_wide_and_general_lines_are_shown() -> None:
    fitted = crisis.fit(ROUTES, languages=("en",))
    assert names(fitted) == [c.name for c in DEFAULT_CRISIS_CONTACTS]


def test_a_deaf_person_in_scotland_gets_scottish_text_routes() -> None:
    got = names(crisis.fit(ROUTES, languages=("bfi",), nation="Scotland"))
    assert "Breathing Space by textphone" in got and "NHS 111 by textphone" not in got
    assert got.index("Breathing Space by textphone") < got.index("Breathing Space")


def test_a_welsh_speaker_is_shown_samaritans_in_welsh() -> None:
    got = names(crisis.fit(ROUTES, languages=("cy",), nation="Wales"))
    assert got[0] == "Samaritans in Welsh"
    assert "Samaritans in Welsh" not in names(crisis.fit(ROUTES, languages=("en",)))


def test_every_default_number_has_a_named_source_in_the_safety_docs() -> None:
    doc = (REPO_ROOT / "docs" / "safety" / "crisis-contacts.md").read_text("utf-8")
    digits_in_doc = re.sub(r"[^0-9]", "", doc)
    for c in ROUTES:
        assert c.name in doc, c.name
        number = (
            re.sub(r"[^0-9]", "", c.href or "")
            if (c.href or "").startswith(("tel:", "sms:"))
            else ""
        )
        assert number in digits_in_doc, (c.name, number)


def test_the_fitting_keys_are_configurable(tmp_path: Path) -> None:
    path = tmp_path / "contacts.json"
    path.write_text(
        json.dumps(
            [
                {"name": "Line", "how": "Call 1", "description": ""},
                {
                    "name": "Sign line",
                    "how": "Video",
                    "description": "",
                    "href": "https://example.org",
                    "nations": ["Wales"],
                    "sign_language": True,
                    "modes": ["video"],
                    "languages": ["cy"],
                    "general": False,
                    "hours": "Evenings",
                },
            ]
        )
    )
    loaded = load_crisis_contacts(path)
    assert loaded[1].nations == ("Wales",) and loaded[1].sign_language
    assert loaded[1].modes == ("video",) and not loaded[1].general


@pytest.mark.parametrize(
    "entry",
    [
        {"nations": ["Narnia"]},
        {"modes": ["pigeon"]},
        {"sign_language": "yes"},
        {"languages": "cy"},
        {"general": False},  # then no contact is shown on every page
    ],
)
def test_bad_fitting_keys_stop_start_up(tmp_path: Path, entry: dict[str, object]) -> None:
    path = tmp_path / "contacts.json"
    path.write_text(json.dumps([{"name": "Line", "how": "Call 1", **entry}]))
    with pytest.raises(ConfigError, match="PEERHUB_CRISIS_CONTACTS"):
        load_crisis_contacts(path)
