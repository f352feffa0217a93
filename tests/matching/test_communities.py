"""Communities in people's own words: aliases, resolving free text, added communities."""

from __future__ import annotations

import pytest

from peerhub.communities import ALIASES, BUILT_IN, Community, Vocabulary, resolve
from peerhub.taxonomy import COMMUNITY_CODES


def test_every_community_has_other_names() -> None:
    assert set(ALIASES) == set(COMMUNITY_CODES)
    assert all(len(names) >= 3 for names in ALIASES.values())


def test_no_other_name_belongs_to_two_communities() -> None:
    seen: dict[str, str] = {}
    for code, names in ALIASES.items():
        for name in names:
            key = name.casefold()
            assert seen.setdefault(key, code) == code, f"{name!r}: {seen[key]} and {code}"


@pytest.mark.parametrize(
    ("text", "codes", "other"),
    [
        ("Pakistani", ("south_asian",), ()),
        ("british asian", ("south_asian",), ()),
        ("Ex-forces", ("veterans",), ()),
        ("Deaf BSL user", ("deaf",), ()),
        ("trans", ("lgbtq",), ()),
        ("Muslim women", ("faith_muslim", "women"), ()),
        ("SOMALI", ("somali",), ()),
        ("Hong Kong", ("east_asian",), ()),
        ("Irish Traveller", ("gypsy_roma_traveller",), ()),
        ("learning disabilities", ("learning_disability",), ()),
        ("Cymraeg", ("welsh_speaking",), ()),
        ("allotment gardeners", (), ("allotment", "gardener")),
        ("veteran who loves poetry", ("veterans",), ("love", "poetry")),
    ],
)
def test_free_text_names_communities(
    text: str, codes: tuple[str, ...], other: tuple[str, ...]
) -> None:
    found = resolve(text)
    assert found.codes == codes
    assert found.other == other


def test_every_label_and_code_resolves_to_itself() -> None:
    vocab = Vocabulary()
    for community in BUILT_IN:
        assert vocab.code_of(community.label) == community.code
        assert vocab.code_of(community.code) == community.code
        assert vocab.named(community.label) == community.code
        for alias in community.aliases:
            assert vocab.code_of(alias) == community.code


def test_an_added_community_takes_its_own_name_from_a_broader_one() -> None:
    assert resolve("Kurdish").codes == ("middle_eastern_north_african",)
    kurdish = Community("added_kurdish", "Kurdish", "", ("Kurd", "Kurdî"), added=True)
    vocab = Vocabulary((*BUILT_IN, kurdish))
    assert vocab.resolve("kurdish women").codes == ("added_kurdish", "women")
    assert vocab.code_of("kurdi") == "added_kurdish"
    assert vocab.named("Kurd") is None  # an other name, not its name
    assert vocab.names() == {"added_kurdish": "Kurdish"}
    assert "added_kurdish" in vocab.codes
