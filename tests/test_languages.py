"""peerhub/languages.py: names and codes to canonical tags, questions, names, distance."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from peerhub import languages
from peerhub.languages import (
    LanguageError,
    LanguageQuestion,
    UnknownLanguage,
    autonym,
    canonical_tag,
    describe_offer,
    english_name,
    parse,
    relate,
)
from peerhub.taxonomy import COMMON_LANGUAGES


@pytest.mark.parametrize(
    ("typed", "tag"),
    [
        # The examples: names in any case and script, with a place.
        ("urdu", "ur"),
        ("Urdu", "ur"),
        ("URDU", "ur"),
        ("Urdu (Pakistan)", "ur"),
        ("اردو", "ur"),
        ("BSL", "bfi"),
        ("bsl", "bfi"),
        ("British Sign Language", "bfi"),
        ("british sign language", "bfi"),
        ("Cymraeg", "cy"),
        ("Welsh", "cy"),
        ("Welsh (Cymraeg)", "cy"),
        # Old and three-letter tags.
        ("sgn-GB", "bfi"),
        ("sgn-IE", "isg"),
        ("sgn-US", "ase"),
        ("zh-yue", "yue"),
        ("eng", "en"),
        ("ara", "ar"),
        ("urd", "ur"),
        ("iw", "he"),
        ("EN", "en"),
        ("en-GB", "en"),
        ("en_gb", "en"),
        # Scripts: kept where they are not the language's usual one.
        ("pa-Guru", "pa"),
        ("PA-guru", "pa"),
        ("pa-Arab", "pa-Arab"),
        ("pa-PK", "pa-Arab"),
        ("Punjabi (Shahmukhi)", "pa-Arab"),
        ("Punjabi in Shahmukhi", "pa-Arab"),
        ("Punjabi (Gurmukhi)", "pa"),
        ("pnb", "pnb"),
        ("zh-TW", "zh-Hant"),
        ("Chinese (Traditional)", "zh-Hant"),
        # Sign languages and the abbreviations people use.
        ("ISL", "isg"),
        ("Irish Sign Language", "isg"),
        ("ASL", "ase"),
        # Other languages of the seeds' world, by English name and their own.
        ("Polski", "pl"),
        ("Soomaali", "so"),
        ("ትግርኛ", "ti"),
        ("Tigrinya", "ti"),
        ("Cantonese", "yue"),
        ("粵語", "yue"),
        ("Mandarin", "cmn"),
        ("Sylheti", "syl"),
        ("Bengali", "bn"),
        ("Farsi", "fa"),
        ("Kurmanji", "kmr"),
        ("Sorani", "ckb"),
        ("Gàidhlig", "gd"),
        ("Gaeilge", "ga"),
        ("Deutsch", "de"),
        ("german", "de"),
        ("  Polish  ", "pl"),
        # A code that names a macrolanguage is taken as given (no question).
        ("zh", "zh"),
        ("ku", "ku"),
    ],
)
def test_names_and_codes_become_one_canonical_tag(typed: str, tag: str) -> None:
    assert parse(typed) == tag


@pytest.mark.parametrize(
    "typed",
    ["", "   ", "Xyzzyish", "qaa", "und", "mul", "zxx", "x-private", "i-klingon", "en-", "en--GB"],
)
def test_what_names_no_language_is_refused_in_plain_words(typed: str) -> None:
    with pytest.raises(UnknownLanguage) as caught:
        parse(typed)
    assert isinstance(caught.value, ValueError)
    assert "well-formed" not in caught.value.message


def test_a_misspelling_gets_suggestions() -> None:
    with pytest.raises(UnknownLanguage) as caught:
        parse("Urud")
    assert caught.value.suggestions[0] == "ur"
    assert "Did you mean Urdu?" in caught.value.message


@pytest.mark.parametrize("typed", ["sign language", "Sign Language", "signing", "sgn"])
def test_sign_language_is_a_question_with_the_common_choices(typed: str) -> None:
    with pytest.raises(LanguageQuestion) as caught:
        parse(typed)
    q = caught.value
    assert q.choices[:3] == ("bfi", "isg", "ase")
    assert q.question == "Which sign language do you use?"
    assert "British Sign Language" in q.message


@pytest.mark.parametrize(
    ("typed", "must", "any_tag"),
    [
        ("Chinese", {"cmn", "yue", "hak", "nan"}, "zh"),
        ("chinese", {"cmn", "yue"}, "zh"),
        ("中文", {"cmn", "yue"}, "zh"),
        ("Kurdish", {"kmr", "ckb"}, "ku"),
    ],
)
def test_a_name_for_several_languages_is_a_question(
    typed: str, must: set[str], any_tag: str
) -> None:
    with pytest.raises(LanguageQuestion) as caught:
        parse(typed)
    assert must <= set(caught.value.choices)
    assert caught.value.any_tag == any_tag
    assert caught.value.choices[0] in ("cmn", "kmr")  # what the name usually means


@pytest.mark.parametrize("typed", ["Arabic", "Persian", "Malay", "Punjabi"])
def test_macrolanguages_whose_speakers_share_it_are_not_questions(typed: str) -> None:
    parse(typed)


def test_every_two_letter_code_and_common_language_has_a_name_and_an_autonym() -> None:
    registry = languages._registry()
    two_letter = [c for c in registry.scope if len(c) == 2] + [
        c for c in ("en", "de", "fr", "cy", "ga", "gd", "ur", "pa", "so", "pl", "ar", "tw")
    ]
    from langcodes.registry_parser import parse_registry

    codes = {
        str(item["Subtag"])
        for item in parse_registry()  # type: ignore[no-untyped-call]
        if item.get("Type") == "language" and len(str(item["Subtag"])) == 2
    }
    codes |= set(two_letter) | set(COMMON_LANGUAGES)
    assert len(codes) >= 184
    unnamed = []
    for code in sorted(codes):
        tag = canonical_tag(code)
        if tag is None:
            continue
        name = english_name(tag)
        if name == tag or name.startswith("Unknown") or not autonym(tag):
            unnamed.append(code)
    assert unnamed == []


def test_every_suggested_name_reads_back_as_its_language() -> None:
    for c in languages.suggestions(COMMON_LANGUAGES):
        assert c.name != c.tag
        for typed in (c.name, c.autonym):
            try:
                back = parse(typed)
            except LanguageQuestion as q:
                asked_about = (q.any_tag, *q.choices)
                back = c.tag if c.tag in asked_about else "und"
            rel = relate(c.tag, back)
            assert rel is not None and rel.same, (c, typed, back)


def test_names_in_english_and_in_the_language() -> None:
    assert english_name("cy") == "Welsh"
    assert autonym("cy") == "Cymraeg"
    assert autonym("ur") == "اردو"
    assert english_name("de") == "German"
    assert english_name("pa-Arab") == "Punjabi (Shahmukhi)"
    assert english_name("bfi") == "British Sign Language"
    assert autonym("bfi") == "British Sign Language"
    assert english_name("isg") == "Irish Sign Language"
    assert languages.label("cy") == "Welsh (Cymraeg)"
    assert languages.label("bfi") == "British Sign Language"


@pytest.mark.parametrize(
    ("asked", "offered", "kind"),
    [
        ("en", "en", "same"),
        ("pa", "pa-Arab", "script"),
        ("pa-Arab", "pa", "script"),
        ("pnb", "pa", "script"),
        ("pnb", "pa-Arab", "same"),
        ("zh", "yue", "macrolanguage"),
        ("yue", "zh", "macrolanguage"),
        ("zh", "cmn", "same"),
        ("ku", "ckb", "macrolanguage"),
        ("ku", "kmr", "same"),
        ("arz", "ar", "close"),
        ("yue", "zh-Hant", "close"),
        ("nb", "no", "same"),
    ],
)
def test_related_languages_by_cldr_distance(asked: str, offered: str, kind: str) -> None:
    rel = relate(asked, offered)
    assert rel is not None and rel.kind == kind


@pytest.mark.parametrize(
    ("asked", "offered"),
    [("bfi", "isg"), ("bfi", "en"), ("bfi", "ase"), ("cmn", "yue"), ("hi", "ur"), ("en", "cy")],
)
def test_different_languages_are_not_related(asked: str, offered: str) -> None:
    assert relate(asked, offered) is None


def test_reasons_say_how_a_related_language_differs() -> None:
    assert describe_offer("pa-Arab", "pa") == (
        "Meets in Punjabi, written in Gurmukhi; you asked for Punjabi in Shahmukhi"
    )
    assert describe_offer("zh", "yue") == (
        "Meets in Cantonese, one of the Chinese languages; you asked for Chinese"
    )
    assert describe_offer("yue", "zh").startswith("Meets in Chinese, without saying which")
    assert describe_offer("ur", "ur") == "Meets in Urdu"


@given(st.text(max_size=80))
def test_parsing_anything_either_gives_a_canonical_tag_or_a_plain_error(text: str) -> None:
    try:
        tag = parse(text)
    except LanguageError as exc:
        message = exc.message
        tag = None
    if tag is None:
        assert message
        return
    assert canonical_tag(tag) == tag
    assert english_name(tag) != tag
