"""The languages of the interface: catalogues, the request's language, formatting.

Every string a person reads is written in British English in the code and the
templates and looked up in a gettext catalogue (``peerhub/locale/<locale>/LC_MESSAGES``)
for the language of the request. The catalogues are PO files, extracted and compiled
with Babel's ``pybabel`` (``make messages``, ``make translations``); see
docs/translating.md. Dates, numbers and plurals come from Babel's CLDR data.

Two domains: ``messages`` (Python and templates) and ``js`` (the browser's scripts,
served as JSON by :func:`js_catalogue`).

The language of the request lives in a context variable set by
:class:`LocaleMiddleware`; :func:`gettext` and friends read it, so code that builds a
message (an error, a reason a group fits) needs no request object.
"""

from __future__ import annotations

import contextlib
import io
import re
from collections.abc import Iterator, Mapping
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, tzinfo
from functools import cache
from pathlib import Path
from typing import Any, ClassVar, Literal
from zoneinfo import ZoneInfo

from babel import Locale, UnknownLocaleError, dates, lists, numbers
from babel.messages.catalog import Catalog
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import LazyProxy, NullTranslations, Translations
from markupsafe import Markup, escape

LOCALE_DIR = Path(__file__).parent / "locale"
DOMAINS = ("messages", "js")
SOURCE = "en_GB"
# The shipped languages, in the order the picker lists them (CLDR identifiers).
SHIPPED: tuple[str, ...] = ("en_GB", "cy", "ur", "ar", "pl", "so", "pa", "bn", "zh_Hant")
# A pseudo-language for tests only: every string accented and bracketed, so a page
# with any plain English left in it shows it (tests/i18n/test_pseudo_locale.py).
PSEUDO = "qps"
LANG_COOKIE = "peerhub_lang"
LONDON = ZoneInfo("Europe/London")


@dataclass(frozen=True, slots=True)
class Language:
    """One language of the interface."""

    identifier: str  # CLDR/Babel: "zh_Hant"
    tag: str  # BCP 47, for lang="", URLs and cookies: "zh-Hant"
    name: str  # in itself: "繁體中文"
    english: str  # "Chinese, Traditional"
    direction: str  # "ltr" or "rtl"

    @property
    def locale(self) -> Locale:
        return _babel_locale(self.identifier)


@cache
def _babel_locale(identifier: str) -> Locale:
    return Locale.parse(SOURCE if identifier == PSEUDO else identifier)


def _language(identifier: str) -> Language:
    if identifier == PSEUDO:
        return Language(PSEUDO, "en-XA", "Ƥšéûđö", "Pseudo-language (tests)", "ltr")
    loc = Locale.parse(identifier)
    key = str(loc)
    own = loc.languages.get(key) if loc.script else None
    name = own or loc.languages.get(loc.language) or loc.get_display_name(loc) or key
    english_loc = Locale.parse("en")
    english = english_loc.languages.get(key) if loc.script else None
    return Language(
        identifier=key,
        tag=key.replace("_", "-"),
        # A name starts a line in the picker: capitalised as a heading would be
        # ("polski" → "Polski"); scripts without case are unchanged.
        name=name[:1].upper() + name[1:],
        english=english or english_loc.languages.get(loc.language) or key,
        direction=loc.text_direction,
    )


_languages: dict[str, Language] = {i: _language(i) for i in SHIPPED}
_pseudo_enabled = False


def languages() -> tuple[Language, ...]:
    """The languages a person can choose (the pseudo-language only when enabled)."""
    found = tuple(_languages[i] for i in SHIPPED)
    return (*found, _languages[PSEUDO]) if _pseudo_enabled else found


def enable_pseudo(enabled: bool = True) -> None:
    """Offer the pseudo-language (tests and ``PEERHUB_PSEUDO_LOCALE=1`` only)."""
    global _pseudo_enabled
    _pseudo_enabled = enabled
    if enabled:
        _languages[PSEUDO] = _language(PSEUDO)


def by_tag(tag: str | None) -> Language | None:
    """The shipped language a tag names exactly (any case, "-" or "_"), else None."""
    if not tag:
        return None
    wanted = tag.strip().replace("_", "-").casefold()
    for lang in languages():
        if lang.tag.casefold() == wanted or lang.identifier.casefold() == wanted:
            return lang
    return None


