"""Languages by name or by tag, in any script and case: one canonical BCP 47 tag each.

What people type ("urdu", "Urdu (Pakistan)", "اردو", "BSL", "Cymraeg", "eng",
"sgn-GB", "zh-yue") becomes one canonical tag ("ur", "bfi", "cy", "en", "yue"), and
every accepted tag has a name in English and in the language itself. Matching
compares tags by CLDR language distance, so related forms of a language ("pa-Guru"
and "pa-Arab", "zh" and "yue") meet, and the reason says how they differ.

Everything here comes from `langcodes` and its data package `language_data`: the
IANA language subtag registry (which codes exist, which are deprecated, which
language belongs to which macrolanguage), CLDR's names for languages, scripts and
places in every language it covers, CLDR's likely subtags and CLDR's language
matching distances. The few things added by hand are in ``ALIASES``,
``SCRIPT_WORDS``, ``SAME_SPEECH`` and ``SIGN_LANGUAGE_CHOICES`` below, each with the
reason; docs/matching.md ("Languages") says the same.

The module is pure: no network, no database. It reads the two packages' data files
once, lazily, and caches every answer (inputs are bounded in length, and the caches
in size).
"""

from __future__ import annotations

import difflib
import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from typing import Final, Literal

import langcodes
from langcodes.registry_parser import parse_registry

__all__ = [
    "MAX_INPUT",
    "RELATED_DISTANCE",
    "SAME_DISTANCE",
    "Choice",
    "LanguageError",
    "LanguageQuestion",
    "Relation",
    "UnknownLanguage",
    "autonym",
    "canonical_tag",
    "choice",
    "choices",
    "describe_offer",
    "english_name",
    "is_sign_language",
    "label",
    "parse",
    "relate",
]

MAX_INPUT: Final = 64

#: CLDR distances: up to 9 the same language (regional differences score 3 to 5);
#: 10 to 24 a close variety a speaker can follow (Cantonese speakers and Chinese
#: in Traditional script, 14; Egyptian Arabic speakers and Arabic, 10). Unrelated
#: languages are 80 to 134 apart.
SAME_DISTANCE: Final = 9
RELATED_DISTANCE: Final = 24

#: A macrolanguage whose name is a question: one with a member of at least this
#: many speakers (CLDR population figures) that CLDR puts at distance 25 or more
#: from it, so that "Chinese" or "Kurdish" alone does not say what someone speaks.
_QUESTION_POPULATION: Final = 10_000_000
_CHOICE_POPULATION: Final = 1_000_000
_MAX_CHOICES: Final = 6

# --- Added by hand, with the reason --------------------------------------------------

#: Abbreviations people in the UK use for sign languages. "BSL" and "ASL" would
#: otherwise be read as the ISO 639-3 codes bsl (Basa-Gumna) and asl (Asilulu), and
#: "ISL" as isl (Icelandic): nobody typing them on a UK peer-support site means those.
#: "sign language" alone is a question (see SIGN_LANGUAGE_CHOICES).
ALIASES: Final[dict[str, str]] = {
    "bsl": "bfi",
    "british sign": "bfi",
    "isl": "isg",
    "irish sign": "isg",
    "asl": "ase",
    "american sign": "ase",
    "farsi": "fa",
}

#: Words for a script that CLDR does not use as the script's name. Shahmukhi is the
#: Arabic script as written for Punjabi; CLDR names it only "Arabic".
SCRIPT_WORDS: Final[dict[str, str]] = {"shahmukhi": "Arab"}

#: Script names shown for one language where the general name would mislead.
_SCRIPT_NAMES: Final[dict[tuple[str, str], str]] = {("pa", "Arab"): "Shahmukhi"}

#: Codes for the same speech as another tag. ISO 639-3 codes Western Panjabi (pnb)
#: and the macrolanguage Lahnda (lah) apart from Panjabi (pa), and CLDR puts them
#: 134 apart, yet Western Panjabi is Punjabi as spoken in Pakistan and written in
#: Shahmukhi (CLDR's own likely subtags make pa-PK pa-Arab-PK): a group meeting in
#: one is for speakers of the other, with a difference of script only.
SAME_SPEECH: Final[dict[str, str]] = {"pnb": "pa-Arab", "lah": "pa-Arab"}

