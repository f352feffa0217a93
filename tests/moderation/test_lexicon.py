"""The crisis lexicon and hold-for-review lists: whole words, no false alarms."""

from __future__ import annotations

from pathlib import Path

import pytest

from peerhub.moderation.lexicon import (
    DEFAULT_CRISIS_LEXICON,
    Matcher,
    clean_phrases,
    load_crisis_lexicon,
)

CRISIS = Matcher(DEFAULT_CRISIS_LEXICON)


@pytest.mark.parametrize(
    "text",
    [
        "I want to kill myself",
        "i'm thinking about suicide again",
        "Feeling suicidal tonight",
        "I can’t go on",  # a curly apostrophe, as phones type it
        "I CAN'T GO ON",
        "been self-harming again",
        "thinking of self  harm",
        "everyone would be better off without me.",
        "I took an overdose",
        "(want to die)",
    ],
)
def test_crisis_phrases_are_found(text: str) -> None:
    assert CRISIS.search(text) is not None


@pytest.mark.parametrize(
    "text",
    [
        "I am a skilled baker",
        "the plants were killed by frost",  # "killed" is not in the list
        "unkillmyselfable is not a word",
        "my die-cast model car",
        "an overdosed plant? no, overwatered",
        "I can go on, thanks to you all",
        "selfharmony is a band",
        "",
    ],
)
def test_ordinary_words_do_not_match(text: str) -> None:
    assert CRISIS.search(text) is None


def test_whole_words_in_both_directions() -> None:
    killed = Matcher(["killed"])
    assert killed.search("He was killed in the film") == "killed"
    assert killed.search("a skilled carpenter") is None
    assert killed.search("killedness") is None
    prefix = Matcher(["gambl*"])
    assert prefix.search("Gambling again") == "gambling"
    assert prefix.search("ungambled") is None


def test_hold_lists_are_cleaned_like_people_type_them() -> None:
    assert clean_phrases(["  car  boot ", "", "# a note", "CAR BOOT", "cash app"]) == [
        "car boot",
        "cash app",
    ]
    assert len(clean_phrases([f"w{i}" for i in range(500)], limit=200)) == 200
    assert not Matcher([])
    assert Matcher([]).search("anything") is None
    # Regular-expression characters are only characters.
    assert Matcher(["a.b (c)"]).search("see a.b (c) now") == "a.b (c)"
    assert Matcher(["a.b"]).search("axb") is None


def test_a_deployment_can_replace_the_lexicon(tmp_path: Path) -> None:
    lexicon = tmp_path / "lexicon.txt"
    lexicon.write_text("# our own list\nin a dark place\n", encoding="utf-8")
    matcher = load_crisis_lexicon({"PEERHUB_CRISIS_LEXICON": str(lexicon)})
    assert matcher.search("I'm in a dark place") == "in a dark place"
    assert matcher.search("I want to die") is None
    empty = tmp_path / "empty.txt"
    empty.write_text("# nothing\n", encoding="utf-8")
    with pytest.raises(SystemExit, match="holds no phrases"):
        load_crisis_lexicon({"PEERHUB_CRISIS_LEXICON": str(empty)})
    with pytest.raises(SystemExit, match="cannot read"):
        load_crisis_lexicon({"PEERHUB_CRISIS_LEXICON": str(tmp_path / "missing.txt")})
    assert load_crisis_lexicon({}).search("suicidal") == "suicidal"
