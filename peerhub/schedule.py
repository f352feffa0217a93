"""Group meetings from RFC 5545 recurrence rules, in the group's own time zone.

A group meets at a wall-clock time ("Tuesdays at 18:00, Europe/London"). The rule is
expanded on naive local times and each occurrence is then placed in the zone, so a
meeting stays at 18:00 local time on both sides of a clock change. Pure: no I/O.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from typing import Protocol
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from dateutil.rrule import DAILY, MONTHLY, WEEKLY, YEARLY, rrule, rrulestr

from peerhub import i18n
from peerhub.i18n import _, ngettext
from peerhub.taxonomy import DAY_NAMES, MONTH_NAMES

LOCAL_FORMAT = "%Y-%m-%dT%H:%M:%S"
ALLOWED_FREQ = {"DAILY", "WEEKLY", "MONTHLY", "YEARLY"}
_PART = re.compile(r"^[A-Z]+=[A-Z0-9,+\-:]+$")
_BYDAY = {"MO": 0, "TU": 1, "WE": 2, "TH": 3, "FR": 4, "SA": 5, "SU": 6}
_ORDINAL = {1: "first", 2: "second", 3: "third", 4: "fourth", -1: "last"}
# IANA zone names: "Europe/London", "America/Argentina/Buenos_Aires", "Etc/GMT+1", "UTC".
_ZONE_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_+\-]*(?:/[A-Za-z0-9_+\-]+)*")


class ScheduleError(ValueError):
    """A recurrence, time or zone that cannot be used; ``field`` names which."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


@dataclass(frozen=True, slots=True)
class Occurrence:
    start: datetime  # aware, in the group's zone
    end: datetime

    @property
    def start_utc(self) -> datetime:
        return self.start.astimezone(UTC)


def zone(name: str) -> ZoneInfo:
    # ZoneInfo opens a file named by the key: "Europe" is a directory (IsADirectoryError)
    # and a long key is "File name too long" (OSError), so anything that is not an IANA
    # name is refused before it gets there.
    if len(name) > 64 or not _ZONE_NAME.fullmatch(name):
        raise ScheduleError("time_zone", f"Unknown time zone {name[:64]!r}.")
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError) as exc:
        raise ScheduleError("time_zone", f"Unknown time zone {name!r}.") from exc


def parse_local(value: str, field: str = "dtstart") -> datetime:
    try:
        parsed = datetime.strptime(value, LOCAL_FORMAT)  # noqa: DTZ007 - wall-clock by design
    except ValueError as exc:
        raise ScheduleError(field, f"Use the form YYYY-MM-DDTHH:MM:SS, not {value!r}.") from exc
    return parsed


def validate_rrule(rule: str) -> str:
    """Normalise an RRULE (without the ``RRULE:`` prefix) or raise ScheduleError('rrule')."""
    text = rule.strip().upper()
    if text.startswith("RRULE:"):
        text = text[6:]
    if not text or len(text) > 300:
        raise ScheduleError("rrule", "Give a recurrence rule, such as FREQ=WEEKLY;BYDAY=TU.")
    parts = text.split(";")
    if not all(_PART.match(p) for p in parts):
        raise ScheduleError("rrule", f"{rule!r} is not an RFC 5545 RRULE.")
    keys = [p.split("=", 1)[0] for p in parts]
    if len(keys) != len(set(keys)):
        raise ScheduleError("rrule", "A rule part is given twice.")
    freq = dict(p.split("=", 1) for p in parts).get("FREQ")
    if freq not in ALLOWED_FREQ:
        raise ScheduleError("rrule", "FREQ must be DAILY, WEEKLY, MONTHLY or YEARLY.")
    try:
        rrulestr(text, dtstart=datetime(2026, 1, 5, 18, 0))  # noqa: DTZ001 - wall clock
    except (ValueError, TypeError) as exc:
        raise ScheduleError("rrule", f"{rule!r} is not a valid RRULE: {exc}") from exc
    return text


@lru_cache(maxsize=4096)
def _rule(text: str, dtstart: datetime) -> rrule:
    parsed = rrulestr(text, dtstart=dtstart)
    assert isinstance(parsed, rrule)  # noqa: S101 - a single RRULE, never a set
    return parsed


