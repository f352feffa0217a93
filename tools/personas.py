"""Print the persona set's table and score: each person, their first three results,
the score (0 to 3) and any harmful answer (tests/matching/personas.py).

Run:  .venv/bin/python tools/personas.py [--details] [--only ID[,ID...]]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.matching.personas import PERSONAS, check, run


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--details", action="store_true", help="reasons of each top result")
    parser.add_argument("--only", default="", help="comma-separated persona ids")
    args = parser.parse_args(argv)
    check()
    wanted = {x for x in args.only.split(",") if x}
    personas = [p for p in PERSONAS if not wanted or p.id in wanted]
    scored = run(personas)
    print("| person | score | first three | ideal | harm |")
    print("|---|---:|---|---|---|")
    for s in scored:
        harm = ", ".join(s.harms) or ""
        print(
            f"| {s.persona.id} | {s.score} | {', '.join(s.top) or '(none)'} | "
            f"{', '.join(s.persona.ideal)} | {harm} |"
        )
        if args.details:
            for r in s.result.results[:3]:
                print(
                    f"|   | {r.score:.2f} | {r.group_id}: {'; '.join(r.reasons)} |"
                    f" {'; '.join(r.mismatches)} | {', '.join(r.relaxed)} |"
                )
    total = sum(s.score for s in scored)
    best = 3 * len(scored)
    perfect = sum(s.score == 3 for s in scored)
    harmed = sum(bool(s.harms) for s in scored)
    print()
    print(
        f"{len(scored)} people: total {total} of {best}, mean {total / len(scored):.2f}; "
        f"{perfect} got a link worker's first pick first; {harmed} were shown a harmful group"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
