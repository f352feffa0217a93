"""Crisis contacts that fit the person: sign language, language and nation.

The deployment configures its contacts (``peerhub.config``: ``crisis_contacts`` are shown on
every page, ``crisis_routes`` are all of them, including routes shown only where they
fit). :func:`fit` chooses and orders them for one person:

* **Sign language** (someone who listed BSL, ISL or another sign language): routes marked
  ``sign_language`` (999 BSL, emergencySMS, textphone lines) and other text or video
  routes come first; voice lines follow, still listed, as someone with them may call.
* **The nation** (from the postcode or town, when given): lines that serve only other
  nations are left out and the nation's own lines come first (Breathing Space and NHS 24
  in Scotland, Lifeline in Northern Ireland, NHS 111 option 2 in England and Wales).
  Without a place, lines limited to one nation are left out, except the general ones
  every page shows.
* **Language**: lines answered in a language the person listed come early (Samaritans'
  Welsh Language Line); someone who did not list English is told how to ask for an
  interpreter (:data:`INTERPRETER_ADVICE`).

Emergency (999) always stays in the list. Pure: no I/O.

Sign languages are recognised by :func:`is_sign_language`, a small documented list of
codes (until the language helper's CLDR-backed parsing lands, see docs/safety/
crisis-contacts.md).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Final

from babel.support import LazyProxy

from peerhub import languages
from peerhub.config import (
    DEFAULT_CRISIS_CONTACTS,
    DEFAULT_FITTED_CONTACTS,
    CrisisContact,
    Settings,
)
from peerhub.i18n import lazy_gettext

__all__ = [
    "INTERPRETER_ADVICE",
    "FittedContacts",
    "contact_dict",
    "fit",
    "is_sign_language",
    "routes_of",
    "speaks_english",
]

#: What to say to someone who did not pick English (source: docs/safety/crisis-contacts.md).
INTERPRETER_ADVICE: Final = lazy_gettext(
    "If you would like an interpreter: call 111 and, when someone answers, say the name "
    "of your language in English, for example “Arabic” or “Polish”. NHS 111 will find an "
    "interpreter for you. It is free, and you do not need to speak English first."
)
#: Northern Ireland has no NHS 111 line for this; the advice there is general.
INTERPRETER_ADVICE_GENERAL: Final = lazy_gettext(
    "If you would like an interpreter: when someone answers, say the name of your "
    "language in English, for example “Arabic” or “Polish”, and ask for an interpreter."
)


#: The nations' names, in the page's language where shown (``nations`` hold the English
#: names as data).
NATION_NAMES: Final[dict[str, LazyProxy]] = {
    "England": lazy_gettext("England"),
    "Scotland": lazy_gettext("Scotland"),
    "Wales": lazy_gettext("Wales"),
    "Northern Ireland": lazy_gettext("Northern Ireland"),
}


def nation_name(nation: str) -> str:
    """A nation's name in the page's language ("Cymru" for "Wales" in Welsh)."""
    found = NATION_NAMES.get(nation)
    return nation if found is None else str(found)


def _primary(tag: str) -> str:
    """The language of a tag, old and three-letter forms included ("eng", "cym" and
    "cy-GB" are all "cy" or "en"), from peerhub/languages.py's CLDR canonical form."""
    canon = languages.canonical_tag(tag) or tag.strip().lower()
    return canon.split("-")[0]


def is_sign_language(tag: str) -> bool:
    """Whether a BCP 47 tag names a sign language ("bfi", "sgn-GB", "ase"). Language
    names ("BSL") are turned into tags before this is asked (peerhub/languages.py)."""
    return languages.is_sign_language(tag)


def speaks_english(tags: Iterable[str]) -> bool:
    return any(_primary(t) == "en" for t in tags)


@dataclass(frozen=True, slots=True)
class FittedContacts:
    """The contacts for one person, best first, and what to say about interpreters."""

    contacts: tuple[CrisisContact, ...]
    interpreter: str | None  # in the language of the request that fitted them
    sign_language: bool
    nation: str | None


def fit(
    routes: Sequence[CrisisContact],
    *,
    languages: Sequence[str] = (),
    nation: str | None = None,
) -> FittedContacts:
    """Choose and order ``routes`` for someone with these languages (BCP 47 tags, in the
    order they gave them) in this nation (None when unknown)."""
    signs = any(is_sign_language(t) for t in languages)
    spoken = {_primary(t) for t in languages}
    chosen: list[tuple[tuple[int, int, int, int], int, CrisisContact]] = []
    for order, c in enumerate(routes):
        if c.nations and (nation not in c.nations if nation else not c.general):
            continue
        if c.sign_language and not signs:
            continue
        if c.languages and not spoken & {_primary(t) for t in c.languages}:
            continue
        emergency = c.href == "tel:999"
        key = (
            # For someone who signs: BSL and text routes first, voice lines after.
            0 if not signs else (0 if c.sign_language else 1 if "voice" not in c.modes else 2),
            # A line in their own language, then their nation's own lines.
            0 if c.languages else 1,
            # (Sign-language routes keep the configured order: 999 BSL first.)
            0 if c.nations and nation in c.nations and not c.sign_language else 1,
            # 999 by voice last among the rest (its BSL and text routes lead for signers).
            1 if emergency else 0,
        )
        chosen.append((key, order, c))
    chosen.sort(key=lambda item: (item[0], item[1]))
    interpreter = None
    if languages and not speaks_english(languages) and not signs:
        interpreter = str(
            INTERPRETER_ADVICE_GENERAL if nation == "Northern Ireland" else INTERPRETER_ADVICE
        )
    return FittedContacts(tuple(c for _, _, c in chosen), interpreter, signs, nation)


def routes_of(settings: Settings) -> tuple[CrisisContact, ...]:
    """Every contact the deployment configured, fitted ones included."""
    if settings.crisis_routes:
        return settings.crisis_routes
    if settings.crisis_contacts == DEFAULT_CRISIS_CONTACTS:
        return DEFAULT_CRISIS_CONTACTS + DEFAULT_FITTED_CONTACTS
    return settings.crisis_contacts


def contact_dict(c: CrisisContact) -> dict[str, object]:
    """A contact as the API shows it: its words in the request's language."""
    return {
        "name": c.name,
        "how": c.how_text,
        "description": c.description_text,
        "href": c.href,
        "modes": list(c.modes),
        "nations": list(c.nations),
        "sign_language": c.sign_language,
        "languages": list(c.languages),
        "hours": c.hours_text or None,
    }