#: "Sign language" names no one language (the registry's sgn is a collection): the
#: choices asked about are the sign languages used in the UK and Ireland (British,
#: Irish), American Sign Language, and International Sign, used at international
#: Deaf events. Northern Ireland uses BSL and ISL; it has no code of its own.
SIGN_LANGUAGE_CHOICES: Final = ("bfi", "isg", "ase", "ils")
_SIGN_WORDS: Final = frozenset(
    {"sign", "signing", "sign language", "sign languages", "signed", "sgn", "deaf sign language"}
)

# Registry scopes that name no language a group can meet in.
_NOT_A_LANGUAGE: Final = frozenset({"collection", "special", "private-use"})
_TAG_SHAPE: Final = re.compile(r"[A-Za-z]{2,8}([-_][A-Za-z0-9]{1,8})*")


class LanguageError(ValueError):
    """A language could not be taken as given; ``message`` says so in plain words."""

    def __init__(self, asked: str, message: str) -> None:
        super().__init__(message)
        self.asked = asked
        self.message = message


class UnknownLanguage(LanguageError):
    """No language by that name or code. ``suggestions`` are tags whose names are close."""

    def __init__(self, asked: str, message: str, suggestions: tuple[str, ...] = ()) -> None:
        super().__init__(asked, message)
        self.suggestions = suggestions


class LanguageQuestion(LanguageError):
    """The words name several languages ("sign language", "Chinese"): ask which.

    ``question`` is the question in plain words; ``choices`` are tags, most used
    first; ``any_tag`` is a tag that means "any of them" where one exists (the
    macrolanguage, matched to each of its members), else None."""

    def __init__(
        self, asked: str, question: str, choices: tuple[str, ...], any_tag: str | None
    ) -> None:
        shown = ", ".join(english_name(t) for t in choices)
        super().__init__(asked, f"“{asked}” could mean several languages: {shown}. {question}")
        self.question = question
        self.choices = choices
        self.any_tag = any_tag


@dataclass(frozen=True, slots=True)
class Choice:
    """A language as shown to people: its tag, English name and own name."""

    tag: str
    name: str
    autonym: str

    @property
    def label(self) -> str:
        return self.name if self.autonym == self.name else f"{self.name} ({self.autonym})"

    def as_dict(self) -> dict[str, str]:
        return {"tag": self.tag, "name": self.name, "autonym": self.autonym}


# --- Registry facts (read once) ------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Registry:
    scope: dict[str, str]
    macrolanguage: dict[str, str]
    members: dict[str, tuple[str, ...]]


@lru_cache(maxsize=1)
def _registry() -> _Registry:
    scope: dict[str, str] = {}
    macro: dict[str, str] = {}
    members: dict[str, list[str]] = {}
    for item in parse_registry():  # type: ignore[no-untyped-call]
        if item.get("Type") != "language" or "Deprecated" in item:
            continue
        code = str(item["Subtag"])
        if "Scope" in item:
            scope[code] = str(item["Scope"])
        if "Macrolanguage" in item:
            macro[code] = str(item["Macrolanguage"])
            members.setdefault(str(item["Macrolanguage"]), []).append(code)
    return _Registry(scope, macro, {k: tuple(v) for k, v in members.items()})


def _scope(language: str) -> str:
    if "qaa" <= language <= "qtz" and len(language) == 3:
        return "private-use"
    return _registry().scope.get(language, "")


# --- Canonical tags -----------------------------------------------------------------


