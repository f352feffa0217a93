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

from peerhub.taxonomy import COMMUNITIES, N_

from . import text as tx
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


# The people of each community in a phrase of their own, for pages in other languages
# (the English above is built from parts; other languages get the whole phrase).
_PEOPLE: Final = {
    "black_african_caribbean": N_("Black African and Caribbean people"),
    "south_asian": N_("South Asian people"),
    "east_asian": N_("East and South East Asian people"),
    "middle_eastern_north_african": N_("Middle Eastern and North African people"),
    "somali": N_("Somali people"),
    "eastern_european": N_("Eastern European people"),
    "gypsy_roma_traveller": N_("Gypsy, Roma and Traveller people"),
    "lgbtq": N_("LGBTQ+ people"),
    "deaf": N_("Deaf people"),
    "autistic": N_("autistic people"),
    "learning_disability": N_("people with a learning disability"),
    "faith_muslim": N_("Muslim people"),
    "faith_christian": N_("Christian people"),
    "faith_sikh": N_("Sikh people"),
    "young_adults": N_("young adults"),
    "older_people": N_("older people"),
    "women": N_("women"),
    "men": N_("men"),
    "refugees_asylum": N_("refugees and people seeking asylum"),
    "carers": N_("carers"),
    "veterans": N_("veterans"),
    "welsh_speaking": N_("Welsh-speaking people"),
}


def join_words(items: list[str], last: str = "and") -> str:
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + f" {last} " + items[-1]


def _name(code: str, names: Mapping[str, str]) -> str:
    if code in names:
        return tx.verbatim(names[code])
    try:
        found = COMMUNITIES.label(code)
    except KeyError:
        return tx.verbatim(code.removeprefix("added_").replace("_", " "))
    return tx.Text(found, found)


def _english_people(code: str, names: Mapping[str, str]) -> str:
    if code in _NOUN:
        return _NOUN[code]
    if code == "young_adults":
        return "young adults"
    if code in _AFTER:
        return f"people {_AFTER[code]}"
    if code in _ADJECTIVE:
        return f"{_ADJECTIVE[code]} people"
    return f"people of the {_name(code, names)} community"


def community_people(code: str, names: Mapping[str, str] | None = None) -> str:
    """The people of one community: "Deaf people", "women", "Somali people"."""
    english = _english_people(code, names or {})
    if code in _PEOPLE and code not in (names or {}):
        return tx.Text(english, _PEOPLE[code])
    return tx.Text(
        english,
        N_("people of the %(community)s community"),
        {"community": _name(code, names or {})},
    )


def only_phrase(codes: Iterable[str], names: Mapping[str, str] | None = None) -> str:
    """The people a group is for when it is for all of ``codes`` at once:
    {"men", "somali", "faith_muslim"} gives "Somali Muslim men"."""
    names = names or {}
    chosen = sorted(set(codes), key=_order)
    if not chosen:
        return tx._("everyone")
    if len(chosen) == 1:
        return community_people(chosen[0], names)
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
        tails.append("of the " + join_words([str(o) for o in others]) + " community")
    if tails:
        phrase += " " + join_words(tails)
    # Other languages cannot stack the parts the English way: they list the people,
    # and say that the group is for people who are all of them at once.
    people = tx.and_list([community_people(c, names) for c in chosen])
    return tx.Text(phrase, N_("%(people)s (all at once)"), {"people": people})


def _order(code: str) -> tuple[int, str]:
    # Adjectives in the taxonomy's order read naturally ("older Deaf", "South Asian Muslim").
    if code in ("young_adults", "older_people"):
        return (-1, code)  # ages first: "older Deaf people"
    return (_TERMS.index(code) if code in _TERMS else len(_TERMS), code)


def _ages(group: GroupProfile) -> str:
    if group.age_min is not None and group.age_max is not None:
        return tx._("ages %(low)s to %(high)s", low=group.age_min, high=group.age_max)
    if group.age_min is not None:
        return tx._("ages %(low)s and over", low=group.age_min)
    if group.age_max is not None:
        return tx._("ages up to %(high)s", high=group.age_max)
    return ""


def _languages(group: GroupProfile) -> str:
    spoken = tx.and_list([tx.language(t) for t in group.languages])
    into = tx.and_list([tx.language(t) for t in group.interpretation])
    if group.languages and group.interpretation:
        return tx._(
            "meets in %(languages)s, with interpretation into %(into)s",
            languages=spoken,
            into=into,
        )
    if group.languages:
        return tx._("meets in %(languages)s", languages=spoken)
    if group.interpretation:
        return tx._("with interpretation into %(into)s", into=into)
    return ""


def who_line(group: GroupProfile) -> str:
    """Who the group is for, its languages, ages, format and place, in one line."""
    names = dict(group.community_names)
    focus = sorted(group.communities - group.only_communities, key=_order)
    focus_text = tx.and_list([community_people(c, names) for c in focus])
    if group.only_communities:
        people = only_phrase(group.only_communities, names)
        if focus:
            first = tx._(
                "For %(people)s only, focusing on %(focus)s", people=people, focus=focus_text
            )
        else:
            first = tx._("For %(people)s only", people=people)
    elif focus:
        first = tx._("Open to everyone, focusing on %(focus)s", focus=focus_text)
    else:
        first = tx._("Open to everyone")
    parts: list[str] = [first]
    spoken = _languages(group)
    if spoken:
        parts.append(spoken)
    ages = _ages(group)
    if ages:
        parts.append(ages)
    where = {
        "online": tx._("online"),
        "in_person": tx._("in person"),
        "hybrid": tx._("online or in person"),
    }[group.format]
    if group.format != "online" and group.area and group.area.lower() not in ("online", "unknown"):
        where = tx._("%(how)s, %(area)s", how=where, area=tx.verbatim(group.area))
    parts.append(where)
    return tx.TextList(parts, "parts")
