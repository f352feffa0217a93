"""iCalendar feeds, read back by a small strict RFC 5545 parser written for the test."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from peerhub import i18n
from peerhub.directory import ical
from peerhub.directory.pages import FEED_GROUPS, FEED_MEETINGS
from tests.conftest import FakeClock, app_client, make_settings
from tests.directory import builders as b

NAME = re.compile(r"^[A-Z][A-Z0-9-]*$")
UTC_TIME = re.compile(r"^\d{8}T\d{6}Z$")
TEXT_PROPS = {"SUMMARY", "DESCRIPTION", "LOCATION", "NAME", "X-WR-CALNAME", "UID"}


@dataclass
class Component:
    name: str
    props: list[tuple[str, str, str]] = field(default_factory=list)  # name, params, raw value
    children: list[Component] = field(default_factory=list)

    def all(self, name: str) -> list[str]:
        return [v for n, _, v in self.props if n == name]

    def one(self, name: str) -> str:
        values = self.all(name)
        assert len(values) == 1, f"{self.name} has {len(values)} {name}"
        return values[0]

    def text(self, name: str) -> str:
        return unescape(self.one(name))


def unescape(value: str) -> str:
    """RFC 5545 TEXT: only \\\\, \\;, \\, and \\n/\\N are escapes; bare , or ; is an error."""
    out, i = [], 0
    while i < len(value):
        ch = value[i]
        if ch == "\\":
            nxt = value[i + 1 : i + 2]
            assert nxt in ("\\", ";", ",", "n", "N"), f"bad escape \\{nxt} in {value!r}"
            out.append("\n" if nxt in "nN" else nxt)
            i += 2
            continue
        assert ch not in ",;", f"unescaped {ch!r} in {value!r}"
        out.append(ch)
        i += 1
    return "".join(out)


def parse(body: bytes) -> Component:
    text = body.decode("utf-8")
    assert text.endswith("\r\n"), "the last line must end in CRLF"
    assert "\n" not in text.replace("\r\n", ""), "bare LF"
    assert "\r" not in text.replace("\r\n", ""), "bare CR"
    physical = text[:-2].split("\r\n")
    for line in physical:
        assert len(line.encode("utf-8")) <= 75, f"line longer than 75 octets: {line!r}"
        assert line, "empty line"
    logical: list[str] = []
    for line in physical:
        if line[0] in " \t":
            assert logical, "continuation before any line"
            logical[-1] += line[1:]
        else:
            logical.append(line)
    root: Component | None = None
    stack: list[Component] = []
    for line in logical:
        head, sep, value = line.partition(":")
        assert sep, f"no colon in {line!r}"
        name, _, params = head.partition(";")
        assert NAME.match(name), f"bad property name {name!r}"
        if name == "BEGIN":
            comp = Component(value)
            if stack:
                stack[-1].children.append(comp)
            else:
                assert root is None, "two top-level components"
                root = comp
            stack.append(comp)
        elif name == "END":
            assert stack and stack[-1].name == value, f"END:{value} does not close"
            stack.pop()
        else:
            assert stack, f"{name} outside a component"
            stack[-1].props.append((name, params, value))
    assert root is not None and not stack, "unbalanced BEGIN/END"
    assert root.name == "VCALENDAR"
    assert root.one("VERSION") == "2.0"
    assert root.one("PRODID")
    for event in root.children:
        assert event.name == "VEVENT"
        for prop in ("UID", "DTSTAMP", "DTSTART", "DTEND"):
            value = event.one(prop)
            if prop != "UID":
                assert UTC_TIME.match(value), f"{prop} {value!r} is not UTC"
        assert event.one("DTEND") > event.one("DTSTART")
        assert event.one("STATUS") in ("CONFIRMED", "CANCELLED")
    for comp in (root, *root.children):
        for n, _, v in comp.props:
            if n in TEXT_PROPS:
                unescape(v)
    return root


def when(value: str) -> datetime:
    return datetime.strptime(value, "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)


# --- The writer on its own ---------------------------------------------------------------


def test_escaping_round_trips_awkward_text() -> None:
    awkward = "Tea, cake; and a back\\slash\r\nNew line\rOld Mac line\nÜnïcödé\x07bell"
    assert unescape(ical.escape_text(awkward)) == (
        "Tea, cake; and a back\\slash\nNew line\nOld Mac line\nÜnïcödébell"
    )


@pytest.mark.parametrize("char", ["a", "é", "€", "😀"])
def test_folding_never_splits_a_character_or_passes_75_octets(char: str) -> None:
    line = "DESCRIPTION:" + char * 200
    folded = ical.fold(line)
    pieces = folded.split("\r\n")
    assert all(len(p.encode("utf-8")) <= 75 for p in pieces)
    assert all(p.startswith(" ") for p in pieces[1:])
    assert "".join([pieces[0], *(p[1:] for p in pieces[1:])]) == line
    assert len(pieces[0].encode()) > 75 - len(char.encode())  # lines are filled, not short


def test_a_calendar_parses_strictly() -> None:
    start = datetime(2026, 11, 3, 18, tzinfo=UTC)
    body = ical.calendar(
        "Test; calendar, one",
        [
            ical.Event(
                uid="x@peerhub",
                stamp=start,
                start=start,
                end=start.replace(hour=19),
                summary="A, B; C",
                description="Long " * 40,
                location="Room 1, 2 Example Street",
                url="https://example.org/groups/x",
                geo=(53.8, -1.55),
            )
        ],
    )
    cal = parse(body.encode())
    assert cal.text("NAME") == "Test; calendar, one"
    event = cal.children[0]
    assert event.text("SUMMARY") == "A, B; C"
    assert event.one("GEO") == "53.800000;-1.550000"
    with pytest.raises(ValueError, match="timezone-aware"):
        ical.utc_stamp(datetime(2026, 1, 1))  # noqa: DTZ001 - the point of the test


def test_the_parser_rejects_broken_calendars() -> None:
    """Guard: the strict parser must be able to fail."""
    good = ical.calendar("c", []).encode()
    parse(good)
    broken = {
        "bare LF": good.replace(b"\r\n", b"\n"),
        "no final CRLF": good[:-2],
        "long line": good.replace(b"NAME:c", b"NAME:" + b"c" * 80),
        "unescaped comma": good.replace(b"NAME:c", b"NAME:a,b"),
        "unbalanced": good.replace(b"END:VCALENDAR\r\n", b""),
    }
    for what, body in broken.items():
        try:
            parse(body)
        except AssertionError:
            continue
        pytest.fail(f"not caught: {what}")


# --- The feeds ----------------------------------------------------------------------------


async def feed(client: httpx.AsyncClient, path: str) -> Component:
    response = await client.get(path)
    assert response.status_code == 200, response.text[:300]
    assert response.headers["content-type"] == "text/calendar; charset=utf-8"
    return parse(response.content)


async def test_a_group_feed_crosses_the_clock_change(
    client: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession], clock: FakeClock
) -> None:
    clock.now = datetime(2027, 3, 20, 12, 0, tzinfo=UTC)
    o = b.org()
    g = b.group(
        o,
        "tuesdays",
        name="Tuesday Talk, Leeds; all welcome",
        description="Line one,\nline two; with \\ and ünïcode " + "and more words " * 10,
        fmt="in_person",
        rrule="FREQ=WEEKLY;BYDAY=TU",
        dtstart="2026-09-01T18:00:00",
        exdates=["2027-04-06T18:00:00"],
    )
    await b.save(sessions, o, g)
    cal = await feed(client, "/groups/tuesdays.ics")
    events = cal.children
    confirmed = [e for e in events if e.one("STATUS") == "CONFIRMED"]
    cancelled = [e for e in events if e.one("STATUS") == "CANCELLED"]
    assert len(confirmed) == FEED_MEETINGS
    starts = [when(e.one("DTSTART")) for e in confirmed]
    # 18:00 in London is 18:00 UTC before 28 March 2027 and 17:00 UTC after it.
    assert starts[0] == datetime(2027, 3, 23, 18, tzinfo=UTC)
    assert starts[1] == datetime(2027, 3, 30, 17, tzinfo=UTC)
    assert all(s.weekday() == 1 for s in starts)
    assert datetime(2027, 4, 6, 17, tzinfo=UTC) not in starts
    assert [when(e.one("DTSTART")) for e in cancelled] == [datetime(2027, 4, 6, 17, tzinfo=UTC)]
    assert cancelled[0].one("UID") == f"{g.id}-20270406T170000Z@testserver"
    first = confirmed[0]
    assert first.text("SUMMARY") == "Tuesday Talk, Leeds; all welcome"
    assert first.text("DESCRIPTION").startswith("Line one,\nline two; with \\ and ünïcode")
    assert "http://testserver/groups/tuesdays" in first.text("DESCRIPTION")
    assert first.text("LOCATION") == "Hollybank Centre, 12 Example Street, Leeds, LS1 3AD"
    assert first.one("URL") == "http://testserver/groups/tuesdays"
    assert first.one("DTSTAMP") == "20261001T120000Z"
    assert when(first.one("DTEND")) - when(first.one("DTSTART")) == (
        datetime(2026, 1, 1, 19, 30) - datetime(2026, 1, 1, 18)  # noqa: DTZ001
    )
    uids = [e.one("UID") for e in events]
    assert len(set(uids)) == len(uids)
    again = await feed(client, "/groups/tuesdays.ics")
    assert [e.one("UID") for e in again.children] == uids


async def test_the_search_feed_follows_the_filters_and_is_bounded(
    client: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession]
) -> None:
    o = b.org()
    many = [b.group(o, f"en-{i:02d}", languages=("en",)) for i in range(FEED_GROUPS + 5)]
    urdu = b.group(o, "urdu", languages=("ur",), rrule="FREQ=WEEKLY;BYDAY=FR")
    await b.save(sessions, o, urdu, *many)
    only = await feed(client, "/groups.ics?language=ur")
    assert {e.text("SUMMARY") for e in only.children} == {"Urdu"}
    assert all(when(e.one("DTSTART")).weekday() == 4 for e in only.children)
    everything = await feed(client, "/groups.ics")
    groups = {e.one("UID").split("-2026")[0].split("-2027")[0] for e in everything.children}
    assert len(groups) == FEED_GROUPS
    assert f"the first {FEED_GROUPS} of {FEED_GROUPS + 6}" in everything.text("DESCRIPTION")
    starts = [e.one("DTSTART") for e in everything.children]
    assert starts == sorted(starts)


async def test_feed_errors(client: httpx.AsyncClient) -> None:
    assert (await client.get("/groups/no-such-group.ics")).status_code == 404
    bad = await client.get("/groups.ics?postcode=NOPE", headers={"Accept": "application/json"})
    assert bad.status_code == 422
    assert bad.json()["field"] == "postcode"


async def test_paused_groups_have_an_empty_feed(
    client: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession]
) -> None:
    o = b.org()
    await b.save(sessions, o, b.group(o, "resting", status="paused"))
    assert (await feed(client, "/groups/resting.ics")).children == []


async def test_the_feeds_words_are_in_the_requests_language(
    db_url: str, tmp_path: Path, sessions: async_sessionmaker[AsyncSession], clock: FakeClock
) -> None:
    """SUMMARY, DESCRIPTION, LOCATION and the calendar's name come from the catalogue in
    the language the request carries (here ``?lang=`` of the pseudo-language, in which
    any word left in English shows); the group's own words stay as the group wrote them."""
    clock.now = datetime(2027, 3, 20, 12, 0, tzinfo=UTC)
    o = b.org()
    online = b.group(
        o, "online-talk", name="Online Talk", fmt="online", exdates=["2027-03-30T18:00:00"]
    )
    hybrid = b.group(o, "hybrid-talk", name="Hybrid Talk", fmt="hybrid")
    await b.save(sessions, o, online, hybrid)
    settings = make_settings(db_url, tmp_path, pseudo_locale=True)
    try:
        async with app_client(settings, clock=clock) as client:
            cal = await feed(client, "/groups/online-talk.ics?lang=en-XA")
            both = await feed(client, "/groups.ics?lang=en-XA")
            english = await feed(client, "/groups/online-talk.ics")
    finally:
        i18n.enable_pseudo(False)
    P = i18n.pseudo
    assert cal.text("X-WR-CALNAME") == P("%(group)s (PeerHub)") % {"group": "Online Talk"}
    assert cal.text("DESCRIPTION") == P("Sessions of %(group)s.") % {"group": "Online Talk"}
    first = next(e for e in cal.children if e.one("STATUS") == "CONFIRMED")
    gone = next(e for e in cal.children if e.one("STATUS") == "CANCELLED")
    assert first.text("SUMMARY") == "Online Talk"  # the group's own name
    assert gone.text("SUMMARY") == P("Cancelled: %(group)s") % {"group": "Online Talk"}
    assert first.text("LOCATION") == P("Online (join the group on PeerHub for the room)")
    run_by = P("Run by %(organisation)s. More, and how to join: %(url)s") % {
        "organisation": o.name,
        "url": "http://testserver/groups/online-talk",
    }
    assert first.text("DESCRIPTION") == f"The online-talk group.\n\n{run_by}"
    assert both.text("X-WR-CALNAME") == P("PeerHub groups")
    assert both.text("DESCRIPTION") == P(
        "Sessions of all peer support groups matching a PeerHub search."
    )
    mixed = next(e for e in both.children if e.text("SUMMARY") == "Hybrid Talk")
    assert mixed.text("LOCATION").endswith(P("%(address)s (or online)").split("%(address)s")[1])
    # Without a language the feed is British English, as before.
    assert english.text("X-WR-CALNAME") == "Online Talk (PeerHub)"
    plain = next(e for e in english.children if e.one("STATUS") == "CANCELLED")
    assert plain.text("SUMMARY") == "Cancelled: Online Talk"
