"""The directory query layer gives the same, correct answers on SQLite and PostgreSQL.

Each test states its expected answer once and runs on both databases (the
``sessions`` fixture is parametrised), so passing on both means equal results.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from itertools import islice

from dateutil.rrule import rrulestr
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from peerhub import geo
from peerhub.directory import query
from peerhub.directory.query import Near, Search
from peerhub.matching.distances import distance_km
from tests.directory import builders as b

DAYS = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")


async def names(
    sessions: async_sessionmaker[AsyncSession], search: Search, **kwargs: object
) -> list[str]:
    async with sessions() as db:
        found = await query.find(db, search, per_page=500, **kwargs)  # type: ignore[arg-type]
        groups = await query.load(db, found.ids)
    assert found.total == len(found.ids)
    return [g.slug for g in groups]


def meeting_weekdays(dtstart_local: str, rule: str) -> set[int]:
    """Weekdays on which the rule's first 120 sessions actually fall."""
    start = datetime.fromisoformat(dtstart_local)
    return {d.weekday() for d in islice(rrulestr(rule, dtstart=start), 120)}


def random_rules(seed: int = 7) -> list[tuple[str, str]]:
    rng = random.Random(seed)
    rules: list[tuple[str, str]] = []
    for i in range(70):
        start = datetime(2026, 1, 1, 18) + timedelta(days=rng.randrange(0, 365))  # noqa: DTZ001
        days = rng.sample(DAYS, rng.randint(1, 3))
        shape = i % 7
        if shape == 0:
            rule = f"FREQ=WEEKLY;BYDAY={','.join(days)}"
        elif shape == 1:
            rule = f"FREQ=WEEKLY;INTERVAL=2;BYDAY={','.join(days)};WKST={rng.choice(DAYS)}"
        elif shape == 2:
            rule = "FREQ=WEEKLY"  # the weekday of the first session
        elif shape == 3:
            rule = f"FREQ=MONTHLY;BYDAY={rng.choice(['1', '2', '-1', '+3'])}{days[0]}"
        elif shape == 4:
            rule = f"freq=monthly;byday={rng.randint(1, 4)}{days[0].lower()},-1{days[-1].lower()}"
        elif shape == 5:
            rule = "FREQ=DAILY"
        else:
            rule = f"WKST={days[0]};FREQ=WEEKLY;BYDAY={days[-1]};COUNT=40"
        rules.append((start.strftime("%Y-%m-%dT%H:%M:%S"), rule))
    return rules