@lru_cache(maxsize=4096)
def canonical_tag(tag: str) -> str | None:
    """The canonical form of a BCP 47 tag, or None if it names no known language.

    Old and three-letter codes become today's ("eng" → "en", "sgn-GB" → "bfi",
    "zh-yue" → "yue", "iw" → "he"). Only the language and, where it differs from the
    language's usual one, the script are kept: "en-GB" → "en", "ur-PK" → "ur",
    "pa-Guru" → "pa", but "pa-Arab" and "pa-PK" → "pa-Arab", "zh-TW" → "zh-Hant".
    Regions, variants and extensions do not change who can follow a group.
    """
    text = tag.strip()
    if not text or len(text) > MAX_INPUT or not _TAG_SHAPE.fullmatch(text):
        return None
    try:
        lang = langcodes.Language.get(text)
    except (ValueError, LookupError):
        return None
    language = lang.language
    if not language or not lang.is_valid() or _scope(language) in _NOT_A_LANGUAGE:
        return None
    if lang.extensions or lang.private:
        # "en-a-foo", "cy-x-gwent": private agreements, not a language people share.
        return None
    base = langcodes.Language.get(language)
    if not base.has_name_data() and base.display_name().startswith("Unknown language"):
        return None
    usual = base.maximize().script
    script = lang.script
    if script is None and lang.territory is not None:
        placed = langcodes.Language.make(language=language, territory=lang.territory)
        script = placed.maximize().script
    if script is not None and script != usual:
        return f"{language}-{script}"
    return language


def _words(text: str) -> str:
    """Text for name lookups: NFKC, single spaces, no surrounding punctuation."""
    text = unicodedata.normalize("NFKC", text)
    text = "".join(" " if unicodedata.category(c).startswith(("C", "Z")) else c for c in text)
    return " ".join(text.split()).strip(" .,;:!?\"'")


def _find(name: str) -> str | None:
    key = name.casefold()
    if key in ALIASES:
        return ALIASES[key]
    if key.endswith(" sign language") and key[: -len(" language")] in ALIASES:
        return ALIASES[key[: -len(" language")]]
    try:
        found = langcodes.find(name)
    except LookupError:
        return None
    return canonical_tag(found.to_tag())


def _script_or_place(word: str) -> tuple[str | None, str | None]:
    key = word.casefold()
    if key in SCRIPT_WORDS:
        return SCRIPT_WORDS[key], None
    for kind in ("script", "territory"):
        try:
            found = langcodes.Language.find_name(kind, word)
        except LookupError:
            continue
        return (found.script, None) if kind == "script" else (None, found.territory)
    return None, None


def _with_qualifier(language: str, word: str) -> str | None:
    """ "Punjabi" + "Shahmukhi" → pa-Arab; "Urdu" + "Pakistan" → ur; None if unknown."""
    script, territory = _script_or_place(word)
    if script is None and territory is None:
        # "Welsh (Cymraeg)": the same language named twice.
        other = _find(word)
        return language if other == language else None
    base = language.split("-")[0]
    made = langcodes.Language.make(language=base, script=script, territory=territory)
    return canonical_tag(made.to_tag())


_QUALIFIED: Final = re.compile(r"(.+?)\s*[(\[](.+)[)\]]|(.+?)\s+(?:in|written in)\s+(.+)", re.I)


@lru_cache(maxsize=4096)
def _resolve(words: str) -> tuple[str, bool] | None:
    """(tag, given as a code) for cleaned-up words, or None."""
    key = words.casefold()
    if key in ALIASES:
        return ALIASES[key], False
    if _TAG_SHAPE.fullmatch(words) and ("-" in words or "_" in words or len(words) <= 3):
        tag = canonical_tag(words)
        if tag is not None:
            return tag, True
    if _TAG_SHAPE.fullmatch(words.rstrip("-_")) and any(
        len(part) < 2 for part in re.split(r"[-_]", words)
    ):
        # A broken code ("en-", "en--GB"), not a name: CLDR's name search is fuzzy
        # enough to find "En" in it.
        return None
    m = _QUALIFIED.fullmatch(words)
    if m is not None:
        # "Punjabi (Shahmukhi)", "Urdu (Pakistan)", "Punjabi in Gurmukhi": CLDR's name
        # search would drop the part in brackets, and with it the script.
        head, tail = (m.group(1), m.group(2)) if m.group(1) else (m.group(3), m.group(4))
        base = _find(head.strip())
        if base is not None:
            tag = _with_qualifier(base, tail.strip())
            if tag is not None:
                return tag, False
    found = _find(words)
    if found is not None:
        return found, False
    if _TAG_SHAPE.fullmatch(words):
        tag = canonical_tag(words)
        if tag is not None:
            return tag, True
    return None


