"""Turning what an organiser typed into a checked input, or errors naming each field.

Every check here is pure (no database, no web objects). A form with several
mistakes raises one :class:`FormErrors` listing all of them, so a person fixes
everything in one go; it is a :class:`~peerhub.errors.FieldError` whose ``field``
is the first mistake, so callers that only know FieldError still answer 422 and
name a field.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Final, TypeVar
from urllib.parse import urlsplit

from peerhub import geo, i18n
from peerhub.accounts.actions import clean_email
from peerhub.duty.models import (
    DEFAULT_ALERT_MINUTES,
    DEFAULT_LEAD_MINUTES,
    DEFAULT_REPORT_HOURS,
    DEFAULT_REPORT_LEAD_HOURS,
    MAX_HOURS,
    MAX_MINUTES,
)
from peerhub.errors import FieldError
from peerhub.groups.languages import typed_languages
from peerhub.i18n import _, ngettext
from peerhub.moderation.models import (
    DEFAULT_NEWCOMER_MESSAGES,
    MAX_NEWCOMER_MESSAGES,
    NEWCOMER_MODES,
)
from peerhub.privacy.models import MAX_RETENTION_DAYS
from peerhub.schedule import LOCAL_FORMAT, ScheduleError, parse_local, validate_rrule, zone
from peerhub.taxonomy import ACCESS_CODES, COMMUNITY_CODES, STAGE_CODES, TOPIC_CODES

FORMATS: Final = ("online", "in_person", "hybrid")
JOIN_POLICIES: Final = ("open", "request")
STATUSES: Final = ("active", "paused", "closed")
REPEATS: Final = ("weekly", "fortnightly", "monthly", "advanced")
RRULE_DAYS: Final = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")
DEFAULT_TIME_ZONE: Final = "Europe/London"
_SLUG_STRIP = re.compile(r"[^a-z0-9]+")
_PHONE = re.compile(r"^\+?[0-9 ()\-]{6,40}$")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
FIRST_YEAR: Final = 1970  # the years a group's first meeting may be in
LAST_YEAR: Final = 2100
_TIME = re.compile(r"^\d{2}:\d{2}(:\d{2})?$")

T = TypeVar("T")


class FormErrors(FieldError):
    """Several fields are wrong; ``errors`` maps each field to its message, in form order."""

    def __init__(self, errors: Mapping[str, str]) -> None:
        first, message = next(iter(errors.items()))
        super().__init__(first, message)
        self.errors = dict(errors)


def errors_of(exc: FieldError) -> dict[str, str]:
    """Every field error an exception carries (one for a plain FieldError)."""
    return exc.errors if isinstance(exc, FormErrors) else {exc.field: exc.message}


class _Collector:
    """Runs field checks and keeps every FieldError instead of stopping at the first."""

    def __init__(self) -> None:
        self.errors: dict[str, str] = {}

    def check(self, fn: Callable[[], T], default: T) -> T:
        try:
            return fn()
        except FieldError as exc:
            for key, message in errors_of(exc).items():
                self.errors.setdefault(key, message)
            return default

    def fail(self, name: str, message: str) -> None:
        self.errors.setdefault(name, message)

    def raise_if_any(self) -> None:
        if self.errors:
            raise FormErrors(self.errors)


# -- the words of a field's errors -----------------------------------------------------
# Each field's messages are whole sentences (a translator never gets "{label} is
# needed." to fill with a noun phrase); ``label`` names the field in British English
# and chooses its sentences. A label not listed gets general ones.


def _needed(label: str) -> str:
    words: dict[str, Callable[[], str]] = {
        "A name": lambda: _("A name is needed."),
        "The venue's address": lambda: _("The venue's address is needed."),
        "The venue's postcode": lambda: _("The venue's postcode is needed."),
    }
    return words.get(label, lambda: _("This is needed."))()


def _too_long(label: str, limit: int) -> str:
    words: dict[str, Callable[[], str]] = {
        "A name": lambda: ngettext(
            "A name can be at most %(num)s character.",
            "A name can be at most %(num)s characters.",
            limit,
        ),
        "The description": lambda: ngettext(
            "The description can be at most %(num)s character.",
            "The description can be at most %(num)s characters.",
            limit,
        ),
        "The venue's address": lambda: ngettext(
            "The venue's address can be at most %(num)s character.",
            "The venue's address can be at most %(num)s characters.",
            limit,
        ),
        "The venue's postcode": lambda: ngettext(
            "The venue's postcode can be at most %(num)s character.",
            "The venue's postcode can be at most %(num)s characters.",
            limit,
        ),
        "The ground rules": lambda: ngettext(
            "The ground rules can be at most %(num)s character.",
            "The ground rules can be at most %(num)s characters.",
            limit,
        ),
        "The reason": lambda: ngettext(
            "The reason can be at most %(num)s character.",
            "The reason can be at most %(num)s characters.",
            limit,
        ),
        "The note": lambda: ngettext(
            "The note can be at most %(num)s character.",
            "The note can be at most %(num)s characters.",
            limit,
        ),
    }

    def general() -> str:
        return ngettext(
            "This can be at most %(num)s character.",
            "This can be at most %(num)s characters.",
            limit,
        )

    return words.get(label, general)()


def _not_whole(label: str) -> str:
    words: dict[str, Callable[[], str]] = {
        "Age": lambda: _("Age must be a whole number, like 12."),
        "Capacity": lambda: _("Capacity must be a whole number, like 12."),
        "The length": lambda: _("The length must be a whole number, like 12."),
        "The number of days": lambda: _("The number of days must be a whole number, like 12."),
        "The number of messages": lambda: _(
            "The number of messages must be a whole number, like 12."
        ),
    }
    return words.get(label, lambda: _("This must be a whole number, like 12."))()


def _below(label: str, low: int) -> str:
    n = i18n.format_number(low)
    words: dict[str, Callable[[], str]] = (
        {
            "Age": lambda: _("Age cannot be below zero."),
            "Capacity": lambda: _("Capacity cannot be below zero."),
        }
        if low == 0
        else {
            "The length": lambda: _("The length cannot be below %(low)s.", low=n),
            "The number of days": lambda: _("The number of days cannot be below %(low)s.", low=n),
            "The number of messages": lambda: _(
                "The number of messages cannot be below %(low)s.", low=n
            ),
        }
    )
    if low == 0:
        return words.get(label, lambda: _("This cannot be below zero."))()
    return words.get(label, lambda: _("This cannot be below %(low)s.", low=n))()


def _above(label: str, high: int) -> str:
    n = i18n.format_number(high)
    words: dict[str, Callable[[], str]] = {
        "Age": lambda: _("Age can be at most %(high)s.", high=n),
        "Capacity": lambda: _("Capacity can be at most %(high)s.", high=n),
        "The length": lambda: _("The length can be at most %(high)s.", high=n),
        "The number of days": lambda: _("The number of days can be at most %(high)s.", high=n),
        "The number of messages": lambda: _(
            "The number of messages can be at most %(high)s.", high=n
        ),
    }
    return words.get(label, lambda: _("This can be at most %(high)s.", high=n))()


def slugify(text_value: str, limit: int = 80) -> str:
    ascii_text = unicodedata.normalize("NFKD", text_value).encode("ascii", "ignore").decode()
    slug = _SLUG_STRIP.sub("-", ascii_text.lower()).strip("-")
    return (slug or "group")[:limit].rstrip("-") or "group"


def line(
    values: Mapping[str, str], name: str, *, label: str, required: bool = False, limit: int = 160
) -> str:
    """One line of text, with runs of white space made single."""
    value = " ".join(unicodedata.normalize("NFC", values.get(name) or "").split())
    if required and not value:
        raise FieldError(name, _needed(label))
    if len(value) > limit:
        raise FieldError(name, _too_long(label, limit))
    return value


def paragraphs(values: Mapping[str, str], name: str, *, label: str, limit: int = 4000) -> str:
    """Free text that keeps its line breaks (shown with CSS ``white-space: pre-line``)."""
    raw = unicodedata.normalize("NFC", values.get(name) or "").replace("\r\n", "\n")
    value = "\n".join(part.rstrip() for part in raw.strip().split("\n"))
    if len(value) > limit:
        raise FieldError(name, _too_long(label, limit))
    return value


def codes(raw: Iterable[str], allowed: frozenset[str], name: str) -> list[str]:
    out: list[str] = []
    for item in raw:
        code = item.strip()
        if not code:
            continue
        if code not in allowed:
            raise FieldError(name, _("Choose from the list."))
        if code not in out:
            out.append(code)
    return out


def whole_number(
    values: Mapping[str, str], name: str, low: int, high: int, *, label: str
) -> int | None:
    raw = (values.get(name) or "").strip()
    if not raw:
        return None
    try:
        number = int(raw)
    except ValueError as exc:
        raise FieldError(name, _not_whole(label)) from exc
    if number < low:
        raise FieldError(name, _below(label, low))
    if number > high:
        raise FieldError(name, _above(label, high))
    return number


def decimal(values: Mapping[str, str], name: str, low: float, high: float) -> float | None:
    raw = (values.get(name) or "").strip()
    if not raw:
        return None
    try:
        number = float(raw)
    except ValueError as exc:
        raise FieldError(name, _("Use a number, like 53.7997.")) from exc
    if not math.isfinite(number):  # "nan", "inf", "1e400": not a place on a map
        raise FieldError(name, _("Use a number, like 53.7997."))
    if not low <= number <= high:
        raise FieldError(
            name,
            _(
                "Use a number from %(low)s to %(high)s.",
                low=i18n.format_number(low),
                high=i18n.format_number(high),
            ),
        )
    return number


def website(raw: str, name: str = "website") -> str | None:
    value = raw.strip()
    if not value:
        return None
    if "://" not in value:
        value = "https://" + value
    parts = urlsplit(value)
    if (
        parts.scheme not in ("http", "https")
        or not parts.hostname
        or "." not in parts.hostname
        or len(value) > 300
        or any(c.isspace() for c in value)
    ):
        raise FieldError(name, _("Give a web address, like https://example.org."))
    return value


def choice(values: Mapping[str, str], name: str, allowed: tuple[str, ...], default: str) -> str:
    value = (values.get(name) or "").strip() or default
    if value not in allowed:
        raise FieldError(name, _("Choose one of the options."))
    return value


# -- organisations ---------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class OrganisationInput:
    name: str
    description: str
    website: str | None
    email: str | None
    phone: str | None
    lived_experience_led: bool


def _email(raw: str) -> str | None:
    try:
        return clean_email(raw)
    except FieldError as exc:
        raise FieldError("email", exc.message) from exc


def _phone(raw: str) -> str | None:
    value = " ".join(raw.split())
    if not value:
        return None
    if not _PHONE.fullmatch(value):
        raise FieldError("phone", _("Give a phone number using digits, like 0113 496 0000."))
    return value


def parse_organisation(values: Mapping[str, str]) -> OrganisationInput:
    c = _Collector()
    name = c.check(lambda: line(values, "name", label="A name", required=True), "")
    if name and len(name) < 3:
        c.fail("name", _("A name needs at least 3 characters."))
    description = c.check(lambda: paragraphs(values, "description", label="The description"), "")
    site = c.check(lambda: website(values.get("website", "")), None)
    email = c.check(lambda: _email(values.get("email", "")), None)
    phone = c.check(lambda: _phone(values.get("phone", "")), None)
    c.raise_if_any()
    return OrganisationInput(
        name=name,
        description=description,
        website=site,
        email=email,
        phone=phone,
        lived_experience_led=values.get("lived_experience_led") in ("yes", "on", "true"),
    )


# -- recurrence ------------------------------------------------------------------------


def monthly_position(start: datetime) -> int:
    """Which weekday of its month a date is: 1 to 4, or -1 for a fifth (the last)."""
    n = (start.day - 1) // 7 + 1
    return -1 if n == 5 else n


def rule_for(repeat: str, start: datetime) -> str:
    """The RRULE for one of the form's simple choices, from the first meeting's date."""
    day = RRULE_DAYS[start.weekday()]
    if repeat == "weekly":
        return f"FREQ=WEEKLY;BYDAY={day}"
    if repeat == "fortnightly":
        return f"FREQ=WEEKLY;INTERVAL=2;BYDAY={day}"
    if repeat == "monthly":
        return f"FREQ=MONTHLY;BYDAY={monthly_position(start)}{day}"
    raise ValueError(repeat)


def repeat_of(rrule: str, dtstart_local: str) -> tuple[str, str]:
    """Which form choice an existing rule is: ``(repeat, advanced rule text)``."""
    try:
        start = parse_local(dtstart_local)
    except ScheduleError:
        return "advanced", rrule
    for repeat in REPEATS[:-1]:
        if rule_for(repeat, start) == rrule:
            return repeat, ""
    return "advanced", rrule


# -- groups ----------------------------------------------------------------------------


@dataclass(slots=True)
class GroupInput:
    name: str
    description: str
    format: str
    languages: list[str]
    interpretation: list[str] = field(default_factory=list)
    # The organiser's own wording for each language tag ("" or absent: not kept).
    language_labels: dict[str, str] = field(default_factory=dict)
    communities: list[str] = field(default_factory=list)
    # Of ``communities``, those the group is for only (the rest it focuses on).
    community_only: list[str] = field(default_factory=list)
    stages: list[str] = field(default_factory=list)
    topics: list[str] = field(default_factory=list)
    access: list[str] = field(default_factory=list)
    address: str | None = None
    postcode: str | None = None
    latitude: float | None = None
    longitude: float | None = None
    age_min: int | None = None
    age_max: int | None = None
    capacity: int | None = None
    join_policy: str = "open"
    status: str = "active"
    ground_rules: str = ""
    joining: str = ""
    time_zone: str = DEFAULT_TIME_ZONE
    dtstart_local: str = ""
    rrule: str = ""
    duration_minutes: int = 90
    # Days the group's room keeps messages; None keeps them (peerhub/privacy/retention.py).
    message_retention_days: int | None = None
    # A new member's first messages wait for a moderator: auto (when the group welcomes
    # people approaching crisis), on or off; and how many (peerhub/moderation/newcomers.py).
    newcomer_review: str = "auto"
    newcomer_messages: int = DEFAULT_NEWCOMER_MESSAGES
    # The duty desk's timers (peerhub/duty/): minutes before an unopened crisis alert
    # goes to the organisers, then to the safeguarding leads; hours for a report.
    alert_minutes: int = DEFAULT_ALERT_MINUTES
    lead_minutes: int = DEFAULT_LEAD_MINUTES
    report_hours: int = DEFAULT_REPORT_HOURS
    report_lead_hours: int = DEFAULT_REPORT_LEAD_HOURS


def _first_meeting(values: Mapping[str, str]) -> datetime:
    """The first meeting's wall-clock start, from a date and a time field (or ``dtstart``)."""
    start = _first_meeting_as_given(values)
    # Year 1 or 9999 parse, but moving them to UTC or adding a meeting's length overflows
    # (a 500 on every page that shows the group): keep to years a group can meet in.
    if not FIRST_YEAR <= start.year <= LAST_YEAR:
        raise FieldError(
            "first_date",
            _(
                "Give a date between %(first)s and %(last)s, like 2026-11-03.",
                first=FIRST_YEAR,
                last=LAST_YEAR,
            ),
        )
    return start


