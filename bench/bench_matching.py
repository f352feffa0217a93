"""Benchmark the matching engine and the waiting-list allocation.

Run:  .venv/bin/python bench/bench_matching.py [--queries 400] [--sizes 10000,100000]

Generates a seeded, UK-shaped directory (groups clustered around cities, mostly
English with the languages of each city's communities, a fifth hybrid, weekly and
fortnightly meetings over eight weeks), builds a GroupIndex, and times single
matches for a mix of common needs, rare needs, crisis searches and searches that
find nothing under the hard constraints (so relaxation runs). Then times the
allocation of 2,000 people to 500 groups. Prints a Markdown table.
"""

from __future__ import annotations

import argparse
import os
import platform
import random
import statistics
import sys
import time as clock
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from peerhub.matching import (
    AccessNeed,
    GroupFormat,
    GroupIndex,
    GroupProfile,
    NeedFormat,
    Needs,
    Stage,
    Waiter,
    WaitlistEntry,
    Window,
    allocate,
)
from peerhub.taxonomy import ACCESS_CODES, COMMUNITY_CODES, TOPIC_CODES

NOW = datetime(2025, 3, 4, 9, 30, tzinfo=UTC)

# (name, lat, lon, weight, local languages beyond English)
CITIES = [
    ("London", 51.507, -0.128, 30, ("ur", "bn", "syl", "pa", "so", "pl", "ar", "tr", "yue", "ti")),
    ("Birmingham", 52.486, -1.890, 8, ("ur", "pa", "pa-Guru", "bn", "so", "ar")),
    ("Manchester", 53.481, -2.242, 7, ("ur", "pa", "ar", "so", "pl", "yue")),
    ("Leeds", 53.801, -1.549, 5, ("ur", "pa", "pl", "ku")),
    ("Bradford", 53.795, -1.759, 3, ("ur", "pa", "pa-Arab", "bn")),
    ("Glasgow", 55.864, -4.252, 5, ("gd", "ur", "pl", "ar")),
    ("Cardiff", 51.481, -3.179, 4, ("cy", "so", "ar")),
    ("Bristol", 51.455, -2.588, 4, ("so", "pl", "ur")),
    ("Leicester", 52.637, -1.140, 3, ("gu", "pa", "pa-Guru", "so")),
    ("Newcastle", 54.978, -1.618, 3, ("pl", "ar", "bn")),
    ("Sheffield", 53.381, -1.470, 3, ("ur", "ar", "so", "yue")),
    ("Liverpool", 53.408, -2.991, 3, ("ar", "so", "yue")),
    ("Nottingham", 52.954, -1.158, 2, ("pa", "ur", "pl")),
    ("Edinburgh", 55.953, -3.188, 3, ("gd", "pl", "zh")),
    ("Belfast", 54.597, -5.930, 2, ("ga", "pl", "pt")),
    ("Swansea", 51.621, -3.944, 1, ("cy",)),
    ("Bangor", 53.227, -4.129, 1, ("cy",)),
    ("Norwich", 52.630, 1.297, 1, ("pt", "lt")),
    ("Plymouth", 50.375, -4.143, 1, ("pl",)),
    ("Inverness", 57.478, -4.224, 1, ("gd",)),
]
WEIGHTS = [c[3] for c in CITIES]
COMMUNITY_LIST = sorted(COMMUNITY_CODES)
TOPIC_LIST = sorted(TOPIC_CODES)
ACCESS_LIST = sorted(ACCESS_CODES)
STAGES: tuple[Stage, ...] = ("approaching_crisis", "recovery", "staying_well")
FORMATS: tuple[GroupFormat, ...] = ("online", "in_person", "hybrid")
NEED_FORMATS: tuple[NeedFormat, ...] = ("online", "either", "in_person")


def near(rng: random.Random, lat: float, lon: float, km: float) -> tuple[float, float]:
    return (lat + rng.gauss(0, km / 111), lon + rng.gauss(0, km / 70))


