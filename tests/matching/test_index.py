"""The index: maintenance, and agreement with scoring every group one by one."""

from __future__ import annotations

import math
import random
from dataclasses import replace
from datetime import time, timedelta

import pytest

from peerhub.matching import (
    AccessNeed,
    GroupFormat,
    GroupIndex,
    GroupProfile,
    Needs,
    Window,
    match,
)
from peerhub.matching.distances import distance_km

from .helpers import LEEDS, NOW, group, ids, needs, reference, summary


def test_add_replace_remove() -> None:
    index = GroupIndex([group("a"), group("b", languages=("cy",))])
    assert len(index) == 2
    assert "a" in index
    assert [g.id for g in index] == ["a", "b"]
    with pytest.raises(ValueError, match="already"):
        index.add(group("a"))
    index.replace(group("a", places_left=0))
    assert index.match(needs()).results[0].action == "waiting_list"
    index.remove("a")
    assert "a" not in index
    assert index.get("a") is None
    with pytest.raises(KeyError):
        index.remove("a")
    # Only the Welsh group is left, so the language is relaxed to show it.
    assert ids(index.match(needs())) == ["b"]
    index.add(group("c"))
    assert ids(index.match(needs())) == ["c"]
    assert index.get("c") == group("c")


def test_duplicate_ids_are_refused_when_building() -> None:
    with pytest.raises(ValueError, match="twice"):
        GroupIndex([group("a"), group("a")])


def test_removing_the_last_group_with_a_value_forgets_the_value() -> None:
    index = GroupIndex([group("urdu", languages=("ur",), age_min=18, location=None)])
    index.remove("urdu")
    assert index._bits == {}
    assert all(not tags for tags in index._tags.values())
    assert index._age_ranges == set()
    assert index.match(needs(languages=("ur",))).results == ()


def _destination(origin: tuple[float, float], km: float, bearing: float) -> tuple[float, float]:
    r = 6371.0088
    lat1, lon1 = math.radians(origin[0]), math.radians(origin[1])
    d = km / r
    lat2 = math.asin(
        math.sin(lat1) * math.cos(d) + math.cos(lat1) * math.sin(d) * math.cos(bearing)
    )
    lon2 = lon1 + math.atan2(
        math.sin(bearing) * math.sin(d) * math.cos(lat1),
        math.cos(d) - math.sin(lat1) * math.sin(lat2),
    )
    return (math.degrees(lat2), math.degrees(lon2))


@pytest.mark.parametrize("fmt", ["in_person", "either"])
def test_distance_boundaries_are_exact(fmt: str) -> None:
    # Groups a metre either side of every band boundary and of the maximum, in
    # every direction: the index must make the same call as the exact distance.
    limit = 8.0
    rng = random.Random(7)
    groups: list[GroupProfile] = []
    for k, boundary in enumerate((2.5, 5.0, 8.0, 10.0, 20.0)):
        for side in (-0.001, 0.0, 0.001):
            for b in range(6):
                where = _destination(LEEDS, boundary + side, rng.uniform(0, 2 * math.pi))
                groups.append(
                    group(
                        f"g{k}{side:+.3f}{b}",
                        format=rng.choice(("in_person", "hybrid")),
                        location=where,
                    )
                )
    n = needs(format=fmt, location=LEEDS, max_distance_km=limit)
    result = match(groups, n, limit=200)
    assert summary(result) == reference(groups, n, limit=200)
    by_id = {g.id: g for g in groups}
    for r in result.results:
        d = distance_km(LEEDS, by_id[r.group_id].location)  # type: ignore[arg-type]
        if by_id[r.group_id].format == "in_person" or fmt == "in_person":
            assert d <= limit


