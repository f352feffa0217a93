"""Words the engine says (reasons, mismatches, what was widened, next steps), kept
translatable without leaving the engine's purity (tests/matching/test_purity.py).

A :class:`Text` *is* its British English (a ``str``: the engine's tests, the logs and
the API read it as before) and also carries its message id and values, so a page can
show it in the person's language (peerhub/finding/wording.py, ``render``). ``_`` and
``ngettext`` here only build Texts: ``make messages`` extracts their literal message
ids like any other. Values may be Texts themselves (a language's name, a label), so
each part is translated too; :class:`TextList` is a list said in the page's language
("Urdu, Punjabi and English").
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, Literal, cast

from peerhub.languages import english_name

__all__ = ["Text", "TextList", "_", "and_list", "language", "ngettext", "or_list", "verbatim"]

Kind = Literal["message", "language", "verbatim", "weekday", "date", "time", "number"]


class Text(str):
    """British English text that remembers how to be said in another language."""

    msgid: str
    values: Mapping[str, Any]
    plural: str | None
    kind: Kind

    def __new__(
        cls,
        english: str,
        msgid: str,
        values: Mapping[str, Any] | None = None,
        plural: str | None = None,
        kind: Kind = "message",
    ) -> Text:
        obj = super().__new__(cls, english)
        obj.msgid = msgid
        obj.values = dict(values or {})
        obj.plural = plural
        obj.kind = kind
        return obj

    def __add__(self, other: str) -> str:  # plain English once joined by hand
        return str(self) + other


def _(msgid: str, **values: Any) -> Text:
    """A message in British English, with ``%(name)s`` values filled in."""
    english = msgid % {k: str(v) for k, v in values.items()} if values else msgid
    return Text(english, msgid, values)


def ngettext(singular: str, plural: str, n: int, **values: Any) -> Text:
    """A message whose form depends on ``n`` (``%(num)s``), in British English."""
    chosen = singular if n == 1 else plural
    english = chosen % {"num": n, **{k: str(v) for k, v in values.items()}}
    return Text(english, singular, {"num": n, **values}, plural=plural)


def language(tag: str) -> Text:
    """A language's name: English here, the page's language on a page (CLDR)."""
    return Text(english_name(tag), tag, kind="language")


def verbatim(text: str) -> Text:
    """Text that is the same in every language (a place's name, a group's own words)."""
    return Text(text, text, kind="verbatim")


class TextList(Text):
    """Items said as a list: "a, b and c" (or "a, b or c"), or the parts of one line
    ("for everyone; meets in Welsh; online")."""

    items: tuple[str, ...]
    style: Literal["standard", "or", "parts"]

    def __new__(
        cls,
        items: Iterable[str],
        style: Literal["standard", "or", "parts"] = "standard",
        english: str | None = None,
    ) -> TextList:
        found = tuple(items)
        last = " or " if style == "or" else " and "
        if english is None and style == "parts":
            english = "; ".join(found)
        elif english is None:
            english = (
                "".join(found) if len(found) <= 1 else ", ".join(found[:-1]) + last + found[-1]
            )
        obj = cast(TextList, super().__new__(cls, english, english, kind="verbatim"))
        obj.items = found
        obj.style = style
        return obj


def and_list(items: Iterable[str]) -> TextList:
    return TextList(items, "standard")


def or_list(items: Iterable[str]) -> TextList:
    return TextList(items, "or")