def make_group(rng: random.Random, i: int) -> GroupProfile:
    city = rng.choices(CITIES, WEIGHTS)[0]
    fmt = rng.choices(FORMATS, (40, 40, 20))[0]
    languages: tuple[str, ...] = ("en",)
    if rng.random() < 0.3:
        local = rng.choice(city[4])
        languages = (local,) if rng.random() < 0.5 else (local, "en")
    interpretation = ("bfi",) if rng.random() < 0.06 else ()
    if rng.random() < 0.01:
        languages = ("bfi",)
    communities = frozenset(rng.sample(COMMUNITY_LIST, rng.choice((0, 0, 0, 1, 1, 2))))
    stages = frozenset(rng.sample(STAGES, rng.choice((1, 1, 2, 3))))
    topics = frozenset(rng.sample(TOPIC_LIST, rng.choice((1, 2, 2, 3))))
    weekday, hour = rng.randrange(7), rng.randrange(10, 21)
    first = (NOW + timedelta(days=(weekday - NOW.weekday()) % 7)).replace(
        hour=hour, minute=rng.choice((0, 0, 30))
    )
    if rng.random() < 0.5:
        first -= timedelta(days=7)  # some groups met earlier this week
    step = 7 if rng.random() < 0.7 else 14
    meetings = tuple(first + timedelta(days=step * k) for k in range(56 // step + 1))
    age_min = age_max = None
    if rng.random() < 0.15:
        age_min, age_max = rng.choice(((16, 25), (18, 30), (18, None), (55, None), (None, 18)))
    capacity = rng.randrange(8, 20)
    places = rng.choice((0, 0, 1, 2, 3, 5, 8, None))
    return GroupProfile(
        id=f"g{i:06d}",
        name=f"Group {i}",
        url=f"/groups/g{i:06d}",
        languages=languages,
        interpretation=interpretation,
        communities=communities,
        stages=stages,
        topics=topics,
        format=fmt,
        location=None if fmt == "online" else near(rng, city[1], city[2], 8),
        area="online" if fmt == "online" else city[0][:2].upper() + str(rng.randrange(1, 20)),
        next_meetings=meetings,
        age_min=age_min,
        age_max=age_max,
        access_features=frozenset(rng.sample(ACCESS_LIST, rng.randrange(0, 5))),
        capacity=capacity,
        places_left=places,
        member_ids=frozenset(f"u{rng.randrange(200_000)}" for _ in range(rng.randrange(3, 12))),
        moderator_on_duty=rng.random() < 0.5,
    )


@dataclass
class Query:
    kind: str
    needs: Needs


def make_query(rng: random.Random) -> Query:
    kind = rng.choices(("common", "rare", "crisis", "relax", "generic"), (40, 25, 15, 15, 5))[0]
    city = rng.choices(CITIES, WEIGHTS)[0]
    windows = tuple(
        Window(d, time(h, rng.choice((0, 0, 30))), time(h + 3))
        for d, h in {(rng.randrange(7), rng.randrange(9, 19)) for _ in range(rng.randrange(1, 4))}
    )
    if kind == "common":
        needs = Needs(
            now=NOW,
            languages=("en",),
            stage=rng.choice(STAGES),
            topics=tuple(rng.sample(("anxiety", "depression", "loneliness"), 1)),
            format=rng.choice(NEED_FORMATS),
            location=near(rng, city[1], city[2], 5),
            max_distance_km=rng.choice((5.0, 10.0, 20.0)),
            availability=windows if rng.random() < 0.5 else (),
        )
    elif kind == "rare":
        needs = Needs(
            now=NOW,
            languages=(rng.choice(city[4]), "en"),
            communities=tuple(rng.sample(COMMUNITY_LIST, 2)),
            stage=rng.choice(STAGES),
            topics=tuple(rng.sample(TOPIC_LIST, 3)),
            format="in_person",
            location=near(rng, city[1], city[2], 5),
            max_distance_km=rng.choice((3.0, 5.0)),
            availability=windows,
            age=rng.randrange(18, 80),
            access_needs=(AccessNeed(rng.choice(ACCESS_LIST), True),),
            blocked_user_ids=frozenset({f"u{rng.randrange(200_000)}"}),
        )
    elif kind == "crisis":
        needs = Needs(
            now=NOW,
            languages=(rng.choice(("en", "en", rng.choice(city[4]))),),
            stage="approaching_crisis",
            topics=("suicidal_feelings",) if rng.random() < 0.5 else (),
            format="either",
            location=near(rng, city[1], city[2], 5),
        )
    elif kind == "relax" and rng.random() < 0.5:
        # A language no group meets in, in person within 20 km of a city centre:
        # only the last step (language) finds groups, among thousands nearby.
        needs = Needs(
            now=NOW,
            languages=("ti",),
            stage=rng.choice(STAGES),
            topics=("trauma",),
            format="in_person",
            location=near(rng, city[1], city[2], 2),
            max_distance_km=20.0,
        )
    elif kind == "relax":
        # A language no group meets in, in person within 1 km, two essential needs:
        # nothing passes, so every relaxation step runs.
        needs = Needs(
            now=NOW,
            languages=("ti", "am"),
            communities=("refugees_asylum",),
            stage="recovery",
            format="in_person",
            location=near(rng, city[1], city[2], 30),
            max_distance_km=1.0,
            age=rng.randrange(18, 80),
            access_needs=(AccessNeed("bsl_interpreter", True), AccessNeed("childcare", True)),
        )
    else:
        needs = Needs(now=NOW, languages=("en",))
    return Query(kind, needs)


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    k = max(0, min(len(ordered) - 1, round(p / 100 * len(ordered)) - 1))
    return ordered[k]


def bench_match(size: int, queries: int, seed: int) -> dict[str, object]:
    rng = random.Random(seed)
    groups = [make_group(rng, i) for i in range(size)]
    t0 = clock.perf_counter()
    index = GroupIndex(groups)
    build = clock.perf_counter() - t0
    qs = [make_query(rng) for _ in range(queries)]
    for q in qs[:20]:  # warm up
        index.match(q.needs)
    times: list[float] = []
    cpu: list[float] = []
    by_kind: dict[str, list[float]] = {}
    relaxed = 0
    for q in qs:
        c0 = clock.process_time()
        t0 = clock.perf_counter()
        result = index.match(q.needs)
        dt = (clock.perf_counter() - t0) * 1000
        cpu.append((clock.process_time() - c0) * 1000)
        times.append(dt)
        by_kind.setdefault(q.kind, []).append(dt)
        relaxed += bool(result.relaxed_codes)
        assert result.next_steps
    return {
        "size": size,
        "build_s": build,
        "p50": percentile(times, 50),
        "p95": percentile(times, 95),
        "max": max(times),
        "mean": statistics.fmean(times),
        "cpu_p50": percentile(cpu, 50),
        "cpu_p95": percentile(cpu, 95),
        "relaxed": relaxed,
        "queries": queries,
        "kinds": {k: (len(v), percentile(v, 50), percentile(v, 95)) for k, v in by_kind.items()},
    }


ALLOCATION_CASES = [
    # (label, lists per person (low, high), free places per group drawn from)
    ("skewed popularity, 1-5 lists", (1, 6), (0, 1, 1, 2, 2, 3, 4)),
    ("5-10 lists each, 1 place per group", (5, 11), (1,)),
    ("10-20 lists each, 2-3 places", (10, 21), (2, 3)),
]


def bench_allocate(
    people: int,
    groups: int,
    seed: int,
    lists: tuple[int, int],
    place_choices: tuple[int, ...],
    repeats: int = 3,
) -> dict[str, float]:
    rng = random.Random(seed)
    group_ids = [f"g{i:04d}" for i in range(groups)]
    popularity = [rng.paretovariate(1.2) for _ in group_ids]
    places = {g: rng.choice(place_choices) for g in group_ids}
    waiters = []
    for p in range(people):
        chosen = set(rng.choices(group_ids, popularity, k=rng.randrange(*lists)))
        waiters.append(
            Waiter(
                f"p{p:05d}",
                tuple(WaitlistEntry(g, round(rng.uniform(0, 12), 3)) for g in sorted(chosen)),
                timedelta(days=rng.randrange(0, 365)),
            )
        )
    times = []
    offers = []
    for _ in range(repeats):
        t0 = clock.perf_counter()
        offers = allocate(waiters, places)
        times.append(clock.perf_counter() - t0)
    return {
        "people": people,
        "groups": groups,
        "places": sum(places.values()),
        "entries": sum(len(w.entries) for w in waiters),
        "offers": len(offers),
        "best_s": min(times),
        "worst_s": max(times),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--queries", type=int, default=400)
    parser.add_argument("--sizes", default="10000,100000")
    parser.add_argument("--seed", type=int, default=20250304)
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",") if s]
    print(f"Python {platform.python_version()} on {platform.machine()}, ", end="")
    print(f"{os.cpu_count()} CPUs; seed {args.seed}")
    print(f"load average before: {' '.join(f'{x:.2f}' for x in os.getloadavg())}\n")
    print(
        "| groups | index build | queries | relaxed | p50 | p95 | max | CPU p50 | CPU p95 "
        "| target p95 |"
    )
    print("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    details = []
    for size in sizes:
        r = bench_match(size, args.queries, args.seed + size)
        target = "5 ms" if size <= 10_000 else "50 ms"
        print(
            f"| {size:,} | {r['build_s']:.1f} s | {r['queries']} | {r['relaxed']} | "
            f"{r['p50']:.2f} ms | {r['p95']:.2f} ms | {r['max']:.2f} ms | "
            f"{r['cpu_p50']:.2f} ms | {r['cpu_p95']:.2f} ms | {target} |"
        )
        details.append(r)
    print()
    print("| groups | query kind | count | p50 | p95 |")
    print("|---:|---|---:|---:|---:|")
    for r in details:
        kinds = r["kinds"]
        assert isinstance(kinds, dict)
        for kind, (count, p50, p95) in sorted(kinds.items()):
            print(f"| {r['size']:,} | {kind} | {count} | {p50:.2f} ms | {p95:.2f} ms |")
    print()
    print(
        "| allocation case | people | groups | free places | list entries | offers "
        "| best of 3 | worst | target |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    for label, lists, place_choices in ALLOCATION_CASES:
        a = bench_allocate(2000, 500, args.seed, lists, place_choices)
        print(
            f"| {label} | {a['people']:,.0f} | {a['groups']:.0f} | {a['places']:,.0f} | "
            f"{a['entries']:,.0f} | {a['offers']:,.0f} | {a['best_s']:.2f} s | "
            f"{a['worst_s']:.2f} s | 2 s |"
        )
    print(f"\nload average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