# -- catalogues ---------------------------------------------------------------------------


def _compile(po_path: Path) -> Translations:
    """A catalogue from its .mo file, or compiled in memory from the .po when the .mo is
    missing or older (a fresh checkout serves every language without a build step)."""
    mo_path = po_path.with_suffix(".mo")
    if mo_path.exists() and mo_path.stat().st_mtime >= po_path.stat().st_mtime:
        with mo_path.open("rb") as f:
            return Translations(f, domain=po_path.stem)
    with po_path.open("rb") as f:
        catalog = read_po(f, locale=po_path.parent.parent.name, domain=po_path.stem)
    buffer = io.BytesIO()
    write_mo(buffer, catalog)
    buffer.seek(0)
    return Translations(buffer, domain=po_path.stem)


@cache
def translations(identifier: str, domain: str = "messages") -> NullTranslations:
    """The catalogue of one language and domain (British English: the source itself)."""
    if identifier == PSEUDO:
        return _pseudo_translations(domain)
    po_path = LOCALE_DIR / identifier / "LC_MESSAGES" / f"{domain}.po"
    if identifier == SOURCE or not po_path.exists():
        return NullTranslations()
    return _compile(po_path)


def reload() -> None:
    """Forget loaded catalogues (tests that write catalogues, ``make translations``)."""
    translations.cache_clear()
    catalogue.cache_clear()
    is_draft.cache_clear()


@cache
def catalogue(identifier: str, domain: str = "messages") -> Catalog | None:
    """The PO catalogue itself, for coverage and review figures (None for the source)."""
    po_path = LOCALE_DIR / identifier / "LC_MESSAGES" / f"{domain}.po"
    if identifier in (SOURCE, PSEUDO) or not po_path.exists():
        return None
    with po_path.open("rb") as f:
        return read_po(f, locale=identifier, domain=domain)


# -- the pseudo-language -------------------------------------------------------------------

_ACCENTS = str.maketrans(
    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ",
    "àƀçđéƒĝĥîĵķļɱñöƥɋŕšţûṽŵẋýžÀƁÇĐÉƑĜĤÎĴĶĻṀÑÖƤɊŔŠŢÛṼŴẊÝŽ",
)
# Left as they are: placeholders, tags, entities.
_KEEP = re.compile(r"%\([^)]*\)[-#0 +]*\d*(?:\.\d+)?[sdifr]|%%|%[sd]|<[^>]*>|&[#\w]+;")
PSEUDO_OPEN, PSEUDO_CLOSE = "⟦", "⟧"


def pseudo(text: str) -> str:
    """``"Find a %(what)s"`` → ``"⟦Ƒîñđ à %(what)s⟧"``: accented, bracketed, placeholders kept."""
    out: list[str] = []
    last = 0
    for m in _KEEP.finditer(text):
        out.append(text[last : m.start()].translate(_ACCENTS))
        out.append(m.group(0))
        last = m.end()
    out.append(text[last:].translate(_ACCENTS))
    return PSEUDO_OPEN + "".join(out) + PSEUDO_CLOSE


class PseudoTranslations(NullTranslations):
    """Every string looked up comes back accented and bracketed; the strings looked up
    are recorded by domain, so a test can check each is in that domain's extracted
    template (messages.pot for the server, js.pot for the scripts)."""

    looked_up: ClassVar[dict[str, set[str]]] = {}

    def __init__(self, domain: str = "messages") -> None:
        super().__init__()
        self.seen = self.looked_up.setdefault(domain, set())

    def gettext(self, message: str) -> str:
        self.seen.add(message)
        return pseudo(message)

    def ngettext(self, singular: str, plural: str, n: int) -> str:
        self.seen.add(singular)
        return pseudo(singular if n == 1 else plural)

    def pgettext(self, context: str, message: str) -> str:
        self.seen.add(message)
        return pseudo(message)

    def npgettext(self, context: str, singular: str, plural: str, num: int) -> str:
        self.seen.add(singular)
        return pseudo(singular if num == 1 else plural)


def _pseudo_translations(domain: str) -> NullTranslations:
    return PseudoTranslations(domain)