@lru_cache(maxsize=64)
def _question_for(tag: str) -> tuple[tuple[str, ...], str] | None:
    """(choices, question) when a macrolanguage's name does not say what is spoken."""
    members = _registry().members.get(tag)
    if not members:
        return None
    counted = []
    for code in members:
        population = langcodes.Language.get(code).speaking_population()
        counted.append((population, code))
    counted.sort(key=lambda pc: (-pc[0], pc[1]))
    if not any(
        p >= _QUESTION_POPULATION and langcodes.tag_distance(c, tag) > RELATED_DISTANCE
        for p, c in counted
    ):
        return None
    # The member CLDR takes the macrolanguage to mean (Mandarin for Chinese, Kurmanji
    # for Kurdish) first: CLDR counts its speakers under the macrolanguage's code.
    main = [c for _, c in counted if langcodes.tag_distance(c, tag) == 0]
    rest = [c for p, c in counted if p >= _CHOICE_POPULATION and c not in main]
    picks = tuple(t for t in dict.fromkeys(canonical_tag(c) for c in main + rest) if t)
    return picks[:_MAX_CHOICES], f"Which {english_name(tag)} language do you mean?"


def parse(text: str) -> str:
    """The canonical tag for a language typed by name or by code.

    Raises :class:`LanguageQuestion` for words that name several languages ("sign
    language", "Chinese", "Kurdish") and :class:`UnknownLanguage` otherwise, each a
    ``ValueError`` with a plain message.
    """
    if not isinstance(text, str):
        raise UnknownLanguage("", "Give a language by its name, such as Welsh or Urdu.")
    words = _words(text[: MAX_INPUT * 2])
    shown = words[:40]
    if not words:
        raise UnknownLanguage(text, "Give a language by its name, such as Welsh or Urdu.")
    if len(words) > MAX_INPUT:
        raise UnknownLanguage(shown, f"A language name has at most {MAX_INPUT} characters.")
    if words.casefold() in _SIGN_WORDS:
        raise LanguageQuestion(
            shown, "Which sign language do you use?", SIGN_LANGUAGE_CHOICES, None
        )
    found = _resolve(words)
    if found is None:
        close = suggest(words)
        hint = (
            " Did you mean " + " or ".join(english_name(t) for t in close) + "?"
            if close
            else " Try its name in English or in the language itself, such as Welsh or Cymraeg."
        )
        raise UnknownLanguage(shown, f"We do not know a language called “{shown}”.{hint}", close)
    tag, as_code = found
    if not as_code:
        question = _question_for(tag)
        if question is not None:
            raise LanguageQuestion(shown, question[1], question[0], tag)
    return tag


# --- Names ----------------------------------------------------------------------------


def _script_name(language: str, script: str | None) -> str:
    if script is None:
        return ""
    return _SCRIPT_NAMES.get((language, script)) or langcodes.Language.make(
        script=script
    ).script_name("en")


@lru_cache(maxsize=4096)
def english_name(tag: str) -> str:
    """The language's name in English ("Welsh"; "Punjabi (Shahmukhi)"); the tag itself
    only for a tag that names no language (never for an accepted one)."""
    canon = canonical_tag(tag)
    if canon is None:
        return tag
    lang = langcodes.Language.get(canon)
    name = lang.language_name("en")
    if lang.script:
        name = f"{name} ({_script_name(lang.language or '', lang.script)})"
    return name


