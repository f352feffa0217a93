"""Words shown to people that come from tables and the matching engine, in the page's
language: language names (CLDR), the taxonomy's labels, and the reasons and next steps
the matching engine gives as :class:`peerhub.matching.text.Text` (a code and values).

The matching engine and the taxonomy stay pure (tests/matching/test_purity.py): they
write British English and mark each message for extraction; the words are chosen
here, when a page is shown, through peerhub.i18n.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from markupsafe import Markup

from peerhub import i18n, languages
from peerhub.matching import MatchResult
from peerhub.matching.text import Text, TextList
from peerhub.taxonomy import COMMUNITIES, Taxonomy


def _source() -> bool:
    return i18n.current().identifier == i18n.SOURCE


def language_name(tag: str) -> str:
    """A language's name in the page's language, from CLDR ("Welsh"; "Cymraeg" on a
    Welsh page; "walijski" on a Polish one)."""
    lang = i18n.current()
    if lang.identifier == i18n.SOURCE:
        return languages.english_name(tag)
    if lang.identifier == i18n.PSEUDO:
        return i18n.pseudo(languages.english_name(tag))
    return languages.name_in(tag, lang.tag)


def label(text: str) -> str:
    """A label the taxonomy marked with ``N_`` ("Deaf", "Step-free access"), translated."""
    return i18n.gettext(text)


def term_label(taxonomy: Taxonomy, code: str) -> str:
    """The label of a term of the taxonomy in the page's language; a code the taxonomy
    does not know (a community added by an organiser) in plain words."""
    try:
        return i18n.gettext(taxonomy.label(code))
    except KeyError:
        return code.removeprefix("added_").replace("_", " ")


def render(value: Any) -> Any:
    """A :class:`Text` (or a list of them) in the page's language; anything else as it
    is. In British English the engine's own words are kept exactly."""
    if isinstance(value, str) and not isinstance(value, Text | TextList):
        return value
    if _source():
        return str(value) if isinstance(value, Text | TextList) else value
    return _render(value)


def render_all(values: Iterable[Any]) -> list[Any]:
    return [render(v) for v in values]


def _render(value: Any) -> Any:
    if isinstance(value, TextList) and value.style == "parts":
        return parts_separator().join(str(_render(v)) for v in value.items)
    if isinstance(value, TextList):
        return say_list([str(_render(v)) for v in value.items], value.style == "or")
    if isinstance(value, Text):
        if value.kind == "language":
            return language_name(value.msgid)
        if value.kind == "verbatim":
            return str(value)
        if value.kind in ("weekday", "date", "time"):
            return _moment(value.kind, datetime.fromisoformat(value.msgid))
        if value.kind == "number":
            return i18n.format_number(float(value.msgid))
        values = {k: _render(v) for k, v in value.values.items()}
        if value.plural is not None:
            n = int(values.pop("num"))
            return i18n.ngettext(value.msgid, value.plural, n, **values)
        return i18n.gettext(value.msgid, **values) if values else i18n.gettext(value.msgid)
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float):
        return i18n.format_number(value)
    return value


def _moment(kind: str, moment: datetime) -> str:
    """A meeting's day, date or time of day, as on the group's own clock (CLDR)."""
    if kind == "weekday":
        return i18n.day_name(moment.weekday())
    if kind == "date":
        return i18n.format_date(moment.date(), "full")
    return i18n.format_time(moment.time())


def shown_result(result: MatchResult) -> MatchResult:
    """The result with every reason, mismatch, widening and next step in the page's
    language (the same result, unchanged, in British English)."""
    if _source():
        return result

    def lines(values: Iterable[str]) -> tuple[str, ...]:
        return tuple(str(render(v)) for v in values)

    items = tuple(
        replace(
            item,
            reasons=lines(item.reasons),
            mismatches=lines(item.mismatches),
            widened=lines(item.widened),
            other_mismatches=lines(item.other_mismatches),
        )
        for item in result.results
    )
    steps = tuple(replace(step, text=str(render(step.text))) for step in result.next_steps)
    return replace(result, results=items, relaxed=lines(result.relaxed), next_steps=steps)


