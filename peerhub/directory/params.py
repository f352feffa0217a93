"""Query-string parameters of the directory pages, feeds and HSDS API, checked.

Everything that arrives in a URL is parsed here into a :class:`~.query.Search`.
Problems are collected per field (so a form can show all of them at once) and
raised together as :class:`Invalid`; each message is safe to show as text and
never repeats more of the input than the person needs to find their mistake.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, time
from typing import Final, TypeVar

from peerhub import geo, languages, places, taxonomy
from peerhub.directory.query import DAY_CODES, FORMATS, MAX_RADIUS_KM, MAX_WORDS, Near, Search
from peerhub.i18n import SOURCE, current, format_list, format_number, gettext, ngettext

T = TypeVar("T")

MAX_TEXT: Final = 200
MAX_VALUES: Final = 12  # of one repeated parameter
MAX_PAGE: Final = 10_000
WEB_PER_PAGE: Final = 20
HSDS_PER_PAGE: Final = 20
HSDS_MAX_PER_PAGE: Final = 100
KM_PER_MILE: Final = 1.609344
DEFAULT_MILES: Final = 10
MILE_CHOICES: Final = (1, 2, 5, 10, 25, 50)
DEFAULT_PROXIMITY_M: Final = 10_000

DAY_NAMES: Final = tuple(day.lower() for day in taxonomy.DAY_NAMES)
_DAY_LOOKUP: Final[dict[str, int]] = {
    **{name: i for i, name in enumerate(DAY_NAMES)},
    **{name[:3]: i for i, name in enumerate(DAY_NAMES)},
    **{code.lower(): i for i, code in enumerate(DAY_CODES)},
}
_PROXIMITY: Final = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(m|km)?\s*$", re.IGNORECASE)


class Invalid(ValueError):
    """One or more parameters are wrong: ``errors`` maps each field to a message."""

    def __init__(self, errors: Mapping[str, str]) -> None:
        super().__init__("; ".join(f"{k}: {v}" for k, v in errors.items()))
        self.errors = dict(errors)

    @property
    def field(self) -> str:
        return next(iter(self.errors))

    @property
    def message(self) -> str:
        return self.errors[self.field]


class _Collector:
    def __init__(self) -> None:
        self.errors: dict[str, str] = {}

    def check(self, name: str, fn: Callable[[], T], default: T) -> T:
        try:
            return fn()
        except ValueError as exc:
            self.errors.setdefault(name, str(exc))
            return default

    def raise_if_any(self) -> None:
        if self.errors:
            raise Invalid(self.errors)


class Params:
    """Read access to repeated query parameters (``?a=1&a=2`` and ``?a=1,2``)."""

    def __init__(self, items: Sequence[tuple[str, str]]) -> None:
        self._items = list(items)

    def all(self, name: str, *, commas: bool = False) -> list[str]:
        values = [v for k, v in self._items if k == name]
        if commas:
            values = [part for v in values for part in v.split(",")]
        cleaned = [v.strip() for v in values if v.strip()]
        if len(cleaned) > MAX_VALUES:
            raise ValueError(
                ngettext("Give at most %(num)s value.", "Give at most %(num)s values.", MAX_VALUES)
            )
        return list(dict.fromkeys(cleaned))

    def raw(self, name: str) -> list[str]:
        """Every value as given (for showing a form again), never raising."""
        return [v for k, v in self._items if k == name][:MAX_VALUES]

    def one(self, name: str) -> str | None:
        values = [v for k, v in self._items if k == name]
        if not values:
            return None
        return values[-1].strip() or None


def words_of(text: str | None) -> tuple[str, ...]:
    if not text:
        return ()
    if len(text) > MAX_TEXT:
        raise ValueError(gettext("Use %(limit)s characters or fewer.", limit=MAX_TEXT))
    words = [w[:60] for w in text.split()]
    return tuple(dict.fromkeys(w for w in words if w))[:MAX_WORDS]


def whole(raw: str | None, *, default: int, low: int, high: int, what: str) -> int:
    """``raw`` as a whole number from ``low`` to ``high``; ``what`` names it in the error
    (a translated label on a page, the parameter's own name in the API)."""
    if raw is None:
        return default
    value = int(raw) if re.fullmatch(r"[0-9]{1,9}", raw) else None
    if value is None or not low <= value <= high:
        raise ValueError(
            gettext(
                "%(what)s must be a whole number from %(low)s to %(high)s.",
                what=what,
                low=format_number(low),
                high=format_number(high),
            )
        )
    return value


def languages_of(values: Sequence[str]) -> tuple[str, ...]:
    """Canonical tags for languages given by name or code ("Urdu", "اردو", "bfi")."""
    tags: list[str] = []
    for raw in values:
        try:
            tags.append(languages.parse(raw))
        except languages.LanguageQuestion as q:
            from peerhub.finding import wording

            shown = wording.say_list(
                [wording.language_name(t) for t in q.choices], alternatives=True
            )
            raise ValueError(
                gettext(
                    "“%(asked)s” could mean several languages: choose one of %(languages)s.",
                    asked=q.asked,
                    languages=shown,
                )
            ) from q
        except languages.LanguageError as exc:
            from peerhub.finding import wording

            raise ValueError(wording.language_error(exc)) from exc
    return tuple(dict.fromkeys(tags))


def _not_one(tax: taxonomy.Taxonomy, value: str) -> str:
    if tax.code == "stage":
        return gettext("Choose a stage from the list (%(value)s is not one).", value=value)
    if tax.code == "community":
        return gettext(
            "Choose a culture or community from the list (%(value)s is not one).", value=value
        )
    if tax.code == "topic":
        return gettext("Choose a topic from the list (%(value)s is not one).", value=value)
    if tax.code == "access":
        return gettext(
            "Choose an access feature from the list (%(value)s is not one).", value=value
        )
    return gettext("Choose from the list (%(value)s is not one).", value=value)


def codes_of(values: Sequence[str], tax: taxonomy.Taxonomy) -> tuple[str, ...]:
    allowed = tax.codes()
    for value in values:
        if value not in allowed:
            raise ValueError(_not_one(tax, repr(value[:40])))
    return tuple(values)


def formats_of(values: Sequence[str]) -> tuple[str, ...]:
    for value in values:
        if value not in FORMATS:
            raise ValueError(gettext("Choose online, in_person or hybrid."))
    return tuple(values)


def days_of(values: Sequence[str]) -> tuple[int, ...]:
    days: list[int] = []
    for value in values:
        day = _DAY_LOOKUP.get(value.lower())
        if day is None:
            raise ValueError(gettext("Choose days of the week, such as monday or tuesday."))
        days.append(day)
    return tuple(sorted(set(days)))


@dataclass(frozen=True, slots=True)
class Place:
    postcode: str  # as normalised, e.g. "LS6 3HN" or "LS6"
    location: geo.Location


def place_of(raw: str, *, towns: bool = False) -> Place:
    """A postcode (or, with ``towns``, a town or city) to search near. A typo is never
    guessed silently here: the message says what was probably meant."""
    if towns:
        try:
            found = places.resolve(raw)
        except places.PlaceError as exc:
            raise ValueError(str(exc)) from None
        if found.corrected:
            options = [found.place, *found.alternatives]
            raise ValueError(
                gettext(
                    "We could not find that place. Did you mean %(places)s?",
                    places=" or ".join(p.label for p in options[:3])
                    if current().identifier == SOURCE
                    else format_list([p.label for p in options[:3]], style="or"),
                )
            )
        p = found.place
        precision: geo.Precision = (
            "district_group" if p.precision == "district_group" else "district"
        )
        return Place(p.query, geo.Location(p.lat, p.lon, precision, p.district))
    parsed = geo.parse_postcode(raw)  # PostcodeError is a ValueError with a safe message
    found_at = geo.locate(parsed)
    if found_at is None:
        raise ValueError(
            gettext(
                "We do not know where %(district)s is. Try a nearby postcode in Great "
                "Britain or Northern Ireland.",
                district=parsed.outward,
            )
        )
    return Place(parsed.formatted, found_at)


def datetime_of(raw: str) -> datetime:
    """An ISO 8601 date or date-time; without an offset it is taken as UTC."""
    # An unencoded "+" in a query string arrives as a space: "09:00:00 01:00".
    raw = re.sub(r"(T\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?) (\d{2}:?\d{2})$", r"\1+\2", raw.strip())
    try:
        if re.fullmatch(r"\d{4}-\d{2}-\d{2}", raw):
            parsed = datetime.combine(datetime.fromisoformat(raw).date(), time(0), tzinfo=UTC)
        else:
            parsed = datetime.fromisoformat(raw)
    except ValueError:
        raise ValueError(
            gettext(
                "Give an ISO 8601 date or date and time, "
                "such as 2026-11-01 or 2026-11-01T09:30:00Z."
            )
        ) from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    try:
        return parsed.astimezone(UTC)
    except OverflowError:  # 0001-01-01T00:00+01:00 is in year 0 in UTC, which Python lacks
        raise ValueError(gettext("Give a date and time between the years 1 and 9999.")) from None


def proximity_km(raw: str) -> float:
    """HSDS ``proximity``: metres by the standard; "5km" or "800m" are accepted too."""
    match = _PROXIMITY.match(raw)
    if not match:
        raise ValueError(gettext("Give a distance in metres, such as 5000 (or 5km)."))
    value = float(match.group(1))
    km = value if (match.group(2) or "m").lower() == "km" else value / 1000
    if not 0 < km <= MAX_RADIUS_KM:
        raise ValueError(
            gettext(
                "Give a distance above 0 and up to %(limit)s metres.",
                limit=int(MAX_RADIUS_KM * 1000),
            )
        )
    return km


# --- The web pages and feeds ----------------------------------------------------------


@dataclass(frozen=True, slots=True)
class WebQuery:
    search: Search
    page: int
    # What the form shows again: the values as understood.
    form: dict[str, object] = field(default_factory=dict)
    organisation_slug: str | None = None
    place: Place | None = None
    miles: int = DEFAULT_MILES

    def query_items(self, *, page: int | None = None) -> list[tuple[str, str]]:
        """The canonical query string items for this search (for links and feeds)."""
        s = self.search
        items: list[tuple[str, str]] = []
        if s.words:
            items.append(("q", " ".join(s.words)))
        items += [("language", v) for v in s.languages]
        items += [("community", v) for v in s.communities]
        items += [("stage", v) for v in s.stages]
        items += [("topic", v) for v in s.topics]
        items += [("access", v) for v in s.access]
        items += [("format", v) for v in s.formats]
        items += [("day", DAY_NAMES[d]) for d in s.days]
        if self.organisation_slug:
            items.append(("organisation", self.organisation_slug))
        if self.place is not None:
            items += [("postcode", self.place.postcode), ("within", str(self.miles))]
        if page is not None and page > 1:
            items.append(("page", str(page)))
        return items


def parse_web(items: Sequence[tuple[str, str]]) -> WebQuery:
    """The /groups (and /groups.ics) query string. Raises :class:`Invalid`."""
    p = Params(items)
    c = _Collector()
    words: tuple[str, ...] = c.check("q", lambda: words_of(p.one("q")), ())
    languages: tuple[str, ...] = c.check("language", lambda: languages_of(p.all("language")), ())
    communities: tuple[str, ...] = c.check(
        "community", lambda: codes_of(p.all("community"), taxonomy.COMMUNITIES), ()
    )
    stages: tuple[str, ...] = c.check(
        "stage", lambda: codes_of(p.all("stage"), taxonomy.STAGES), ()
    )
    topics: tuple[str, ...] = c.check(
        "topic", lambda: codes_of(p.all("topic"), taxonomy.TOPICS), ()
    )
    access: tuple[str, ...] = c.check(
        "access", lambda: codes_of(p.all("access"), taxonomy.ACCESS), ()
    )
    formats: tuple[str, ...] = c.check("format", lambda: formats_of(p.all("format")), ())
    days: tuple[int, ...] = c.check("day", lambda: days_of(p.all("day")), ())
    organisation = p.one("organisation")
    if organisation is not None and not re.fullmatch(r"[a-z0-9-]{1,100}", organisation):
        c.errors["organisation"] = gettext("That is not the address of an organisation on PeerHub.")
    raw_postcode = p.one("postcode")
    place = c.check(
        "postcode", lambda: place_of(raw_postcode, towns=True) if raw_postcode else None, None
    )
    miles = c.check(
        "within",
        lambda: whole(
            p.one("within"), default=DEFAULT_MILES, low=1, high=100, what=gettext("Distance")
        ),
        DEFAULT_MILES,
    )
    page = c.check(
        "page",
        lambda: whole(p.one("page"), default=1, low=1, high=MAX_PAGE, what=gettext("Page")),
        1,
    )
    form: dict[str, object] = {
        "q": p.one("q") or "",
        "language": list(languages) or p.raw("language")[:1],
        "community": list(communities),
        "stage": list(stages),
        "topic": list(topics),
        "access": list(access),
        "format": list(formats),
        "day": [DAY_NAMES[d] for d in days],
        "postcode": place.postcode if place else (raw_postcode or ""),
        "within": miles,
        "organisation": organisation or "",
    }
    if c.errors:
        raise InvalidForm(c.errors, form)
    near = None
    if place is not None:
        near = Near(place.location.lat, place.location.lon, miles * KM_PER_MILE)
    search = Search(
        words=words,
        languages=languages,
        communities=communities,
        stages=stages,
        topics=topics,
        access=access,
        formats=formats,
        days=days,
        near=near,
    )
    return WebQuery(search, page, form, organisation, place, miles)


class InvalidForm(Invalid):
    """Invalid web parameters, with the form values to show again."""

    def __init__(self, errors: Mapping[str, str], form: dict[str, object]) -> None:
        super().__init__(errors)
        self.form = form


# --- The HSDS API ---------------------------------------------------------------------


def _uuid(raw: str, what: str) -> str:
    try:
        return str(uuid.UUID(raw))
    except ValueError:
        raise ValueError(f"{raw[:40]!r} is not {what} id (a UUID).") from None


_TERMS: Final[dict[str, taxonomy.Term]] = {
    t.id: t for tax in taxonomy.ALL_TAXONOMIES for t in tax.terms
}
_TAXONOMIES: Final[dict[str, taxonomy.Taxonomy]] = {t.id: t for t in taxonomy.ALL_TAXONOMIES}


def term_by_id(term_id: str) -> taxonomy.Term | None:
    return _TERMS.get(term_id)


def taxonomy_by_id(taxonomy_id: str) -> taxonomy.Taxonomy | None:
    return _TAXONOMIES.get(taxonomy_id)


@dataclass(frozen=True, slots=True)
class ApiQuery:
    search: Search
    page: int
    per_page: int
    organisation_ids: tuple[str, ...] = ()
    words: tuple[str, ...] = ()


def _terms_of(values: Sequence[str]) -> list[taxonomy.Term]:
    terms = []
    for raw in values:
        term = term_by_id(_uuid(raw, "a taxonomy term"))
        if term is None:
            raise ValueError(
                gettext("No PeerHub taxonomy term has the id %(id)s.", id=repr(raw[:40]))
            )
        terms.append(term)
    return terms


def _taxonomies_of(values: Sequence[str]) -> list[taxonomy.Taxonomy]:
    found = []
    for raw in values:
        tax = taxonomy_by_id(_uuid(raw, "a taxonomy"))
        if tax is None:
            raise ValueError(gettext("No PeerHub taxonomy has the id %(id)s.", id=repr(raw[:40])))
        found.append(tax)
    return found


def paging(p: Params, c: _Collector) -> tuple[int, int]:
    page = c.check(
        "page", lambda: whole(p.one("page"), default=1, low=1, high=MAX_PAGE, what="page"), 1
    )
    per_page = c.check(
        "per_page",
        lambda: whole(
            p.one("per_page"),
            default=HSDS_PER_PAGE,
            low=1,
            high=HSDS_MAX_PER_PAGE,
            what="per_page",
        ),
        HSDS_PER_PAGE,
    )
    fmt = p.one("format")
    if fmt is not None and fmt != "json":
        c.errors["format"] = gettext("Only format=json is offered.")
    return page, per_page


def parse_api_list(items: Sequence[tuple[str, str]]) -> tuple[int, int, tuple[str, ...]]:
    """page, per_page and search words for the simple lists (organisations, taxonomies)."""
    p = Params(items)
    c = _Collector()
    page, per_page = paging(p, c)
    words: tuple[str, ...] = c.check("search", lambda: words_of(p.one("search")), ())
    c.raise_if_any()
    return page, per_page, words


def parse_api(items: Sequence[tuple[str, str]], *, statuses: tuple[str, ...]) -> ApiQuery:
    """Parameters of /hsds/services and /hsds/service_at_locations. Raises :class:`Invalid`."""
    p = Params(items)
    c = _Collector()
    page, per_page = paging(p, c)
    words: tuple[str, ...] = c.check("search", lambda: words_of(p.one("search")), ())
    terms: list[taxonomy.Term] = c.check(
        "taxonomy_term_id", lambda: _terms_of(p.all("taxonomy_term_id", commas=True)), []
    )
    taxonomies: list[taxonomy.Taxonomy] = c.check(
        "taxonomy_id", lambda: _taxonomies_of(p.all("taxonomy_id", commas=True)), []
    )
    orgs: tuple[str, ...] = c.check(
        "organization_id",
        lambda: tuple(_uuid(v, "an organization") for v in p.all("organization_id", commas=True)),
        (),
    )
    raw_after = p.one("modified_after")
    after = c.check("modified_after", lambda: datetime_of(raw_after) if raw_after else None, None)
    raw_postcode = p.one("postcode")
    place = c.check("postcode", lambda: place_of(raw_postcode) if raw_postcode else None, None)
    raw_proximity = p.one("proximity")
    km = c.check(
        "proximity",
        lambda: proximity_km(raw_proximity) if raw_proximity else DEFAULT_PROXIMITY_M / 1000,
        DEFAULT_PROXIMITY_M / 1000,
    )
    if raw_proximity and not raw_postcode and "proximity" not in c.errors:
        c.errors["postcode"] = gettext("Give a postcode to measure the proximity from.")
    c.raise_if_any()

    by_kind: dict[str, list[str]] = {}
    peer_led = False
    for term in terms:
        if term.taxonomy == taxonomy.PEER_LED.code:
            peer_led = True
        else:
            by_kind.setdefault(term.taxonomy, []).append(term.code)
    any_kinds = tuple(t.code for t in taxonomies if t.code != taxonomy.PEER_LED.code)
    if any(t.code == taxonomy.PEER_LED.code for t in taxonomies):
        peer_led = True
    near = Near(place.location.lat, place.location.lon, km) if place else None
    search = Search(
        words=words,
        communities=tuple(by_kind.get(taxonomy.COMMUNITIES.code, ())),
        stages=tuple(by_kind.get(taxonomy.STAGES.code, ())),
        topics=tuple(by_kind.get(taxonomy.TOPICS.code, ())),
        access=tuple(by_kind.get(taxonomy.ACCESS.code, ())),
        organisation_ids=orgs,
        modified_after=after,
        near=near,
        peer_led=peer_led,
        any_of_kinds=any_kinds,
        statuses=statuses,
    )
    return ApiQuery(search, page, per_page, orgs, words)
