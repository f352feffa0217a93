"""The languages a group meets in, and offers interpretation into, as organisers type them.

Organisers choose languages by name, in English or in the language itself ("Welsh",
"Cymraeg", "British Sign Language", "BSL", "اردو"); codes still work ("cy", "bfi").
:mod:`peerhub.languages` turns each into one canonical BCP 47 tag, which is what is
stored. A name that means several languages ("Chinese", "sign language") is refused
with the choices, so that the group says which it meets in.
"""

from __future__ import annotations

from collections.abc import Sequence

from peerhub import languages
from peerhub.errors import FieldError
from peerhub.i18n import _, ngettext


def _one(piece: str, field: str) -> list[str]:
    try:
        return [languages.parse(piece)]
    except languages.LanguageQuestion as q:
        from peerhub.finding import wording

        shown = wording.say_list([wording.language_name(t) for t in q.choices], alternatives=True)
        raise FieldError(
            field,
            _(
                "“%(asked)s” could mean several languages. Say which the group uses: %(shown)s.",
                asked=q.asked,
                shown=shown,
            ),
        ) from q
    except languages.LanguageError as exc:
        # Codes separated by spaces, as the form once asked for: "en cy".
        words = piece.split()
        if len(words) > 1:
            tags = [languages.canonical_tag(w) for w in words]
            if all(tags):
                return [t for t in tags if t]
        raise FieldError(field, exc.message) from exc


def language_list(raw: Sequence[str], field: str, limit: int = 12) -> list[str]:
    """Canonical tags from one or more entries (each may hold several, separated by
    commas), checked, in order, without repeats."""
    return list(typed_languages(raw, field, limit))


#: The longest wording of a language kept as the organiser typed it.
LABEL_LIMIT = 64


def typed_languages(raw: Sequence[str], field: str, limit: int = 12) -> dict[str, str]:
    """Like :func:`language_list`, keeping each language as the organiser typed it:
    canonical tag → their wording ("" when they gave the code itself, or several codes
    in one entry). What people call their language is theirs; the tag is for matching."""
    out: dict[str, str] = {}
    for entry in raw:
        for piece in entry.split(","):
            if not piece.strip():
                continue
            tags = _one(piece, field)
            typed = " ".join(piece.split())
            for tag in tags:
                if tag in out:
                    continue
                kept = len(tags) == 1 and typed.casefold() != tag.casefold()
                out[tag] = typed[:LABEL_LIMIT] if kept else ""
    if len(out) > limit:
        raise FieldError(
            field,
            ngettext("Give at most %(num)s language.", "Give at most %(num)s languages.", limit),
        )
    return out


def typed_name(tag: str, label: str = "") -> str:
    """What to put back in a language box for a stored tag: the organiser's own wording
    when it was kept (``label``), else its English name, which reads back as the same
    tag (the tag itself for the rare name that does not, such as "Chinese", which is a
    question)."""
    if label:
        return label
    name = languages.english_name(tag)
    try:
        if languages.parse(name) == tag:
            return name
    except languages.LanguageError:
        pass
    return tag


def check_language_tag(raw: str, field: str) -> str:
    """One language, by name or code, as its canonical tag; FieldError for ``field``."""
    tags = _one(raw, field)
    if len(tags) != 1:
        raise FieldError(field, _("Give one language here."))
    return tags[0]
