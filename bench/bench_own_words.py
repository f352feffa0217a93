"""Benchmark what issue 11 added to matching: words of groups' own descriptions and
groups for some people only.

Run:  .venv/bin/python bench/bench_own_words.py [--queries 300] [--sizes 10000,100000]

Takes bench_matching's seeded UK-shaped directory and gives every group a
description of 15 to 40 words drawn (Zipf-like) from a 3,000-word vocabulary, and a
fifth of the groups with communities a community they are for *only* (a tenth of
groups are for women only or men only). Then times single matches of the same mixed
queries three ways: as they are, with a gender, and with a gender and two or three
words of "something else". Prints the build time, the number of distinct words,
and p50/p95 of wall-clock and CPU time.
"""

from __future__ import annotations

import argparse
import dataclasses
import random
import sys
import time as clock
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.bench_matching import make_group, make_query, percentile
from peerhub.matching import Gender, GroupIndex, GroupProfile, Needs

GENDERS: tuple[Gender, ...] = ("woman", "man", "non_binary", "prefer_not_to_say")


def vocabulary(rng: random.Random, size: int = 3000) -> list[str]:
    letters = "abcdefghijklmnopqrstuvwxyz"
    out: set[str] = set()
    while len(out) < size:
        out.add("".join(rng.choice(letters) for _ in range(rng.randrange(4, 10))))
    return sorted(out)


def describe(rng: random.Random, words: list[str], weights: list[float]) -> str:
    return " ".join(rng.choices(words, weights, k=rng.randrange(15, 41)))


def with_words(
    rng: random.Random, group: GroupProfile, words: list[str], w: list[float]
) -> GroupProfile:
    communities = set(group.communities)
    only: set[str] = set()
    roll = rng.random()
    if roll < 0.1:
        gender = rng.choice(("women", "men"))
        communities.add(gender)
        only.add(gender)
    elif roll < 0.2 and communities:
        only.add(rng.choice(sorted(communities)))
    return dataclasses.replace(
        group,
        description=describe(rng, words, w),
        communities=frozenset(communities),
        only_communities=frozenset(only),
    )


def run(size: int, queries: int, seed: int) -> None:
    rng = random.Random(seed)
    words = vocabulary(rng)
    weights = [1 / (i + 1) for i in range(len(words))]
    groups = [with_words(rng, make_group(rng, i), words, weights) for i in range(size)]
    t0 = clock.perf_counter()
    index = GroupIndex(groups)
    build = clock.perf_counter() - t0
    qs = [make_query(rng).needs for _ in range(queries)]
    variants: dict[str, list[Needs]] = {
        "as before": qs,
        "with gender": [dataclasses.replace(n, gender=rng.choice(GENDERS)) for n in qs],
        "gender and own words": [
            dataclasses.replace(
                n,
                gender=rng.choice(GENDERS),
                other=tuple(rng.choices(words, weights, k=rng.randrange(2, 4))),
            )
            for n in qs
        ],
    }
    print(f"\n{size:,} groups: index build {build:.1f} s, {len(index._words):,} distinct words")
    print("| queries | count | p50 | p95 | CPU p50 | CPU p95 |")
    print("|---|---:|---:|---:|---:|---:|")
    for name, needs in variants.items():
        wall: list[float] = []
        cpu: list[float] = []
        for n in needs:
            w0, c0 = clock.perf_counter(), clock.process_time()
            index.match(n, limit=20)
            wall.append((clock.perf_counter() - w0) * 1000)
            cpu.append((clock.process_time() - c0) * 1000)
        print(
            f"| {name} | {len(needs)} | {percentile(wall, 50):.2f} ms | "
            f"{percentile(wall, 95):.2f} ms | {percentile(cpu, 50):.2f} ms | "
            f"{percentile(cpu, 95):.2f} ms |"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--queries", type=int, default=300)
    parser.add_argument("--sizes", default="10000,100000")
    parser.add_argument("--seed", type=int, default=11)
    args = parser.parse_args()
    for size in (int(s) for s in args.sizes.split(",")):
        run(size, args.queries, args.seed)


if __name__ == "__main__":
    main()