async def test_day_filter_agrees_with_the_meetings_themselves(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    o = b.org()
    rules = random_rules()
    groups = [
        b.group(o, f"g{i:02d}", rrule=rule, dtstart=start) for i, (start, rule) in enumerate(rules)
    ]
    await b.save(sessions, o, *groups)
    expected_by_day: dict[int, set[str]] = {d: set() for d in range(7)}
    for g, (start, rule) in zip(groups, rules, strict=True):
        for day in meeting_weekdays(start, rule.upper()):
            expected_by_day[day].add(g.slug)
    for day in range(7):
        found = set(await names(sessions, Search(days=(day,))))
        assert found == expected_by_day[day], DAYS[day]
    weekend = set(await names(sessions, Search(days=(5, 6))))
    assert weekend == expected_by_day[5] | expected_by_day[6]


async def test_day_of_the_week_corner_cases(sessions: async_sessionmaker[AsyncSession]) -> None:
    o = b.org()
    await b.save(
        sessions,
        o,
        # WKST=TU names the week's start, not a meeting day.
        b.group(o, "wkst", rrule="FREQ=WEEKLY;WKST=TU;BYDAY=FR"),
        b.group(o, "wkst-first", rrule="WKST=TU;FREQ=WEEKLY", dtstart="2026-09-04T18:00:00"),
        # Without BYDAY, a monthly rule falls back to its first session's weekday.
        b.group(o, "monthday", rrule="FREQ=MONTHLY;BYMONTHDAY=15", dtstart="2026-09-15T18:00:00"),
        b.group(o, "daily-weekdays", rrule="FREQ=DAILY;BYDAY=MO,TU,WE,TH,FR"),
    )
    assert await names(sessions, Search(days=(1,))) == ["daily-weekdays", "monthday"]
    assert await names(sessions, Search(days=(4,))) == ["daily-weekdays", "wkst", "wkst-first"]
    assert await names(sessions, Search(days=(6,))) == []


async def test_filters_within_a_kind_widen_and_across_kinds_narrow(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    o = b.org()
    z = b.org("zeta", led=False)
    hidden = b.org("hidden", verified=False)
    rows = [
        b.group(o, "punjabi", languages=("pa-Guru", "en"), communities=("south_asian",)),
        b.group(o, "punjabi-plain", languages=("pa",), stages=("recovery",)),
        b.group(o, "bsl-interpreted", languages=("en",), interpretation=("bfi",)),
        b.group(
            z,
            "women-urdu",
            languages=("ur",),
            communities=("women", "south_asian"),
            stages=("recovery", "staying_well"),
            fmt="hybrid",
            access=("step_free",),
        ),
        b.group(z, "voices", fmt="in_person", topics=("hearing_voices",)),
        b.group(o, "paused", status="paused"),
        b.group(hidden, "unverified"),
    ]
    await b.save(sessions, o, z, hidden, *rows)
    cases: list[tuple[Search, list[str]]] = [
        (Search(), ["bsl-interpreted", "punjabi", "punjabi-plain", "voices", "women-urdu"]),
        (Search(languages=("pa",)), ["punjabi", "punjabi-plain"]),
        (Search(languages=("pa-Guru",)), ["punjabi", "punjabi-plain"]),
        (Search(languages=("pa-Arab",)), ["punjabi-plain"]),
        (Search(languages=("bfi",)), ["bsl-interpreted"]),
        (Search(languages=("ur", "bfi")), ["bsl-interpreted", "women-urdu"]),
        (Search(communities=("women", "south_asian")), ["punjabi", "women-urdu"]),
        (Search(communities=("south_asian",), stages=("recovery",)), ["women-urdu"]),
        (
            Search(formats=("online",)),
            ["bsl-interpreted", "punjabi", "punjabi-plain", "women-urdu"],
        ),
        (Search(formats=("in_person",)), ["voices", "women-urdu"]),
        (Search(formats=("hybrid",)), ["women-urdu"]),
        (Search(formats=("online", "in_person")), await names(sessions, Search())),
        (Search(topics=("hearing_voices",)), ["voices"]),
        (Search(access=("step_free",)), ["women-urdu"]),
        (Search(organisation_ids=(z.id,)), ["voices", "women-urdu"]),
        (Search(peer_led=True), ["bsl-interpreted", "punjabi", "punjabi-plain"]),
        (Search(any_of_kinds=("community",)), ["punjabi", "women-urdu"]),
        (
            Search(statuses=query.STATUSES),
            ["bsl-interpreted", "paused", "punjabi", "punjabi-plain", "voices", "women-urdu"],
        ),
    ]
    for search, expected in cases:
        assert sorted(await names(sessions, search)) == expected, search


async def test_text_search_matches_word_starts_case_insensitively(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    o = b.org()
    await b.save(
        sessions,
        o,
        b.group(o, "a", name="Hearing Voices Leeds", description="A calm space."),
        b.group(o, "b", name="Carers Café", description="Tea, 100% welcome; under_18s too."),
        b.group(o, "c", name="Anxiety group", description="Voices of experience."),
    )
    cases = {
        ("voices",): ["a", "c"],
        ("VOICES", "calm"): ["a"],
        ("hearing-voices",): ["a"],
        ("anx",): ["c"],  # the start of a word
        ("xiety",): [],  # not the middle of one
        ("100%",): ["b"],
        ("under_18s",): ["b"],
        ("18s",): ["b"],
        ("CAFÉ",): ["b"],
        ("caf",): ["b"],
        ("%",): [],  # no letters or digits: nothing is a match
        ("_",): [],
        ("nothing-like-this",): [],
        ("voices", "tea"): [],
    }
    for words, expected in cases.items():
        assert sorted(await names(sessions, Search(words=words))) == expected, words


async def test_modified_after_counts_the_organisation_too(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    old = datetime(2026, 1, 1, tzinfo=UTC)
    new = datetime(2026, 10, 30, tzinfo=UTC)
    quiet = b.org("quiet", updated_at=old)
    renamed = b.org("renamed", updated_at=new)
    await b.save(
        sessions,
        quiet,
        renamed,
        b.group(quiet, "untouched", updated_at=old),
        b.group(quiet, "edited", updated_at=new),
        b.group(renamed, "org-renamed", updated_at=old),
    )
    cut = datetime(2026, 10, 1, tzinfo=UTC)
    assert await names(sessions, Search(modified_after=cut)) == ["edited", "org-renamed"]
    assert await names(sessions, Search(modified_after=new)) == ["edited", "org-renamed"]
    assert await names(sessions, Search(modified_after=new + timedelta(seconds=1))) == []


def _place(lat: float, lon: float) -> dict[str, object]:
    return {"address": "Somewhere, Town", "postcode": "LS1 1AA", "latitude": lat, "longitude": lon}


async def test_distance_is_exact_inside_the_bounding_box(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    centre = (53.8, -1.55)
    o = b.org()
    # Due east: the box's corner is further than the radius, so a point in the corner
    # passes the SQL prefilter and must be dropped by the exact distance.
    east = geo.bounding_box(centre, 10).east
    north = geo.bounding_box(centre, 10).north
    rows = [
        b.group(o, "near", fmt="in_person", place=_place(53.81, -1.55)),
        b.group(o, "edge-in", fmt="hybrid", place=_place(53.8, east - 0.002)),
        b.group(o, "edge-out", fmt="in_person", place=_place(53.8, east + 0.002)),
        b.group(o, "corner", fmt="in_person", place=_place(north - 0.001, east - 0.001)),
        b.group(o, "online", fmt="online"),
        b.group(o, "nowhere", fmt="in_person", place=_place(0, 0) | {"latitude": None}),
    ]
    await b.save(sessions, o, *rows)
    near = Near(centre[0], centre[1], 10)
    async with sessions() as db:
        found = await query.find(db, Search(near=near), per_page=10)
        by_id = {g.id: g.slug for g in await query.load(db, found.ids)}
    assert [by_id[i] for i in found.ids] == ["near", "edge-in"]
    assert found.total == 2
    distances = [found.distances_km[i] for i in found.ids]
    assert distances == sorted(distances) and distances[1] <= 10
    for g in rows[:4]:
        if g.latitude is not None and g.longitude is not None:
            km = distance_km(centre, (g.latitude, g.longitude))
            assert (km <= 10) == (g.slug in ("near", "edge-in")), (g.slug, km)


async def test_order_is_by_name_in_byte_order_then_id_and_pages_do_not_overlap(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    o = b.org()
    titles = ["beta", "Beta", "Alpha", "Ŵyddfa", "Zulu", "alpha", "Éclair", "Same", "Same", "Same"]
    rows = [b.group(o, f"g{i}", name=t) for i, t in enumerate(titles)]
    await b.save(sessions, o, *rows)
    expected = [g.id for g in sorted(rows, key=lambda g: (g.name.encode(), g.id))]
    got: list[str] = []
    async with sessions() as db:
        for page in (1, 2, 3, 4):
            found = await query.find(db, Search(), page=page, per_page=3)
            assert found.total == len(rows)
            got += found.ids
        by_id = await query.find(db, Search(), per_page=20, order="id")
    assert got == expected
    assert by_id.ids == sorted(g.id for g in rows)


async def test_places_taken_counts_active_members_only(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    o = b.org()
    g = b.group(o, "g", capacity=3)
    people = [b.user(f"p{i}") for i in range(4)]
    await b.save(
        sessions,
        o,
        g,
        *people,
        b.member(g, people[0]),
        b.member(g, people[1]),
        b.member(g, people[2], role="moderator"),
        b.member(g, people[3], status="requested"),
    )
    async with sessions() as db:
        assert await query.places_taken(db, [g.id]) == {g.id: 2}
        assert await query.places_taken(db, []) == {}


async def test_sites_list_each_way_to_attend(sessions: async_sessionmaker[AsyncSession]) -> None:
    o = b.org()
    rows = [
        b.group(o, "on", fmt="online"),
        b.group(o, "both", fmt="hybrid"),
        b.group(o, "venue", fmt="in_person"),
    ]
    await b.save(sessions, o, *rows)
    kinds = {"on": ["virtual"], "both": ["physical", "virtual"], "venue": ["physical"]}
    expected = sorted((g.id, k) for g in rows for k in kinds[g.slug])
    async with sessions() as db:
        whole = await query.find_sites(db, Search(), page=1, per_page=10)
        paged = [
            site
            for page in (1, 2)
            for site in (await query.find_sites(db, Search(), page=page, per_page=2)).sites
        ]
    assert whole.sites == expected and whole.total == 4
    assert paged == expected


async def test_a_capped_count_says_at_least_and_pages_still_line_up(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    o = b.org()
    rows = [b.group(o, f"g{i:02d}", name=f"Group {i:02d}") for i in range(12)]
    await b.save(sessions, o, *rows)
    everyone = [g.id for g in rows]
    async with sessions() as db:
        pages = [
            await query.find(db, Search(), page=p, per_page=3, count_limit=5) for p in (1, 2, 3, 4)
        ]
        exact = await query.find(db, Search(), page=2, per_page=3)
        small = await query.find(db, Search(), page=1, per_page=3, count_limit=20)
        text = await query.find(db, Search(words=("group",)), page=2, per_page=3, count_limit=5)
    assert [p.ids for p in pages] == [everyone[i : i + 3] for i in (0, 3, 6, 9)]
    assert all((p.total, p.at_least) == (5, True) for p in pages)
    assert (exact.total, exact.at_least) == (12, False)
    assert (small.total, small.at_least, small.ids) == (12, False, everyone[:3])
    # A word search reads its matches from the word index and counts them exactly.
    assert (text.total, text.at_least, text.ids) == (12, False, everyone[3:6])