def occurrences(
    dtstart_local: str,
    rule: str,
    time_zone: str,
    *,
    after: datetime,
    count: int = 5,
    duration_minutes: int = 90,
    exdates: tuple[str, ...] | list[str] = (),
    horizon_days: int = 400,
) -> list[Occurrence]:
    """The next ``count`` meetings that have not ended by ``after`` (an aware datetime)."""
    if after.tzinfo is None:
        raise ValueError("after must be timezone-aware")
    tz = zone(time_zone)
    start = parse_local(dtstart_local)
    duration = timedelta(minutes=duration_minutes)
    skipped = {parse_local(x, "exdates") for x in exdates}
    # A meeting still in progress counts as "next": look back by its length.
    local_after = (after.astimezone(tz) - duration).replace(tzinfo=None)
    limit = local_after + timedelta(days=horizon_days)
    found: list[Occurrence] = []
    cursor = local_after
    rule_obj = _rule(validate_rrule(rule), start)
    while len(found) < count:
        nxt = rule_obj.after(cursor, inc=False)
        if nxt is None or nxt > limit:
            break
        cursor = nxt
        if nxt in skipped:
            continue
        # Attach the zone, then round-trip through UTC so a time in the spring-forward
        # gap lands on a real instant.
        begin = nxt.replace(tzinfo=tz).astimezone(UTC).astimezone(tz)
        found.append(Occurrence(begin, (begin.astimezone(UTC) + duration).astimezone(tz)))
    return found


class Scheduled(Protocol):
    """What a group's schedule is made of (the columns of ``Group``)."""

    @property
    def dtstart_local(self) -> str: ...
    @property
    def rrule(self) -> str: ...
    @property
    def time_zone(self) -> str: ...
    @property
    def duration_minutes(self) -> int: ...
    @property
    def exdates(self) -> list[str] | None: ...


def next_meeting(group: Scheduled, now: datetime) -> Occurrence | None:
    """The group's meeting in progress at ``now``, or its next one; None when it has
    none (or its stored schedule cannot be read)."""
    try:
        found = occurrences(
            group.dtstart_local,
            group.rrule,
            group.time_zone,
            after=now,
            count=1,
            duration_minutes=group.duration_minutes,
            exdates=tuple(group.exdates or ()),
        )
    except ValueError:  # ScheduleError included
        return None
    return found[0] if found else None


def _source() -> bool:
    return i18n.current().identifier == i18n.SOURCE


def day_name(weekday: int) -> str:
    """A day's name (Monday is 0) in the page's language, from CLDR ("Tuesday",
    "Dydd Mawrth", "wtorek", "الثلاثاء")."""
    return i18n.day_name(weekday)


def time_of_day(moment: datetime) -> str:
    """A wall-clock time as CLDR writes it in the page's language (24-hour in en-GB)."""
    return i18n.format_time(moment.replace(tzinfo=None).time())


def _day_list(days: list[int]) -> str:
    names = [day_name(d) for d in days]
    if _source():
        return " and ".join(names)
    from peerhub.finding.wording import say_list  # the pages' words; no import cycle

    return say_list(names)


def _monthly(which: int, day: str, at: str, interval: int) -> str:
    """ "The first Tuesday of every month at 18:00" (and every n months). Every month is a
    sentence of its own, so that each plural form can carry the number (a language with
    one form uses it for every number)."""
    if interval == 1:
        return _monthly_once(which, day, at)
    if which == 1:
        return ngettext(
            "The first %(day)s of every %(num)s month at %(time)s",
            "The first %(day)s of every %(num)s months at %(time)s",
            interval,
            day=day,
            time=at,
        )
    if which == 2:
        return ngettext(
            "The second %(day)s of every %(num)s month at %(time)s",
            "The second %(day)s of every %(num)s months at %(time)s",
            interval,
            day=day,
            time=at,
        )
    if which == 3:
        return ngettext(
            "The third %(day)s of every %(num)s month at %(time)s",
            "The third %(day)s of every %(num)s months at %(time)s",
            interval,
            day=day,
            time=at,
        )
    if which == 4:
        return ngettext(
            "The fourth %(day)s of every %(num)s month at %(time)s",
            "The fourth %(day)s of every %(num)s months at %(time)s",
            interval,
            day=day,
            time=at,
        )
    return ngettext(
        "The last %(day)s of every %(num)s month at %(time)s",
        "The last %(day)s of every %(num)s months at %(time)s",
        interval,
        day=day,
        time=at,
    )


