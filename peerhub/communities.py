"""Communities in people's own words: aliases for every community, free text turned
into communities where it names one, and the communities administrators add.

Pure: no I/O. The database side (added communities, proposals) is in
``peerhub/groups/proposals.py``; it builds a :class:`Vocabulary` for this module.

A person can say "Pakistani", "Bangladeshi heritage", "trans", "ex-forces" or
"Deaf BSL user" instead of choosing from the list: :func:`resolve` finds the
communities those words name (whole words and phrases, any case, accents folded)
and returns what is left over, which matching compares with groups' own
descriptions and the unmet-demand report counts (``peerhub/matching/words.py``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Final

from peerhub.matching.words import MAX_WORDS, fold, words
from peerhub.taxonomy import COMMUNITIES

__all__ = [
    "ALIASES",
    "BUILT_IN",
    "Community",
    "Resolution",
    "Vocabulary",
    "normalise_phrase",
    "resolve",
]

# Other names people use for each community (in English; labels are aliases too).
# Terms people use for themselves, from the communities' own organisations, not
# slurs: nothing here is a word a community rejects.
ALIASES: Final[dict[str, tuple[str, ...]]] = {
    "black_african_caribbean": (
        "black",
        "black british",
        "african",
        "caribbean",
        "afro caribbean",
        "afro-caribbean",
        "west indian",
        "windrush",
        "nigerian",
        "ghanaian",
        "jamaican",
        "black african",
        "black caribbean",
    ),
    "south_asian": (
        "asian",
        "british asian",
        "pakistani",
        "indian",
        "bangladeshi",
        "sri lankan",
        "tamil",
        "punjabi",
        "gujarati",
        "bengali",
        "desi",
        "kashmiri",
        "mirpuri",
        "sylheti",
    ),
    "east_asian": (
        "chinese",
        "hong kong",
        "hongkonger",
        "vietnamese",
        "filipino",
        "korean",
        "japanese",
        "thai",
        "malaysian",
        "south east asian",
        "southeast asian",
        "esea",
    ),
    "middle_eastern_north_african": (
        "arab",
        "arabic",
        "middle eastern",
        "north african",
        "mena",
        "iraqi",
        "syrian",
        "iranian",
        "persian",
        "kurdish",
        "kurd",
        "egyptian",
        "moroccan",
        "algerian",
        "lebanese",
        "yemeni",
        "sudanese",
    ),
    "somali": ("somalian", "somaliland", "soomaali"),
    "eastern_european": (
        "polish",
        "romanian",
        "lithuanian",
        "latvian",
        "estonian",
        "bulgarian",
        "slovak",
        "czech",
        "hungarian",
        "ukrainian",
        "baltic",
        "east european",
    ),
    "gypsy_roma_traveller": (
        "gypsy",
        "roma",
        "romany",
        "romani",
        "traveller",
        "irish traveller",
        "traveler",
        "showman",
        "showmen",
        "boater",
    ),
    "lgbtq": (
        "lgbt",
        "lgbtq",
        "lgbtqia",
        "lgbtqia+",
        "gay",
        "lesbian",
        "bisexual",
        "bi",
        "trans",
        "transgender",
        "queer",
        "questioning",
        "non-binary",
        "nonbinary",
        "pansexual",
        "asexual",
        "intersex",
    ),
    "deaf": (
        "deaf",
        "bsl",
        "bsl user",
        "british sign language",
        "sign language",
        "signer",
        "hard of hearing",
        "deafblind",
        "deafened",
        "hearing loss",
    ),
    "autistic": ("autism", "autistic", "asd", "asperger", "aspergers", "asperger's", "asc"),
    "learning_disability": (
        "learning disability",
        "learning disabilities",
        "learning difficulty",
        "learning difficulties",
        "down syndrome",
        "down's syndrome",
    ),
    "faith_muslim": ("muslim", "islam", "islamic", "moslem"),
    "faith_christian": ("christian", "church", "catholic", "anglican", "pentecostal", "methodist"),
    "faith_sikh": ("sikh", "sikhi", "sikhism", "gurdwara"),
    "young_adults": ("young adult", "young adults", "young people", "young person", "youth"),
    "older_people": (
        "older",
        "older adult",
        "elderly",
        "retired",
        "pensioner",
        "senior",
        "over 60s",
    ),
    "women": ("woman", "women", "female", "ladies", "mums", "mothers", "sisters"),
    "men": ("man", "men", "male", "dads", "fathers", "brothers", "blokes"),
    "refugees_asylum": (
        "refugee",
        "refugees",
        "asylum",
        "asylum seeker",
        "asylum seekers",
        "seeking asylum",
        "sanctuary",
        "displaced",
    ),
    "carers": ("carer", "caregiver", "young carer", "unpaid carer", "caring"),
    "veterans": (
        "veteran",
        "ex-forces",
        "ex forces",
        "ex-service",
        "armed forces",
        "army",
        "navy",
        "raf",
        "royal marines",
        "ex-military",
        "military",
    ),
    "welsh_speaking": ("welsh", "cymraeg", "cymro", "cymraes", "welsh speaker"),
}

_SPACE: Final = re.compile(r"[\s\-_/]+")
_DROP: Final = re.compile(r"[^\w\s'+]")


def normalise_phrase(text: str) -> str:
    """Fold case and accents and make spacing and hyphens single spaces."""
    plain = fold(text).replace("’", "'")
    return " ".join(_SPACE.sub(" ", _DROP.sub(" ", plain)).split())


@dataclass(frozen=True, slots=True)
class Community:
    """One community people can choose: built in (taxonomy) or added by an administrator."""

    code: str
    label: str
    description: str
    aliases: tuple[str, ...] = ()
    added: bool = False


BUILT_IN: Final[tuple[Community, ...]] = tuple(
    Community(t.code, t.label, t.description, ALIASES.get(t.code, ())) for t in COMMUNITIES.terms
)


@dataclass(frozen=True, slots=True)
class Resolution:
    """What free text said: community codes it names, and the rest as words."""

    codes: tuple[str, ...]
    other: tuple[str, ...]


@dataclass(slots=True)
class Vocabulary:
    """Every community people can choose, with a phrase → code lookup."""

    communities: tuple[Community, ...] = BUILT_IN
    _phrases: dict[str, str] = field(default_factory=dict, init=False, repr=False)
    _names: dict[str, str] = field(default_factory=dict, init=False, repr=False)
    _longest: int = field(default=1, init=False, repr=False)

    def __post_init__(self) -> None:
        # Names win over other names, and an added community's other names over the
        # built-in ones: "Kurdish", once added, is that community, not the broader
        # "Middle Eastern and North African" it was an other name of.
        names: dict[str, str] = {}
        for community in self.communities:
            for phrase in (community.label, community.code.replace("_", " ")):
                names.setdefault(normalise_phrase(phrase), community.code)
        self._names = {k: v for k, v in names.items() if k}
        self._phrases.update(self._names)
        ordered = [c for c in self.communities if c.added] + [
            c for c in self.communities if not c.added
        ]
        for community in ordered:
            for phrase in community.aliases:
                key = normalise_phrase(phrase)
                if key:
                    self._phrases.setdefault(key, community.code)
        for key in self._phrases:
            self._longest = max(self._longest, len(key.split()))

    @property
    def codes(self) -> frozenset[str]:
        return frozenset(c.code for c in self.communities)

    def label(self, code: str) -> str:
        for community in self.communities:
            if community.code == code:
                return community.label
        return code

    def names(self) -> dict[str, str]:
        """Labels of the added communities (the engine's ``community_names``)."""
        return {c.code: c.label for c in self.communities if c.added}

    def named(self, text: str) -> str | None:
        """The community whose own name (label or code) ``text`` is, not an other name."""
        if text in self.codes:
            return text
        return self._names.get(normalise_phrase(text))

    def code_of(self, text: str) -> str | None:
        """The community ``text`` names as a whole (a code, label or alias), if any."""
        if text in self.codes:
            return text
        return self._phrases.get(normalise_phrase(text))

    def resolve(self, text: str) -> Resolution:
        """Find the communities named in ``text``, longest phrases first; the words
        left over (no digits, no short or common words) are the person's own."""
        tokens = normalise_phrase(text).split()
        used = [False] * len(tokens)
        codes: list[str] = []
        for size in range(min(self._longest, len(tokens)), 0, -1):
            for start in range(len(tokens) - size + 1):
                if any(used[start : start + size]):
                    continue
                code = self._phrases.get(" ".join(tokens[start : start + size]))
                if code is None:
                    continue
                for i in range(start, start + size):
                    used[i] = True
                if code not in codes:
                    codes.append(code)
        rest = " ".join(t for t, u in zip(tokens, used, strict=True) if not u)
        return Resolution(tuple(codes), words(rest, MAX_WORDS))


def resolve(text: str, vocabulary: Vocabulary | None = None) -> Resolution:
    """:meth:`Vocabulary.resolve` with the built-in communities by default."""
    return (vocabulary or _DEFAULT).resolve(text)


_DEFAULT: Final = Vocabulary()