def _first_meeting_as_given(values: Mapping[str, str]) -> datetime:
    if values.get("dtstart"):
        try:
            return parse_local(values["dtstart"].strip(), "first_date")
        except ScheduleError as exc:
            raise FieldError("first_date", str(exc)) from exc
    day = (values.get("first_date") or "").strip()
    at = (values.get("start_time") or "").strip()
    if not _DATE.fullmatch(day):
        raise FieldError("first_date", _("Give the date of the first session, like 2026-11-03."))
    if not _TIME.fullmatch(at):
        raise FieldError("start_time", _("Give the time the sessions start, like 18:30."))
    try:
        return datetime.strptime(  # noqa: DTZ007 - a wall-clock time in the group's zone
            f"{day}T{at if len(at) == 8 else at + ':00'}", LOCAL_FORMAT
        )
    except ValueError as exc:
        raise FieldError("first_date", _("That date or time does not exist.")) from exc


def _recurrence(values: Mapping[str, str], start: datetime | None) -> str:
    advanced = (values.get("rrule") or "").strip()
    repeat = (values.get("repeat") or "").strip() or ("advanced" if advanced else "weekly")
    if repeat not in REPEATS:
        raise FieldError("repeat", _("Choose how often the group meets."))
    if repeat == "advanced":
        if not advanced:
            raise FieldError("rrule", _("Give a rule, like FREQ=WEEKLY;BYDAY=TU."))
        try:
            return validate_rrule(advanced)
        except ScheduleError as exc:
            raise FieldError("rrule", str(exc)) from exc
    if start is None:
        return ""  # the first meeting's own error is already shown
    return rule_for(repeat, start)


