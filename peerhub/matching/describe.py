"""Who a group is for, in plain words: the first line of every result.

One line says, of every group, the people it is for (the communities it is for
only, and those it focuses on), the languages it meets in, its ages, and how and
where it meets, for example:

    "For Somali Muslim men only; meets in Somali and English; ages 18 and over; in person, LS1"
    "Open to everyone, focusing on Deaf people; meets in British Sign Language; online"

It depends only on the group, so the same group is described the same way to
everyone. Pure: no I/O.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Final

from peerhub.taxonomy import COMMUNITIES, language_name

from .model import GroupProfile

__all__ = ["community_people", "join_words", "only_phrase", "who_line"]

# How a community qualifies "people" (an adjective), or the people themselves (a noun).
_ADJECTIVE: Final = {
    "black_african_caribbean": "Black African and Caribbean",
    "south_asian": "South Asian",
    "east_asian": "East and South East Asian",
    "middle_eastern_north_african": "Middle Eastern and North African",
    "somali": "Somali",
    "eastern_european": "Eastern European",
    "gypsy_roma_traveller": "Gypsy, Roma and Traveller",
    "lgbtq": "LGBTQ+",
    "deaf": "Deaf",
    "autistic": "autistic",
    "faith_muslim": "Muslim",
    "faith_christian": "Christian",
    "faith_sikh": "Sikh",
    "young_adults": "young",
    "older_people": "older",
    "welsh_speaking": "Welsh-speaking",
}
_NOUN: Final = {
    "women": "women",
    "men": "men",
    "carers": "carers",
    "veterans": "veterans",
    "refugees_asylum": "refugees and people seeking asylum",
}
_AFTER: Final = {"learning_disability": "with a learning disability"}
# Nouns that already name people of a gender, so "Muslim women", not "Muslim people".
_GENDER_ORDER: Final = ("women", "men")
_TERMS: Final = [t.code for t in COMMUNITIES.terms]
_FORMAT: Final = {"online": "online", "in_person": "in person", "hybrid": "online or in person"}


def join_words(items: list[str], last: str = "and") -> str:
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + f" {last} " + items[-1]


def _name(code: str, names: Mapping[str, str]) -> str:
    if code in names:
        return names[code]
    try:
        return COMMUNITIES.label(code)
    except KeyError:
        return code.removeprefix("added_").replace("_", " ")


def community_people(code: str, names: Mapping[str, str] | None = None) -> str:
    """The people of one community: "Deaf people", "women", "Somali people"."""
    if code in _NOUN:
        return _NOUN[code]
    if code == "young_adults":
        return "young adults"
    if code in _AFTER:
        return f"people {_AFTER[code]}"
    if code in _ADJECTIVE:
        return f"{_ADJECTIVE[code]} people"
    return f"people of the {_name(code, names or {})} community"


def only_phrase(codes: Iterable[str], names: Mapping[str, str] | None = None) -> str:
    """The people a group is for when it is for all of ``codes`` at once:
    {"men", "somali", "faith_muslim"} gives "Somali Muslim men"."""
    names = names or {}
    chosen = sorted(set(codes), key=_order)
    if not chosen:
        return "everyone"
    nouns = [_NOUN[c] for c in chosen if c in _NOUN]
    adjectives = [_ADJECTIVE[c] for c in chosen if c in _ADJECTIVE]
    after = [_AFTER[c] for c in chosen if c in _AFTER]
    others = [_name(c, names) for c in chosen if c not in _NOUN | _ADJECTIVE | _AFTER]
    genders = [n for n in nouns if n in _GENDER_ORDER]
    roles = [n for n in nouns if n not in _GENDER_ORDER]
    head = join_words(genders, "or") if genders else (roles.pop(0) if roles else "people")
    phrase = " ".join([*adjectives, head])
    tails = [f"who are {r}" for r in roles] + after
    if others:
        tails.append("of the " + join_words(others) + " community")
    if tails:
        phrase += " " + join_words(tails)
    return phrase


def _order(code: str) -> tuple[int, str]:
    # Adjectives in the taxonomy's order read naturally ("older Deaf", "South Asian Muslim").
    if code in ("young_adults", "older_people"):
        return (-1, code)  # ages first: "older Deaf people"
    return (_TERMS.index(code) if code in _TERMS else len(_TERMS), code)


def _ages(group: GroupProfile) -> str:
    if group.age_min is not None and group.age_max is not None:
        return f"ages {group.age_min} to {group.age_max}"
    if group.age_min is not None:
        return f"ages {group.age_min} and over"
    if group.age_max is not None:
        return f"ages up to {group.age_max}"
    return ""


def _languages(group: GroupProfile) -> str:
    parts = []
    if group.languages:
        parts.append("meets in " + join_words([language_name(t) for t in group.languages]))
    if group.interpretation:
        names = join_words([language_name(t) for t in group.interpretation])
        parts.append(f"with interpretation into {names}")
    return ", ".join(parts)


def who_line(group: GroupProfile) -> str:
    """Who the group is for, its languages, ages, format and place, in one line."""
    names = dict(group.community_names)
    focus = sorted(group.communities - group.only_communities, key=_order)
    focus_text = join_words([community_people(c, names) for c in focus])
    if group.only_communities:
        people = only_phrase(group.only_communities, names)
        first = f"For {people} only"
        if focus:
            first += f", focusing on {focus_text}"
    elif focus:
        first = f"Open to everyone, focusing on {focus_text}"
    else:
        first = "Open to everyone"
    parts = [first]
    spoken = _languages(group)
    if spoken:
        parts.append(spoken)
    ages = _ages(group)
    if ages:
        parts.append(ages)
    where = _FORMAT[group.format]
    if group.format != "online" and group.area and group.area.lower() not in ("online", "unknown"):
        where = f"{where}, {group.area}"
    parts.append(where)
    return "; ".join(parts)
