"""What the directory shows about a group, in plain words, computed once per request.

Pure: takes loaded models and a time, returns plain values for the templates, the
JSON-LD, the iCalendar feeds and the HSDS mapping. Nothing here escapes HTML:
the templates autoescape every value.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from typing import Final

from peerhub import i18n, places, taxonomy
from peerhub.finding import wording
from peerhub.groups.texts import Shown, shown_text
from peerhub.i18n import _, lazy_gettext, ngettext
from peerhub.models import Group, Organisation, TagKind
from peerhub.schedule import ScheduleError, describe, occurrences, parse_local, zone
from peerhub.taxonomy import DAY_NAMES, MONTH_NAMES

FORMAT_WORDS: Final = {
    "online": lazy_gettext("Online"),
    "in_person": lazy_gettext("In person"),
    "hybrid": lazy_gettext("In person or online (hybrid)"),
}
STATUS_WORDS: Final = {
    "active": lazy_gettext("Meeting"),
    "paused": lazy_gettext("Paused for now"),
    "closed": lazy_gettext("Closed"),
}


@dataclass(frozen=True, slots=True)
class Label:
    code: str
    name: str


@dataclass(frozen=True, slots=True)
class Meeting:
    start: datetime  # aware, in the group's zone
    end: datetime
    cancelled: bool = False

    @property
    def words(self) -> str:
        return _(
            "%(day)s, %(start)s to %(end)s",
            day=day_words(self.start),
            start=time_words(self.start),
            end=time_words(self.end),
        )

    @property
    def short_words(self) -> str:
        return _("%(day)s at %(time)s", day=day_words(self.start), time=time_words(self.start))

    @property
    def day_words(self) -> str:
        return day_words(self.start)

    @property
    def start_utc(self) -> datetime:
        return self.start.astimezone(UTC)

    @property
    def end_utc(self) -> datetime:
        return self.end.astimezone(UTC)


def day_words(moment: datetime) -> str:
    """The date as "Tuesday 3 November 2026" (British English), or as CLDR writes a
    full date in the page's language ("Dydd Mawrth, 3 Tachwedd 2026"), on the
    moment's own clock."""
    if i18n.current().identifier == i18n.SOURCE:
        return (
            f"{DAY_NAMES[moment.weekday()]} {moment.day} "
            f"{MONTH_NAMES[moment.month - 1]} {moment.year}"
        )
    return i18n.format_date(moment.replace(tzinfo=None).date(), "full")


def time_words(moment: datetime) -> str:
    """The time of day on the moment's own clock: "18:30" in British English."""
    return i18n.format_time(moment.replace(tzinfo=None).time())


def zone_words(time_zone: str) -> str:
    if time_zone == "Europe/London":
        return _("UK time")
    return _("%(zone)s time", zone=time_zone)


_LABELS: Final[dict[str, dict[str, str]]] = {
    tax.code: {t.code: t.label for t in tax.terms} for tax in taxonomy.ALL_TAXONOMIES
}


def _labels(group: Group, kind: TagKind, tax: taxonomy.Taxonomy) -> list[Label]:
    names = _LABELS[tax.code]
    return [
        Label(code, wording.label(names[code]) if code in names else code.replace("_", " "))
        for code in group.tag_values(kind.value)
    ]


def _languages(group: Group, kind: TagKind) -> list[Label]:
    return [Label(tag, wording.language_name(tag)) for tag in group.tag_values(kind.value)]


def town_of(address: str | None) -> str | None:
    """The last part of a comma-separated address: "…, 12 Example Street, Leeds" → Leeds."""
    if not address:
        return None
    parts = [p.strip() for p in address.split(",") if p.strip()]
    return parts[-1] if len(parts) > 1 else None


_Key = tuple[str, str, str, int, tuple[str, ...], int]
_MEMO: OrderedDict[_Key, tuple[datetime, list[Meeting]]] = OrderedDict()
_MEMO_SIZE: Final = 20_000


def meetings_of(group: Group, now: datetime, count: int) -> list[Meeting]:
    """The next ``count`` meetings; none if the stored rule cannot be read.

    Expanding a rule walks it from the first meeting (dateutil has no shortcut), a
    quarter of a millisecond for a group two years old. The answer cannot change
    until its first meeting ends, so it is remembered until then (keyed by the rule
    itself: an edited group is a new key).
    """
    key: _Key = (
        group.dtstart_local,
        group.rrule,
        group.time_zone,
        group.duration_minutes,
        tuple(group.exdates or ()),
        count,
    )
    hit = _MEMO.get(key)
    if hit is not None:
        computed, found = hit
        valid_until = found[0].end if found else computed + timedelta(hours=1)
        if computed <= now < valid_until:
            _MEMO.move_to_end(key)
            return found
    found = _expand(group, now, count)
    _MEMO[key] = (now, found)
    if len(_MEMO) > _MEMO_SIZE:
        _MEMO.popitem(last=False)
    return found


def _expand(group: Group, now: datetime, count: int) -> list[Meeting]:
    try:
        found = occurrences(
            group.dtstart_local,
            group.rrule,
            group.time_zone,
            after=now,
            count=count,
            duration_minutes=group.duration_minutes,
            exdates=tuple(group.exdates or ()),
        )
    except (ScheduleError, ValueError):
        return []
    return [Meeting(o.start, o.end) for o in found]


def cancelled_meetings(group: Group, now: datetime, until: datetime) -> list[Meeting]:
    """Cancelled meetings (exdates) still to come, up to ``until``."""
    out = []
    try:
        tz = zone(group.time_zone)
        for raw in group.exdates or ():
            local = parse_local(raw, "exdates")
            start = local.replace(tzinfo=tz).astimezone(UTC).astimezone(tz)
            end = (start.astimezone(UTC) + _minutes(group.duration_minutes)).astimezone(tz)
            if now <= end and start <= until:
                out.append(Meeting(start, end, cancelled=True))
    except (ScheduleError, ValueError):
        return []
    return sorted(out, key=lambda s: s.start)


