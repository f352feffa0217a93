"""BCP 47 well-formedness and case normalisation."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from peerhub.matching import LanguageTagError, normalise_language_tag, tags_compatible


@pytest.mark.parametrize(
    ("tag", "expected"),
    [
        ("en", "en"),
        ("EN", "en"),
        ("bfi", "bfi"),
        ("PA-guru", "pa-Guru"),
        ("pa-arab", "pa-Arab"),
        ("en-gb", "en-GB"),
        ("es-419", "es-419"),
        ("zh-hant-HK", "zh-Hant-HK"),
        ("zh-yue-HK", "zh-yue-HK"),
        ("sl-rozaj-biske", "sl-rozaj-biske"),
        ("de-CH-1901", "de-CH-1901"),
        ("en-US-u-islamcal", "en-US-u-islamcal"),
        ("EN-a-MYEXT-x-Private", "en-a-myext-x-private"),
        ("cy-x-gwent", "cy-x-gwent"),
        ("tlh", "tlh"),
    ],
)
def test_well_formed_tags_are_normalised(tag: str, expected: str) -> None:
    assert normalise_language_tag(tag) == expected


@pytest.mark.parametrize(
    ("tag", "problem"),
    [
        ("", "empty"),
        ("e", "2 to 8 letters"),
        ("en_GB", "letters A to Z"),
        ("en-", "empty subtag"),
        ("en--GB", "empty subtag"),
        ("1en", "2 to 8 letters"),
        ("en-GB-GB", "wrong place"),
        ("en-Latn-Latn", "wrong place"),
        ("de-1901-1901", "appears twice"),
        ("en-a-foo-a-bar", "appears twice"),
        ("en-a", "no subtags"),
        ("en-x", "no subtags"),
        ("x-private", "private-use"),
        ("i-klingon", "grandfathered"),
        ("en-GB-oed", "grandfathered"),
        ("abcdefghi", "longer than 8"),
        ("ünï", "letters A to Z"),
        ("en-" + "a" * 70, "longer than 64"),
    ],
)
def test_malformed_tags_name_the_problem(tag: str, problem: str) -> None:
    with pytest.raises(LanguageTagError, match=problem) as caught:
        normalise_language_tag(tag)
    assert isinstance(caught.value, ValueError)
    assert caught.value.tag == tag


@given(
    st.text(alphabet="abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-", max_size=20)
)
def test_normalising_is_idempotent_and_only_changes_case(tag: str) -> None:
    try:
        norm = normalise_language_tag(tag)
    except LanguageTagError:
        return
    assert norm.lower() == tag.lower()
    assert normalise_language_tag(norm) == norm


def test_compatibility_is_subtag_prefix_in_either_direction() -> None:
    assert tags_compatible("pa", "pa-Guru")
    assert tags_compatible("pa-Guru", "pa")
    assert tags_compatible("en", "en")
    assert not tags_compatible("pa-Guru", "pa-Arab")
    assert not tags_compatible("en", "eng")
    assert not tags_compatible("zh", "yue")