def _monthly_once(which: int, day: str, at: str) -> str:
    """ "The first Tuesday of every month at 18:00"."""
    if which == 1:
        return _("The first %(day)s of every month at %(time)s", day=day, time=at)
    if which == 2:
        return _("The second %(day)s of every month at %(time)s", day=day, time=at)
    if which == 3:
        return _("The third %(day)s of every month at %(time)s", day=day, time=at)
    if which == 4:
        return _("The fourth %(day)s of every month at %(time)s", day=day, time=at)
    return _("The last %(day)s of every month at %(time)s", day=day, time=at)


def describe(dtstart_local: str, rule: str) -> str:
    """Plain words for common rules: "Every Tuesday at 18:00"; otherwise a safe fallback.
    In the request's language: day names and times from CLDR (peerhub/i18n.py)."""
    start = parse_local(dtstart_local)
    text = validate_rrule(rule)
    parts = dict(p.split("=", 1) for p in text.split(";"))
    at = time_of_day(start)
    interval = int(parts.get("INTERVAL", "1"))
    byday = parts.get("BYDAY")
    freq = {"DAILY": DAILY, "WEEKLY": WEEKLY, "MONTHLY": MONTHLY, "YEARLY": YEARLY}[parts["FREQ"]]
    if freq == WEEKLY:
        days = [_BYDAY[d] for d in byday.split(",") if d in _BYDAY] if byday else [start.weekday()]
        names = _day_list(days)
        if interval == 1:
            return _("Every %(days)s at %(time)s", days=names, time=at)
        if interval == 2:
            return _("Every other %(days)s at %(time)s", days=names, time=at)
        return ngettext(
            "Every %(num)s week on %(days)s at %(time)s",
            "Every %(num)s weeks on %(days)s at %(time)s",
            interval,
            days=names,
            time=at,
        )
    if freq == MONTHLY and byday:
        match = re.fullmatch(r"([+-]?\d)?([A-Z]{2})", byday)
        if match and match.group(1) and int(match.group(1)) in _ORDINAL:
            day = day_name(_BYDAY[match.group(2)])
            return _monthly(int(match.group(1)), day, at, interval)
    if freq == DAILY and interval == 1:
        return _("Every day at %(time)s", time=at)
    if freq == MONTHLY and interval == 1:
        return _("Monthly on day %(day)s at %(time)s", day=start.day, time=at)
    starting = (
        f"{start.day} {MONTH_NAMES[start.month - 1]} {start.year}"
        if _source()
        else i18n.format_date(start.date(), "long")
    )
    return _("Regularly, starting %(date)s at %(time)s", date=starting, time=at)


def meeting_words(start: datetime, end: datetime, now: datetime) -> str:
    """A meeting in plain words, as seen at ``now``, in the meeting's own zone.

    "on now, until 19:30 GMT", "today, 18:00 to 19:30 GMT", "tomorrow, …", or
    "Thursday 5 November, 18:00 to 19:30 GMT" (with the year when it is not this one).
    Names come from PeerHub's own lists, not the locale, so they never change with it.
    """
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    here = now.astimezone(start.tzinfo)
    zone_name = i18n.zone_name(start)
    if start <= now < end:
        if zone_name:
            return _("on now, until %(end)s %(zone)s", end=time_of_day(end), zone=zone_name)
        return _("on now, until %(end)s", end=time_of_day(end))
    if zone_name:
        hours = _(
            "%(start)s to %(end)s %(zone)s",
            start=time_of_day(start),
            end=time_of_day(end),
            zone=zone_name,
        )
    else:
        hours = _("%(start)s to %(end)s", start=time_of_day(start), end=time_of_day(end))
    days = (start.date() - here.date()).days
    if days == 0:
        return _("today, %(hours)s", hours=hours)
    if days == 1:
        return _("tomorrow, %(hours)s", hours=hours)
    if _source():
        day = f"{DAY_NAMES[start.weekday()]} {start.day} {MONTH_NAMES[start.month - 1]}"
        if start.year != here.year:
            day += f" {start.year}"
    else:
        day = i18n.format_date(start.replace(tzinfo=None).date(), "full")
    return _("%(day)s, %(hours)s", day=day, hours=hours)