def _venue(values: Mapping[str, str], group: GroupInput, c: _Collector) -> None:
    group.address = c.check(
        lambda: line(values, "address", label="The venue's address", required=True, limit=300),
        None,
    )
    postcode = None
    try:
        raw = line(values, "postcode", label="The venue's postcode", required=True, limit=10)
        postcode = geo.parse_postcode(raw)
        if postcode.inward is None:
            raise FieldError("postcode", _("Give the venue's full postcode, like LS1 4AP."))
        group.postcode = postcode.formatted
    except FieldError as exc:
        c.fail(exc.field, exc.message)
        postcode = None
    except ValueError as exc:
        c.fail("postcode", _("That postcode does not look right: %(why)s", why=str(exc)))
        postcode = None
    group.latitude = c.check(lambda: decimal(values, "latitude", 49.0, 61.0), None)
    group.longitude = c.check(lambda: decimal(values, "longitude", -9.0, 2.5), None)
    if (group.latitude is None) != (group.longitude is None):
        c.fail("longitude", _("Give both latitude and longitude, or leave both empty."))
    elif group.latitude is None and postcode is not None:
        found = geo.locate(postcode)
        if found is None:
            c.fail(
                "latitude",
                _(
                    "We could not place that postcode on a map. Give the venue's latitude "
                    "and longitude."
                ),
            )
        else:
            group.latitude, group.longitude = round(found.lat, 5), round(found.lon, 5)