def _city_groups(rng: random.Random, count: int) -> list[GroupProfile]:
    langs = ("en", "en", "en", "ur", "pa", "pl", "so", "bfi")
    out = []
    for i in range(count):
        fmt: GroupFormat = rng.choice(("online", "in_person", "hybrid"))
        start = NOW + timedelta(minutes=rng.randrange(-2 * 1440, 20 * 1440))
        out.append(
            GroupProfile(
                id=f"g{i:04d}",
                name=f"Group {i}",
                languages=tuple(rng.sample(langs, rng.choice((1, 1, 2)))),
                interpretation=("bfi",) if rng.random() < 0.1 else (),
                communities=frozenset(
                    rng.sample(("somali", "women", "lgbtq", "carers"), rng.randrange(2))
                ),
                stages=frozenset(
                    rng.sample(
                        ("approaching_crisis", "recovery", "staying_well"), rng.randrange(1, 3)
                    )
                ),
                topics=frozenset(
                    rng.sample(
                        ("anxiety", "depression", "trauma", "psychosis", "carers"),
                        rng.randrange(1, 3),
                    )
                ),
                format=fmt,
                location=None
                if fmt == "online"
                else (LEEDS[0] + rng.gauss(0, 0.1), LEEDS[1] + rng.gauss(0, 0.15)),
                next_meetings=tuple(start + timedelta(days=7 * k) for k in range(4)),
                age_min=rng.choice((None, None, None, 18)),
                age_max=rng.choice((None, None, None, 30)),
                access_features=frozenset(
                    rng.sample(("step_free", "captions", "quiet_room"), rng.randrange(3))
                ),
                places_left=rng.choice((None, 0, 1, 3)),
                member_ids=frozenset(rng.sample(("u1", "u2", "u3", "u4", "u5", "u6"), 1)),
                moderator_on_duty=rng.random() < 0.5,
            )
        )
    return out


def _random_needs(rng: random.Random) -> Needs:
    return Needs(
        now=NOW,
        languages=tuple(rng.sample(("en", "ur", "pa", "so", "bfi", "ti"), rng.randrange(0, 3))),
        communities=tuple(rng.sample(("somali", "women", "lgbtq"), rng.randrange(0, 2))),
        stage=rng.choice((None, "approaching_crisis", "recovery", "staying_well")),
        topics=tuple(rng.sample(("anxiety", "depression", "trauma"), rng.randrange(0, 3))),
        format=rng.choice(("online", "in_person", "either")),
        location=rng.choice((None, (LEEDS[0] + rng.gauss(0, 0.1), LEEDS[1] + rng.gauss(0, 0.1)))),
        max_distance_km=rng.choice((None, 1.0, 3.0, 10.0)),
        availability=tuple(
            Window(rng.randrange(7), time(h, rng.choice((0, 15, 30))), time(h + 2))
            for h in rng.sample(range(8, 20), rng.randrange(0, 3))
        ),
        age=rng.choice((None, 25, 40)),
        access_needs=tuple(
            AccessNeed(c, rng.random() < 0.5)
            for c in rng.sample(("step_free", "captions"), rng.randrange(0, 2))
        ),
        blocked_user_ids=frozenset(rng.sample(("u1", "u2", "u3"), rng.randrange(0, 2))),
    )


def test_a_dense_city_agrees_with_scoring_every_group() -> None:
    # Hundreds of groups in one city: equal scores, big tied sets, whole grid cells
    # and partial hours, all compared with the one-by-one reference.
    rng = random.Random(2025)
    groups = _city_groups(rng, 600)
    index = GroupIndex(groups)
    for _ in range(60):
        n = _random_needs(rng)
        limit = rng.choice((1, 5, 20))
        assert summary(index.match(n, limit=limit)) == reference(groups, n, limit=limit)


def test_an_index_kept_up_to_date_matches_a_fresh_one() -> None:
    rng = random.Random(11)
    groups = _city_groups(rng, 200)
    live = GroupIndex(groups[:150])
    for g in groups[:40]:
        live.remove(g.id)
    for g in groups[150:]:
        live.add(g)
    for g in groups[40:80]:
        live.replace(replace(g, places_left=0))
    current = [replace(g, places_left=0) for g in groups[40:80]] + groups[80:]
    fresh = GroupIndex(current)
    for _ in range(30):
        n = _random_needs(rng)
        assert live.match(n) == fresh.match(n)


@pytest.mark.parametrize("now_utc_minute", [0, 10, 40, 70, 100])
def test_the_repeated_hour_when_clocks_go_back(now_utc_minute: int) -> None:
    # On 26 October 2025 London's 01:00-02:00 happens twice (BST, then GMT).
    # Meetings in both passes, searched from moments in and around it.
    from datetime import UTC, datetime

    base = datetime(2025, 10, 26, 0, 0, tzinfo=UTC)  # 01:00 BST, first pass
    now = base + timedelta(minutes=now_utc_minute)
    groups = [
        group(f"s{m:03d}", next_meetings=(base + timedelta(minutes=m),))
        for m in range(-30, 150, 15)
    ]
    for windows in ((), (Window(6, time(1), time(2)),), (Window(6, time(1, 30), time(1, 45)),)):
        n = needs(now=now, availability=windows, stage="approaching_crisis")
        assert summary(match(groups, n, limit=50)) == reference(groups, n, limit=50)