def _minutes(n: int) -> timedelta:
    return timedelta(minutes=n)


def recurrence_words(group: Group) -> str | None:
    return _describe(group.dtstart_local, group.rrule, i18n.current().identifier)


@lru_cache(maxsize=4096)
def _describe(dtstart_local: str, rrule: str, language: str) -> str | None:
    # ``language`` is part of the key: the words are in the request's language.
    try:
        return describe(dtstart_local, rrule)
    except (ScheduleError, ValueError):
        return None


def ages_words(group: Group) -> str | None:
    low, high = group.age_min, group.age_max
    if low is not None and high is not None:
        return _("Ages %(low)s to %(high)s", low=low, high=high)
    if low is not None:
        return _("Ages %(low)s and over", low=low)
    if high is not None:
        return _("Ages up to %(high)s", high=high)
    return None


@dataclass(frozen=True, slots=True)
class GroupView:
    group: Group
    organisation: Organisation
    languages: list[Label]
    interpretation: list[Label]
    communities: list[Label]
    stages: list[Label]
    topics: list[Label]
    access: list[Label]
    meetings: list[Meeting]
    recurrence: str | None
    places_taken: int
    distance_km: float | None = None
    cancelled: list[Meeting] = field(default_factory=list)
    # The group's and its organisation's text as the page shows it: the version in the
    # page's language where there is one (peerhub/groups/texts.py). ``name`` and
    # ``group.description`` stay the own text (the HSDS API, calendars, JSON-LD).
    text: Shown | None = None
    organisation_text: Shown | None = None

    @property
    def id(self) -> str:
        return self.group.id

    @property
    def slug(self) -> str:
        return self.group.slug

    @property
    def name(self) -> str:
        return self.group.name

    @property
    def format_words(self) -> str:
        found = FORMAT_WORDS.get(self.group.format)
        return str(found) if found is not None else self.group.format

    @property
    def status_words(self) -> str:
        found = STATUS_WORDS.get(self.group.status)
        return str(found) if found is not None else self.group.status

    @property
    def is_active(self) -> bool:
        return self.group.status == "active"

    @property
    def has_venue(self) -> bool:
        return self.group.format in ("in_person", "hybrid") and bool(
            self.group.address or self.group.postcode
        )

    @property
    def town(self) -> str | None:
        return town_of(self.group.address)

    @property
    def where_words(self) -> str:
        if self.group.format == "online":
            return _("Online")
        place = self.town or places.district_label(self.group.postcode) or self.group.postcode
        if self.group.format == "hybrid":
            if place is None:
                return _("In person in a venue, or online")
            return _("In person in %(place)s, or online", place=place)
        if place is None:
            return _("In person in a venue")
        return _("In person in %(place)s", place=place)

    @property
    def next_meeting(self) -> Meeting | None:
        return self.meetings[0] if self.meetings else None

    @property
    def zone_words(self) -> str:
        return zone_words(self.group.time_zone)

    @property
    def capacity(self) -> int | None:
        return self.group.capacity

    @property
    def places_left(self) -> int | None:
        if self.group.capacity is None:
            return None
        return max(0, self.group.capacity - self.places_taken)

    @property
    def is_full(self) -> bool:
        return self.places_left == 0

    @property
    def places_words(self) -> str:
        left = self.places_left
        if left is None:
            return _("Places available")
        if left == 0:
            return _("Full: waiting list")
        return ngettext("%(num)s place left", "%(num)s places left", left)

    @property
    def ages_words(self) -> str | None:
        return ages_words(self.group)

    @property
    def distance_words(self) -> str | None:
        if self.distance_km is None:
            return None
        miles = self.distance_km / 1.609344
        if miles < 1:
            return _("less than a mile away")
        return ngettext("about %(num)s mile away", "about %(num)s miles away", round(miles))

    def description_paragraphs(self) -> list[str]:
        return paragraphs(self.group.description)

    def ground_rules_paragraphs(self) -> list[str]:
        return paragraphs(self.group.ground_rules)


def paragraphs(text: str | None) -> list[str]:
    if not text:
        return []
    blocks = [b.strip() for b in text.replace("\r\n", "\n").split("\n\n")]
    return [b for b in blocks if b]


def view_of(
    group: Group,
    now: datetime,
    *,
    places_taken: int = 0,
    meetings: int = 1,
    distance_km: float | None = None,
    cancelled_until: datetime | None = None,
    page_lang: str | None = None,
) -> GroupView:
    found = meetings_of(group, now, meetings) if group.status == "active" else []
    cancelled: list[Meeting] = []
    if cancelled_until is not None and group.status == "active":
        cancelled = cancelled_meetings(group, now, cancelled_until)
    return GroupView(
        group=group,
        organisation=group.organisation,
        languages=_languages(group, TagKind.LANGUAGE),
        interpretation=_languages(group, TagKind.INTERPRETATION),
        communities=_labels(group, TagKind.COMMUNITY, taxonomy.COMMUNITIES),
        stages=_labels(group, TagKind.STAGE, taxonomy.STAGES),
        topics=_labels(group, TagKind.TOPIC, taxonomy.TOPICS),
        access=_labels(group, TagKind.ACCESS, taxonomy.ACCESS),
        meetings=found,
        recurrence=recurrence_words(group),
        places_taken=places_taken,
        distance_km=distance_km,
        cancelled=cancelled,
        text=shown_text(group, page_lang),
        organisation_text=shown_text(group.organisation, page_lang),
    )