@lru_cache(maxsize=4096)
def autonym(tag: str) -> str:
    """The language's name for itself ("Cymraeg", "اردو"); its English name where CLDR
    has none (as for most sign languages)."""
    canon = canonical_tag(tag)
    if canon is None:
        return tag
    lang = langcodes.Language.get(canon)
    own = lang.autonym()
    if not own or own.startswith("Unknown language") or own == lang.display_name("en"):
        return english_name(canon)
    return own


@lru_cache(maxsize=8192)
def name_in(tag: str, in_language: str) -> str:
    """The language's name in another language, from CLDR ("Welsh" in Welsh is
    "Cymraeg", in Polish "walijski"): for pages shown in ``in_language``. Where CLDR has
    no name in that language, the English name."""
    canon = canonical_tag(tag)
    if canon is None:
        return tag
    try:
        lang = langcodes.Language.get(canon)
        name = lang.language_name(in_language)
        if not name or name.startswith("Unknown language") or name == lang.language:
            return english_name(canon)
        if lang.script:
            script = langcodes.Language.make(script=lang.script).script_name(in_language)
            name = f"{name} ({script})"
    except (ValueError, LookupError):
        return english_name(canon)
    return name


def label(tag: str) -> str:
    """ "Welsh (Cymraeg)": the English name, and the language's own where it differs."""
    return choice(tag).label


def choice(tag: str) -> Choice:
    return Choice(tag, english_name(tag), autonym(tag))


def choices(tags: tuple[str, ...] | list[str]) -> list[Choice]:
    """Choices for tags, without repeats, sorted by English name."""
    seen = dict.fromkeys(t for t in (canonical_tag(x) for x in tags) if t is not None)
    return sorted((choice(t) for t in seen), key=lambda c: c.name.casefold())


def is_sign_language(tag: str) -> bool:
    """Whether a tag names a sign language: one of the choices offered, one CLDR calls
    a sign language, or the BCP 47 collection ``sgn`` ("sgn-GB" is BSL's old tag)."""
    if tag.strip().lower().split("-")[0] == "sgn":
        return True
    canon = canonical_tag(tag) or tag
    return canon in SIGN_LANGUAGE_CHOICES or "Sign Language" in english_name(canon)


@lru_cache(maxsize=1)
def _name_index() -> dict[str, str]:
    """Lower-cased English names and autonyms of the CLDR "modern" languages and the
    sign languages, for suggesting a spelling."""
    from language_data.language_lists import CLDR_LANGUAGES  # type: ignore[import-untyped]

    out: dict[str, str] = {}
    for code in sorted(set(CLDR_LANGUAGES) | set(SIGN_LANGUAGE_CHOICES)):
        tag = canonical_tag(code)
        if tag is None:
            continue
        out.setdefault(english_name(tag).casefold(), tag)
        out.setdefault(autonym(tag).casefold(), tag)
    return out


def suggest(words: str, limit: int = 3) -> tuple[str, ...]:
    """Tags whose names are spelled like ``words`` ("Urud" → ur)."""
    index = _name_index()
    close = difflib.get_close_matches(words.casefold(), list(index), n=limit * 2, cutoff=0.75)
    return tuple(dict.fromkeys(index[c] for c in close))[:limit]


# --- Distance -------------------------------------------------------------------------

RelationKind = Literal["same", "script", "variety", "close", "macrolanguage"]


@dataclass(frozen=True, slots=True)
class Relation:
    """How a language a group meets in relates to one a person asked for.

    ``kind`` is "same" (CLDR distance 9 or less), "script" (the same language in
    another script), "variety" (the same language, another variety), "close" (CLDR
    distance 10 to 24) or "macrolanguage" (one is a member of the other, such as
    Cantonese and Chinese). Unrelated languages have no Relation."""

    kind: RelationKind
    distance: int

    @property
    def same(self) -> bool:
        return self.kind == "same"


def _speech(tag: str) -> str:
    return SAME_SPEECH.get(tag, tag)