# -- the request's language --------------------------------------------------------------

_current: ContextVar[Language] = ContextVar("peerhub_language")


def current() -> Language:
    """The language of the request being served (British English outside one)."""
    return _current.get(_languages[SOURCE])


def activate(lang: Language) -> None:
    _current.set(lang)


@contextlib.contextmanager
def using(lang: Language | str | None) -> Iterator[Language]:
    """Run a block in a language (an e-mail in the account's language, say)."""
    chosen = lang if isinstance(lang, Language) else by_tag(lang) or _languages[SOURCE]
    token = _current.set(chosen)
    try:
        yield chosen
    finally:
        _current.reset(token)


_easy: ContextVar[bool] = ContextVar("peerhub_easy_read", default=False)


def easy_read() -> bool:
    """Whether this request is shown in Easy Read (peerhub/web/language.py)."""
    return _easy.get()


def set_easy_read(on: bool) -> None:
    _easy.set(on)


def _t(domain: str = "messages") -> NullTranslations:
    return translations(current().identifier, domain)


def gettext(message: str, **values: Any) -> str:
    """``message`` in the request's language, then ``% values`` when any are given."""
    text = _t().gettext(message)
    return text % values if values else text


def ngettext(singular: str, plural: str, n: int, **values: Any) -> str:
    """The plural form CLDR chooses for ``n`` in the request's language; ``%(num)s`` is n."""
    text = _t().ngettext(singular, plural, n)
    return text % {"num": format_number(n), **values}


def pgettext(context: str, message: str, **values: Any) -> str:
    """Like :func:`gettext`, for a word whose meaning depends on ``context``."""
    text = str(_t().pgettext(context, message))
    return text % values if values else text


def lazy_gettext(message: str, **values: Any) -> LazyProxy:
    """For strings defined at import time: translated each time they are shown."""
    return LazyProxy(gettext, message, enable_cache=False, **values)


_ = gettext


# Jinja's i18n extension (newstyle) formats and escapes itself: it gets these raw ones.
def _jinja_gettext(message: str) -> str:
    return _t().gettext(message)


def _jinja_ngettext(singular: str, plural: str, n: int) -> str:
    return _t().ngettext(singular, plural, n)


def _jinja_pgettext(context: str, message: str) -> str:
    return str(_t().pgettext(context, message))


def _jinja_npgettext(context: str, singular: str, plural: str, n: int) -> str:
    return _t().npgettext(context, singular, plural, n)


def install(env: Any) -> None:
    """Give a Jinja environment ``{% trans %}``, ``_()``, the formatters and ``lang_attrs``."""
    env.add_extension("jinja2.ext.i18n")
    env.policies["ext.i18n.trimmed"] = True
    env.install_gettext_callables(
        _jinja_gettext,
        _jinja_ngettext,
        newstyle=True,
        pgettext=_jinja_pgettext,
        npgettext=_jinja_npgettext,
    )
    env.globals["current_language"] = current
    env.globals["interface_languages"] = languages
    env.globals["lang_attrs"] = lang_attrs
    env.globals["is_draft"] = is_draft
    for formatter in (
        format_datetime,
        format_date,
        format_time,
        format_number,
        format_list,
        format_timedelta,
    ):
        env.filters[formatter.__name__] = formatter


# -- text in another language inside a page ----------------------------------------------


def lang_attrs(tag: str | None) -> Markup:
    """`` lang="ur" dir="rtl"`` for text in a language other than the page's, else ``""``.

    The tag may be any BCP 47 tag (a group's own language); the direction comes from
    CLDR through Babel, and is given only when it differs from the page's.
    """
    if not tag:
        return Markup("")
    page = current()
    try:
        loc = Locale.parse(tag.replace("-", "_"))
    except (ValueError, TypeError, UnknownLocaleError):
        # A language CLDR has no data for (British Sign Language, bfi): no attributes,
        # the caller marks the text with its tag alone.
        return Markup("")
    if str(loc).replace("_", "-").casefold() == page.tag.casefold():
        return Markup("")
    attrs = f' lang="{escape(tag)}"'
    if loc.text_direction != page.direction:
        attrs += f' dir="{loc.text_direction}"'
    return Markup(attrs)  # noqa: S704 - built from an escaped tag and a fixed word