def parse_group(
    values: Mapping[str, str],
    lists: Mapping[str, list[str]],
    community_codes: frozenset[str] = COMMUNITY_CODES,
) -> GroupInput:
    """Validate a group form. ``values`` are single fields, ``lists`` the check boxes."""
    c = _Collector()
    name = c.check(lambda: line(values, "name", label="A name", required=True), "")
    if name and len(name) < 3:
        c.fail("name", _("A name needs at least 3 characters."))
    description = c.check(lambda: paragraphs(values, "description", label="The description"), "")
    typed: dict[str, str] = c.check(
        lambda: typed_languages(lists.get("languages", []), "languages"), {}
    )
    langs = list(typed)
    if not langs and "languages" not in c.errors:
        c.fail("languages", _("Give at least one language the group meets in."))
    typed_interp: dict[str, str] = c.check(
        lambda: typed_languages(lists.get("interpretation", []), "interpretation"), {}
    )
    interp = list(typed_interp)
    group = GroupInput(
        name=name,
        description=description,
        format=c.check(lambda: choice(values, "format", FORMATS, ""), "online"),
        languages=langs,
        interpretation=[t for t in interp if t not in langs],
        language_labels={**typed_interp, **typed},
        communities=c.check(
            lambda: codes(lists.get("communities", []), community_codes, "communities"), []
        ),
        community_only=c.check(
            lambda: codes(lists.get("community_only", []), community_codes, "community_only"), []
        ),
        stages=c.check(lambda: codes(lists.get("stages", []), STAGE_CODES, "stages"), []),
        topics=c.check(lambda: codes(lists.get("topics", []), TOPIC_CODES, "topics"), []),
        access=c.check(lambda: codes(lists.get("access", []), ACCESS_CODES, "access"), []),
        join_policy=c.check(lambda: choice(values, "join_policy", JOIN_POLICIES, "open"), "open"),
        status=c.check(lambda: choice(values, "status", STATUSES, "active"), "active"),
        ground_rules=c.check(
            lambda: paragraphs(values, "ground_rules", label="The ground rules"), ""
        ),
        joining=c.check(
            lambda: paragraphs(values, "joining", label="What to know before joining"), ""
        ),
    )
    # A group for a community only is a group for that community: tick both for them.
    group.communities += [code for code in group.community_only if code not in group.communities]
    if not group.stages and "stages" not in c.errors:
        c.fail("stages", _("Choose at least one stage the group welcomes."))
    group.age_min = c.check(lambda: whole_number(values, "age_min", 0, 120, label="Age"), None)
    group.age_max = c.check(lambda: whole_number(values, "age_max", 0, 120, label="Age"), None)
    if group.age_min is not None and group.age_max is not None and group.age_min > group.age_max:
        c.fail("age_max", _("The oldest age must not be below the youngest."))
    group.capacity = c.check(
        lambda: whole_number(values, "capacity", 0, 10_000, label="Capacity"), None
    )
    if group.format in ("in_person", "hybrid"):
        _venue(values, group, c)
    group.time_zone = c.check(lambda: _zone(values.get("time_zone", "")), DEFAULT_TIME_ZONE)
    start = c.check(lambda: _first_meeting(values), None)
    if start is not None:
        group.dtstart_local = start.strftime(LOCAL_FORMAT)
    group.rrule = c.check(lambda: _recurrence(values, start), "")
    duration = c.check(
        lambda: whole_number(values, "duration_minutes", 15, 12 * 60, label="The length"), None
    )
    group.duration_minutes = duration or 90
    group.message_retention_days = c.check(
        lambda: whole_number(
            values, "message_retention_days", 1, MAX_RETENTION_DAYS, label="The number of days"
        ),
        None,
    )
    group.newcomer_review = c.check(
        lambda: choice(values, "newcomer_review", NEWCOMER_MODES, "auto"), "auto"
    )
    group.newcomer_messages = (
        c.check(
            lambda: whole_number(
                values,
                "newcomer_messages",
                1,
                MAX_NEWCOMER_MESSAGES,
                label="The number of messages",
            ),
            None,
        )
        or DEFAULT_NEWCOMER_MESSAGES
    )
    for name, high, default, label in (
        ("alert_minutes", MAX_MINUTES, DEFAULT_ALERT_MINUTES, "The number of minutes"),
        ("lead_minutes", MAX_MINUTES, DEFAULT_LEAD_MINUTES, "The number of minutes"),
        ("report_hours", MAX_HOURS, DEFAULT_REPORT_HOURS, "The number of hours"),
        ("report_lead_hours", MAX_HOURS, DEFAULT_REPORT_LEAD_HOURS, "The number of hours"),
    ):
        setattr(
            group,
            name,
            c.check(
                lambda name=name, high=high, label=label: whole_number(  # type: ignore[misc]
                    values, name, 1, high, label=label
                ),
                None,
            )
            or default,
        )
    c.raise_if_any()
    return group


def _zone(raw: str) -> str:
    try:
        return zone(raw.strip() or DEFAULT_TIME_ZONE).key
    except ScheduleError as exc:
        raise FieldError("time_zone", _("Give a time zone such as Europe/London.")) from exc
