"""iCalendar (RFC 5545) feeds of group meetings. Pure: builds text, does no I/O.

Each meeting is its own VEVENT with UTC times (``DTSTART:20261103T180000Z``), so no
VTIMEZONE is needed and daylight-saving changes are already applied (the meetings
come from :mod:`peerhub.schedule`, which expands rules on local wall-clock time).
A UID names one meeting of one group for ever, so a calendar that subscribed sees
a meeting move or be cancelled (``STATUS:CANCELLED``) rather than a new event.
Lines end in CRLF and are folded at 75 octets without splitting a UTF-8 character.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Final

PRODID: Final = "-//PeerHub//Peer support directory//EN"
MAX_OCTETS: Final = 75


@dataclass(frozen=True, slots=True)
class Event:
    uid: str
    stamp: datetime  # when the information last changed (aware)
    start: datetime  # aware
    end: datetime
    summary: str
    description: str = ""
    location: str = ""
    url: str | None = None
    geo: tuple[float, float] | None = None
    cancelled: bool = False


def utc_stamp(moment: datetime) -> str:
    if moment.tzinfo is None:
        raise ValueError("iCalendar times must be timezone-aware")
    return moment.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


def escape_text(value: str) -> str:
    """RFC 5545 TEXT: backslash, semicolon, comma and newlines escaped; other controls dropped."""
    value = value.replace("\r\n", "\n").replace("\r", "\n")
    value = "".join(ch for ch in value if ch in "\n\t" or (ord(ch) >= 0x20 and ord(ch) != 0x7F))
    return value.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,").replace("\n", "\\n")


def fold(line: str) -> str:
    """Split a content line into CRLF-joined pieces of at most 75 octets each."""
    pieces: list[str] = []
    current: list[str] = []
    size = 0
    limit = MAX_OCTETS
    for ch in line:
        width = len(ch.encode("utf-8"))
        if size + width > limit:
            pieces.append("".join(current))
            current, size = [" "], 1  # a continuation line starts with one space
        current.append(ch)
        size += width
    pieces.append("".join(current))
    return "\r\n".join(pieces)


def _uri(value: str) -> str:
    if any(ch in value for ch in '\r\n"') or any(ord(ch) < 0x20 for ch in value):
        raise ValueError("a URI in iCalendar may not hold control characters or quotes")
    return value


def calendar(name: str, events: Iterable[Event], *, description: str = "") -> str:
    lines = [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        f"PRODID:{PRODID}",
        "CALSCALE:GREGORIAN",
        "METHOD:PUBLISH",
        f"NAME:{escape_text(name)}",
        f"X-WR-CALNAME:{escape_text(name)}",
        "REFRESH-INTERVAL;VALUE=DURATION:PT6H",
        "X-PUBLISHED-TTL:PT6H",
    ]
    if description:
        lines.append(f"DESCRIPTION:{escape_text(description)}")
    for event in events:
        lines += [
            "BEGIN:VEVENT",
            f"UID:{escape_text(event.uid)}",
            f"DTSTAMP:{utc_stamp(event.stamp)}",
            f"LAST-MODIFIED:{utc_stamp(event.stamp)}",
            f"DTSTART:{utc_stamp(event.start)}",
            f"DTEND:{utc_stamp(event.end)}",
            f"SUMMARY:{escape_text(event.summary)}",
            f"STATUS:{'CANCELLED' if event.cancelled else 'CONFIRMED'}",
        ]
        if event.description:
            lines.append(f"DESCRIPTION:{escape_text(event.description)}")
        if event.location:
            lines.append(f"LOCATION:{escape_text(event.location)}")
        if event.geo is not None:
            lines.append(f"GEO:{event.geo[0]:.6f};{event.geo[1]:.6f}")
        if event.url:
            lines.append(f"URL:{_uri(event.url)}")
        lines.append("END:VEVENT")
    lines.append("END:VCALENDAR")
    return "".join(fold(line) + "\r\n" for line in lines)