@lru_cache(maxsize=65536)
def relate(asked: str, offered: str) -> Relation | None:
    """How ``offered`` (a group's language) serves someone who asked for ``asked``."""
    if asked == offered:
        return Relation("same", 0)
    a, b = _speech(asked), _speech(offered)
    try:
        distance = int(langcodes.tag_distance(a, b))
    except (ValueError, LookupError):
        return None
    if distance <= SAME_DISTANCE:
        return Relation("same", distance)
    la, lb = a.split("-")[0], b.split("-")[0]
    if la == lb:
        sa = langcodes.Language.get(a).maximize().script
        sb = langcodes.Language.get(b).maximize().script
        return Relation("script" if sa != sb else "variety", distance)
    if distance <= RELATED_DISTANCE:
        return Relation("close", distance)
    macro = _registry().macrolanguage
    if macro.get(la) == lb or macro.get(lb) == la:
        return Relation("macrolanguage", distance)
    return None


def _script_of(tag: str) -> tuple[str, str]:
    lang = langcodes.Language.get(_speech(tag)).maximize()
    language = lang.language or ""
    return language, _script_name(language, lang.script)


def offer_parts(asked: str, offered: str) -> tuple[str, dict[str, str]]:
    """How a group meeting in ``offered`` relates to ``asked``, as a kind and the tags
    and names to say it with (the words are :func:`describe_offer`'s, or a page's):
    "same" (offered), "script" (spoken, written, wanted), "member" (offered, macro,
    asked), "unspecified" (offered, asked), "variety" and "close" (offered, asked)."""
    rel = relate(asked, offered)
    if rel is None or rel.same:
        return "same", {"offered": offered}
    if rel.kind == "script":
        language, written = _script_of(offered)
        _, wanted = _script_of(asked)
        return "script", {"spoken": language, "written": written, "wanted": wanted}
    if rel.kind == "macrolanguage":
        a, b = _speech(asked).split("-")[0], _speech(offered).split("-")[0]
        if _registry().macrolanguage.get(b) == a:
            return "member", {"offered": offered, "macro": a, "asked": asked}
        return "unspecified", {"offered": offered, "asked": asked}
    if rel.kind == "variety":
        return "variety", {"offered": offered, "asked": asked}
    return "close", {"offered": offered, "asked": asked}


def describe_offer(asked: str, offered: str) -> str:
    """A reason in plain words for a group meeting in ``offered``, for someone who asked
    for ``asked``: "Meets in Welsh"; "Meets in Punjabi, written in Gurmukhi; you asked
    for Punjabi in Shahmukhi"; "Meets in Cantonese, one of the Chinese languages; you
    asked for Chinese"."""
    kind, p = offer_parts(asked, offered)
    if kind == "same":
        return f"Meets in {english_name(offered)}"
    if kind == "script":
        spoken = langcodes.Language.get(p["spoken"]).language_name("en")
        return (
            f"Meets in {spoken}, written in {p['written']}; you asked for {spoken} in {p['wanted']}"
        )
    name, asked_name = english_name(offered), english_name(asked)
    if kind == "member":
        return (
            f"Meets in {name}, one of the {english_name(p['macro'])} languages; "
            f"you asked for {asked_name}"
        )
    if kind == "unspecified":
        return f"Meets in {name}, without saying which {name} language; you asked for {asked_name}"
    if kind == "variety":
        return f"Meets in {name}, another form of {asked_name}, which you asked for"
    return f"Meets in {name}, close to {asked_name}, which you asked for"


@lru_cache(maxsize=1)
def _base_suggestions() -> tuple[str, ...]:
    from language_data.language_lists import CLDR_LANGUAGES

    tags = (canonical_tag(c) for c in sorted(set(CLDR_LANGUAGES) | set(SIGN_LANGUAGE_CHOICES)))
    return tuple(t for t in tags if t is not None)


def suggestions(extra: tuple[str, ...] | list[str] | set[str] = ()) -> list[Choice]:
    """Languages to suggest as someone types: CLDR's "modern" languages, the sign
    languages asked about, and ``extra`` (the common languages and those in use)."""
    return choices([*_base_suggestions(), *extra])