def moderator_here(result: MatchResult, present: Callable[[str], bool]) -> MatchResult:
    """Add "A moderator is here now" to each result whose room has a moderator or
    organiser in it now, as this process's presence knows (peerhub/realtime/presence.py).
    Presence may miss someone (a room with no socket in this process is reported
    empty), never invent one: the line is said only when it is true."""
    if not any(present(item.group_id) for item in result.results):
        return result
    here = i18n.gettext("A moderator is here now")
    items = tuple(
        replace(item, reasons=(*item.reasons, here)) if present(item.group_id) else item
        for item in result.results
    )
    return replace(result, results=items)


@dataclass(frozen=True, slots=True)
class LanguageChoice(languages.Choice):
    """A language to choose, with the ``lang`` (and ``dir``) its own name is marked
    with (_languages.html, ``named``)."""

    attrs: Markup


def own_attrs(tag: str) -> Markup:
    """`` lang="ur" dir="rtl"`` for a language's own name: CLDR's direction where Babel
    knows the language, else the tag alone (British Sign Language, Romani)."""
    try:
        found = i18n.lang_attrs(tag)
    except Exception:
        found = Markup("")
    return found or Markup(' lang="%s"') % tag


def language_choice(tag: str) -> LanguageChoice:
    """A language to choose: its name in the page's language, and its own name."""
    return LanguageChoice(tag, language_name(tag), languages.autonym(tag), own_attrs(tag))


def language_question(question: languages.LanguageQuestion) -> str:
    """ "Which sign language do you use?", "Which Chinese language do you mean?"."""
    if question.any_tag is None:
        return i18n.gettext("Which sign language do you use?")
    return i18n.gettext(
        "Which %(language)s language do you mean?", language=language_name(question.any_tag)
    )


def language_error(error: languages.LanguageError) -> str:
    """The message of a language that could not be taken as given, in the page's
    language (peerhub/languages.py is pure and writes it in British English)."""
    if _source():
        return error.message
    if isinstance(error, languages.LanguageQuestion):
        return i18n.gettext(
            "“%(asked)s” could mean several languages: %(languages)s. %(question)s",
            asked=error.asked,
            languages=say_list([language_name(t) for t in error.choices]),
            question=language_question(error),
        )
    if error.message.startswith("A language name has at most"):
        return i18n.gettext(
            "A language name has at most %(limit)s characters.", limit=languages.MAX_INPUT
        )
    if not error.asked or error.message.startswith("Give a language"):
        return i18n.gettext("Give a language by its name, such as Welsh or Urdu.")
    close = getattr(error, "suggestions", ())
    if close:
        return i18n.gettext(
            "We do not know a language called “%(asked)s”. Did you mean %(languages)s?",
            asked=error.asked,
            languages=say_list([language_name(t) for t in close], alternatives=True),
        )
    return i18n.gettext(
        "We do not know a language called “%(asked)s”. Try its name in English or in the "
        "language itself, such as Welsh or Cymraeg.",
        asked=error.asked,
    )


def community_label(code: str) -> str:
    """A community's label on the organisers' reports; a code the taxonomy does not
    know was someone's own words."""
    try:
        return i18n.gettext(COMMUNITIES.label(code))
    except KeyError:
        return i18n.gettext("%(community)s (in their own words)", community=code)


def parts_separator() -> str:
    """What stands between the parts of a group's description ("Open to everyone;
    meets in Welsh; online"): a semicolon and a space in English, the Arabic semicolon
    "؛" in Arabic and Urdu, the full-width "；" in Chinese. CLDR has list patterns
    only for "and", "or" and units, so the catalogue carries it."""
    return i18n.pgettext(
        "between the parts of a group's description: Open to everyone; in Welsh; online", "; "
    )


def say_list(items: list[str], alternatives: bool = False) -> str:
    """ "a, b and c" (or "a, b or c") as CLDR says it in the page's language. The
    pseudo-language (tests) has British English's data: its joining words are accented
    like any translated word, so a list is seen to come through the catalogue."""
    if i18n.current().identifier == i18n.PSEUDO and len(items) > 1:
        last = i18n.pseudo(" or " if alternatives else " and ")
        return ", ".join(items[:-1]) + last + items[-1]
    return i18n.format_list(items, style="or" if alternatives else "standard")
