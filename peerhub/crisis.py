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

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Final

from babel.support import LazyProxy

from peerhub import languages
from peerhub.config import (
    CONTACT_NATIONS,
    DEFAULT_CRISIS_CONTACTS,
    DEFAULT_FITTED_CONTACTS,
    CrisisContact,
    Settings,
)
from peerhub.i18n import _, lazy_gettext

__all__ = [
    "INTERPRETER_ADVICE",
    "NATION_COOKIE",
    "FittedContacts",
    "Panel",
    "contact_dict",
    "fit",
    "interpreter_text",
    "is_sign_language",
    "nation_name",
    "panel",
    "parse_nation",
    "routes_of",
    "source_links",
    "source_parts",
    "speaks_english",
    "where_text",
]

#: What to say to someone who did not pick English (source: docs/safety/crisis-contacts.md).
INTERPRETER_ADVICE: Final = lazy_gettext(
    "If you would like an interpreter: call 111 and, when someone answers, say the name "
    "of your language in English, for example “Arabic” or “Polish”. NHS 111 will find an "
    "interpreter for you. It is free, and you do not need to speak English first."
)
#: Where no source says NHS 111 finds interpreters (Scotland, Wales, Northern Ireland),
#: the advice is general.
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


def interpreter_advice(nation: str | None) -> str:
    """The interpreter advice for someone in ``nation``, in the page's language: NHS
    111's (its source is NHS 111 in England) in England or where the nation is not
    known; elsewhere the general advice, which names no service."""
    if nation in (None, "England"):
        return str(INTERPRETER_ADVICE)
    return str(INTERPRETER_ADVICE_GENERAL)


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
        interpreter = interpreter_advice(nation)
    return FittedContacts(tuple(c for _, _, c in chosen), interpreter, signs, nation)


# -- the crisis panel and /crisis: every route, the person's nation first ---------------

#: Ways of naming a nation in ``?nation=`` and the nation cookie ("scotland", "northern-
#: ireland", the ISO 3166-2:GB codes ENG, SCT, WLS, NIR).
_NATION_KEYS: Final[dict[str, str]] = {
    **{n.casefold(): n for n in CONTACT_NATIONS},
    **{n.casefold().replace(" ", "-"): n for n in CONTACT_NATIONS},
    **{n.casefold().replace(" ", "_"): n for n in CONTACT_NATIONS},
    "eng": "England",
    "sct": "Scotland",
    "wls": "Wales",
    "nir": "Northern Ireland",
}
#: The cookie that remembers the nation chosen on /crisis, so that the crisis panel of
#: every page puts that nation's lines first (only the nation: no place is kept).
NATION_COOKIE: Final = "peerhub_nation"


def parse_nation(raw: str | None) -> str | None:
    """One of :data:`~peerhub.config.CONTACT_NATIONS` from what a link or form said;
    None for anything else (nothing is guessed)."""
    if not raw:
        return None
    return _NATION_KEYS.get(raw.strip().casefold()[:40])


def serves(c: CrisisContact, nation: str) -> bool:
    return not c.nations or nation in c.nations


@dataclass(frozen=True, slots=True)
class Panel:
    """Every configured route, grouped for the crisis panel and /crisis.

    With the person's nation known: ``first`` holds that nation's own lines, then the
    general ones that serve it; ``sign`` and ``languages`` only routes that serve it;
    ``nations`` is empty (other nations' lines are left out, as :func:`fit` does).
    Without: ``first`` is the general contacts; ``sign`` every BSL and text route;
    ``nations`` each nation's own lines, under its name; ``languages`` every line in
    another language. No route is listed twice."""

    nation: str | None
    first: tuple[CrisisContact, ...]
    sign: tuple[CrisisContact, ...]
    nations: tuple[tuple[str, tuple[CrisisContact, ...]], ...]
    languages: tuple[CrisisContact, ...]


def panel(routes: Sequence[CrisisContact], nation: str | None = None) -> Panel:
    sign = tuple(c for c in routes if c.sign_language)
    language_lines = tuple(c for c in routes if c.languages and not c.sign_language)
    rest = [c for c in routes if not c.sign_language and not c.languages]
    if nation is not None:
        own = [c for c in rest if c.nations and nation in c.nations]
        serving = [c for c in rest if c.general and serves(c, nation)]
        return Panel(
            nation,
            tuple(own + [c for c in serving if c not in own]),
            tuple(c for c in sign if serves(c, nation)),
            (),
            tuple(c for c in language_lines if serves(c, nation)),
        )
    everyone = tuple(c for c in rest if c.general)
    by_nation = tuple(
        (n, tuple(c for c in rest if not c.general and n in c.nations)) for n in CONTACT_NATIONS
    )
    return Panel(
        None,
        everyone,
        sign,
        tuple((n, lines) for n, lines in by_nation if lines),
        language_lines,
    )


def _nations_words(nations: Sequence[str]) -> str:
    """ "England and Wales": the nations' names as one phrase, in the page's language.
    (Patterns from the catalogue rather than CLDR's list patterns, so that translators
    see each one; a contact serves at most the four nations.)"""
    shown = [nation_name(n) for n in dict.fromkeys(nations)]
    if len(shown) == 1:
        return shown[0]
    if len(shown) == 2:
        # TRANSLATORS: two nations of the UK, "England and Wales".
        return _("%(first)s and %(second)s", first=shown[0], second=shown[1])
    if len(shown) == 3:
        # TRANSLATORS: three nations of the UK, "England, Scotland and Wales".
        return _(
            "%(first)s, %(second)s and %(third)s",
            first=shown[0],
            second=shown[1],
            third=shown[2],
        )
    # TRANSLATORS: the four nations of the UK.
    return _(
        "%(first)s, %(second)s, %(third)s and %(fourth)s",
        first=shown[0],
        second=shown[1],
        third=shown[2],
        fourth=shown[3],
    )


def where_text(c: CrisisContact) -> str:
    """The words "Only in England and Wales" for a line limited to nations, in the page's
    language; "" for a UK-wide one."""
    if not c.nations:
        return ""
    return _("Only in %(places)s", places=_nations_words(c.nations))


def interpreter_text(c: CrisisContact) -> str:
    """How to ask for an interpreter, where the contact's source says callers can."""
    if not c.interpreter:
        return ""
    if c.interpreter_nations:
        return _(
            "In %(places)s you can ask for an interpreter: when someone answers, say the "
            "name of your language in English, for example “Arabic” or “Polish”.",
            places=_nations_words(c.interpreter_nations),
        )
    return _(
        "You can ask for an interpreter: when someone answers, say the name of your "
        "language in English, for example “Arabic” or “Polish”."
    )


_URL: Final = re.compile(r"https?://[^\s;,)]+[^\s;,).]")


def source_links(text: str) -> tuple[str, ...]:
    """The web addresses in a contact's ``source``."""
    return tuple(dict.fromkeys(_URL.findall(text)))


def source_parts(text: str) -> tuple[tuple[str, bool], ...]:
    """A contact's ``source`` cut into text and web addresses (``True``), so that /crisis
    can show each address as a link without trusting the text as HTML."""
    parts: list[tuple[str, bool]] = []
    last = 0
    for m in _URL.finditer(text):
        if m.start() > last:
            parts.append((text[last : m.start()], False))
        parts.append((m.group(), True))
        last = m.end()
    if last < len(text):
        parts.append((text[last:], False))
    return tuple(parts)


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