# -- formatting (CLDR through Babel) -------------------------------------------------------


def _loc() -> Locale:
    return current().locale


def _shown(text: str) -> str:
    """Formatted text as shown: in the pseudo-language, accented like every other word,
    so that a test can tell a formatted date from English left in a template."""
    return pseudo(text) if current().identifier == PSEUDO else text


def _local(value: datetime, tz: tzinfo | None) -> datetime:
    if value.tzinfo is None:
        from datetime import UTC

        value = value.replace(tzinfo=UTC)
    return value.astimezone(tz or LONDON)


def format_datetime(
    value: datetime | None, format: str = "medium", tz: tzinfo | None = None
) -> str:
    """A moment in the page's language, in UK time unless ``tz`` is given."""
    if value is None:
        return ""
    return _shown(dates.format_datetime(_local(value, tz), format=format, locale=_loc()))


def format_date(
    value: date | datetime | None, format: str = "medium", tz: tzinfo | None = None
) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        value = _local(value, tz).date()
    return _shown(dates.format_date(value, format=format, locale=_loc()))


def format_time(
    value: time | datetime | None, format: str = "short", tz: tzinfo | None = None
) -> str:
    """A time of day: 24-hour in British English, as CLDR has it for each language."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        value = _local(value, tz)
    return _shown(dates.format_time(value, format=format, locale=_loc()))


def format_skeleton(value: datetime, skeleton: str, tz: tzinfo | None = None) -> str:
    """A moment by CLDR skeleton (``"EEEEdMMMM"`` → "Tuesday 3 March" in en-GB)."""
    return _shown(dates.format_skeleton(skeleton, _local(value, tz), locale=_loc()))


def day_name(weekday: int, width: Literal["wide", "abbreviated"] = "wide") -> str:
    """A day's name (Monday is 0) in the page's language, from CLDR ("Tuesday",
    "Dydd Mawrth", "wtorek", "الثلاثاء")."""
    return _shown(str(_loc().days["format"][width][weekday]))


_OFFSET = re.compile(r"(GMT)?[+-]\d{1,2}(:?\d{2})?")


def zone_name(moment: datetime) -> str:
    """The name of a moment's time zone as the page's language writes it (CLDR): the
    short name where the language has one ("GMT", "BST" in British English), else the
    long one ("Amser Haf Prydain"), never a bare offset such as "+0100"."""
    if moment.tzinfo is None:
        return ""
    short = dates.format_datetime(moment, "z", locale=_loc())
    if _OFFSET.fullmatch(short):
        short = dates.format_datetime(moment, "zzzz", locale=_loc())
    return _shown(short)


def format_number(value: float | int | None) -> str:
    if value is None:
        return ""
    return numbers.format_decimal(value, locale=_loc())


ListStyle = Literal[
    "standard", "standard-short", "or", "or-short", "unit", "unit-short", "unit-narrow"
]


def format_list(values: list[str] | tuple[str, ...], style: ListStyle = "standard") -> str:
    """``["a", "b", "c"]`` → "a, b and c" (in the page's language)."""
    if not values:
        return ""
    if current().identifier != PSEUDO:
        return lists.format_list(list(values), style=style, locale=_loc())
    # The pseudo-language: the list's own words ("and") accented like every other word
    # (the items are the caller's, already shown), so the page check can tell them apart.
    marks = [f"\x01{i}\x02" for i in range(len(values))]
    pattern = lists.format_list(marks, style=style, locale=_loc())
    parts = re.split(r"(\x01\d+\x02)", pattern)
    return "".join(
        values[int(part[1:-1])] if part.startswith("\x01") else part.translate(_ACCENTS)
        for part in parts
    )


def format_timedelta(seconds: float, threshold: float = 0.85) -> str:
    """ "5 minutes", "2 days": a duration in words in the page's language."""
    return _shown(
        dates.format_timedelta(timedelta(seconds=seconds), threshold=threshold, locale=_loc())
    )


# -- choosing the language of a request ------------------------------------------------------

_AL_ITEM = re.compile(
    r"^\s*([A-Za-z]{1,8}(?:-[A-Za-z0-9]{1,8})*|\*)\s*(?:;\s*q\s*=\s*([0-9.]+))?\s*$"
)


def parse_accept_language(header: str | None) -> list[str]:
    """The tags of an ``Accept-Language`` header, most wanted first (bad items skipped)."""
    if not header:
        return []
    found: list[tuple[float, int, str]] = []
    for index, item in enumerate(header.split(",")[:32]):
        m = _AL_ITEM.match(item)
        if not m or m.group(1) == "*":
            continue
        try:
            q = float(m.group(2)) if m.group(2) else 1.0
        except ValueError:
            continue
        if 0 < q <= 1:
            found.append((-q, index, m.group(1)))
    return [tag for _q, _i, tag in sorted(found)]


def negotiate(header: str | None) -> Language | None:
    """The shipped language closest to what the browser asks for (CLDR's matching data
    through langcodes: "zh-HK" and "yue" find Traditional Chinese, "cy-GB" Welsh)."""
    import langcodes

    supported = [lang.tag for lang in languages() if lang.identifier != PSEUDO]
    for tag in parse_accept_language(header):
        if by_tag(tag) is not None:
            return by_tag(tag)
        try:
            match = langcodes.closest_supported_match(tag, supported, max_distance=25)
        except (ValueError, LookupError):
            continue
        if match:
            return by_tag(match)
    return None


def choose(
    *,
    query: str | None,
    account: str | None,
    cookie: str | None,
    accept_language: str | None,
) -> Language:
    """A shared ``?lang=`` link first, then the account's choice, the cookie, the browser."""
    for explicit in (query, account, cookie):
        lang = by_tag(explicit)
        if lang is not None:
            return lang
    return negotiate(accept_language) or _languages[SOURCE]


def js_catalogue(lang: Language) -> dict[str, Any]:
    """The ``js`` domain as JSON for peerhub/static/js/i18n.js: msgid → text, or for plurals
    msgid → {CLDR plural category: text} (the browser picks with ``Intl.PluralRules``)."""
    trans = translations(lang.identifier, "js")
    samples = _plural_samples(lang)
    out: dict[str, Any] = {}
    for message in _js_source_catalog():
        if not message.id:
            continue
        if isinstance(message.id, tuple | list):
            singular, plural = message.id[0], message.id[1]
            # The catalogue's own plural rule (its Plural-Forms) chooses the form for a
            # number of each CLDR category: the same form Python would show.
            out[singular] = {tag: trans.ngettext(singular, plural, n) for tag, n in samples}
        else:
            text = trans.gettext(message.id)
            if text != message.id:
                out[message.id] = text
    return out


@cache
def _plural_samples(lang: Language) -> tuple[tuple[str, int], ...]:
    """One whole number of each CLDR plural category of a language ("one": 1, "few": 3…)."""
    found: dict[str, int] = {}
    rule = lang.locale.plural_form
    for n in (*range(0, 200), 1000, 1000000):
        found.setdefault(rule(n), n)
    return tuple(found.items())


@cache
def _js_source_catalog() -> Catalog:
    template = LOCALE_DIR / "js.pot"
    if not template.exists():
        return Catalog()
    with template.open("rb") as f:
        return read_po(f, domain="js")


def coverage(identifier: str) -> Mapping[str, int]:
    """How much of a language is translated and reviewed, over both domains."""
    total = translated = reviewed = 0
    for domain in DOMAINS:
        cat = catalogue(identifier, domain)
        if cat is None:
            continue
        for message in cat:
            if not message.id:
                continue
            total += 1
            strings = (
                message.string if isinstance(message.string, tuple | list) else [message.string]
            )
            done = all(strings) and "fuzzy" not in message.flags
            translated += done
            reviewed += done and REVIEWED_FLAG in message.flags
    return {"total": total, "translated": translated, "reviewed": reviewed}


@cache
def is_draft(identifier: str) -> bool:
    """Whether a language has entries no fluent speaker has reviewed yet (its pages say so)."""
    if identifier in (SOURCE, PSEUDO):
        return False
    figures = coverage(identifier)
    return figures["reviewed"] < figures["total"] or figures["total"] == 0


# A PO flag a fluent speaker sets on an entry they have checked (docs/translating.md).
REVIEWED_FLAG = "reviewed"
