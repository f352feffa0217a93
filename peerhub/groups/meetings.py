"""A group's upcoming meetings, cancelled ones included, for the organiser's page.

:func:`peerhub.schedule.occurrences` leaves cancelled meetings out. Organisers need
to see them too (to restore one), and need each meeting's *key*: the wall-clock
start the RRULE produced, which is what an EXDATE names. The key differs from the
shown start only for a time that falls in a spring-forward gap. The instants here
are placed in the zone exactly as :func:`~peerhub.schedule.occurrences` does; a
test checks that both agree. Pure: no I/O.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from dateutil.rrule import rrule, rrulestr

from peerhub.schedule import LOCAL_FORMAT, parse_local, validate_rrule, zone


@dataclass(frozen=True, slots=True)
class Meeting:
    key: str  # the RRULE's local start, "YYYY-MM-DDTHH:MM:SS": what an EXDATE holds
    start: datetime  # aware, in the group's zone
    end: datetime
    cancelled: bool

    @property
    def start_utc(self) -> datetime:
        return self.start.astimezone(UTC)


def _rule(dtstart_local: str, rule_text: str) -> rrule:
    parsed = rrulestr(validate_rrule(rule_text), dtstart=parse_local(dtstart_local))
    if not isinstance(parsed, rrule):  # pragma: no cover - validate_rrule allows one rule
        raise TypeError("expected a single RRULE")
    return parsed


def upcoming(
    dtstart_local: str,
    rule_text: str,
    time_zone: str,
    *,
    after: datetime,
    duration_minutes: int,
    exdates: list[str] | tuple[str, ...] = (),
    count: int = 8,
    horizon_days: int = 400,
) -> list[Meeting]:
    """The next ``count`` meetings that have not ended by ``after``, cancelled or not."""
    tz = zone(time_zone)
    duration = timedelta(minutes=duration_minutes)
    rule = _rule(dtstart_local, rule_text)
    cursor = (after.astimezone(tz) - duration).replace(tzinfo=None)
    limit = cursor + timedelta(days=horizon_days)
    cancelled = set(exdates)
    found: list[Meeting] = []
    while len(found) < count:
        nxt = rule.after(cursor, inc=False)
        if nxt is None or nxt > limit:
            break
        cursor = nxt
        begin = nxt.replace(tzinfo=tz).astimezone(UTC).astimezone(tz)
        key = nxt.strftime(LOCAL_FORMAT)
        found.append(
            Meeting(key, begin, (begin.astimezone(UTC) + duration).astimezone(tz), key in cancelled)
        )
    return found


def is_meeting(dtstart_local: str, rule_text: str, key: str) -> bool:
    """Whether ``key`` (a local start) is one of the rule's meetings."""
    local = parse_local(key, "session")
    return _rule(dtstart_local, rule_text).after(local, inc=True) == local


def meeting_end(key: str, time_zone: str, duration_minutes: int) -> datetime:
    """When the meeting that starts at ``key`` ends, as an aware UTC instant."""
    begin = parse_local(key, "session").replace(tzinfo=zone(time_zone)).astimezone(UTC)
    return begin + timedelta(minutes=duration_minutes)
