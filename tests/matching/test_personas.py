"""The persona set as a quality check (issue 11, section 4): the total score must not
drop below FLOOR, and no harmful answer may appear that is not a known one.

When matching improves, raise FLOOR to the new total and remove the harms that are
gone from KNOWN_HARM (``.venv/bin/python tools/personas.py`` prints both). A new
harm is never added here to make the test pass: fix the engine instead, or, if the
fix belongs to another piece of work in progress, add it with a comment naming the
issue point that fixes it.
"""

from __future__ import annotations

from tests.matching.personas import DIRECTORY, PERSONAS, check, run

#: The total score when this was last merged (docs/matching.md, "Persona set").
FLOOR = 190

#: Harmful answers known today: (person, harmful group anywhere in their results).
KNOWN_HARM: frozenset[tuple[str, str]] = frozenset(
    # None since "groups for some people only" (issue 11, section 2) was merged: the
    # men shown women-only groups, and the woman shown a men-only group, see them no more.
)


def test_the_persona_set_is_well_made() -> None:
    check()
    assert len(PERSONAS) >= 40
    assert len(DIRECTORY) >= 40
    # The seeds' world: sign languages, every stage, under-18s and older people.
    langs = {t for p in PERSONAS for t in p.languages}
    assert {"bfi", "ise"} <= langs
    assert {p.stage for p in PERSONAS} >= {"approaching_crisis", "recovery", "staying_well"}
    ages = [p.age for p in PERSONAS if p.age is not None]
    assert min(ages) < 18 and max(ages) >= 70


def test_no_harmful_answer_beyond_the_known_ones() -> None:
    harms = {(s.persona.id, g) for s in run() for g in s.harms}
    new = sorted(harms - KNOWN_HARM)
    assert not new, f"harmful groups in a person's results: {new}"


def test_the_score_does_not_drop() -> None:
    scored = run()
    total = sum(s.score for s in scored)
    table = "\n".join(f"{s.persona.id}: {s.score} {s.top}" for s in scored if s.score < 3)
    assert total >= FLOOR, f"persona score {total} is below {FLOOR}:\n{table}"


def test_the_scoring_can_fail() -> None:
    """The scorer gives 0 for a harmful first answer and 3 for an ideal one."""
    from tests.matching.personas import index, needs_for, score

    p = next(p for p in PERSONAS if p.id == "teen_suicidal")
    result = index().match(needs_for(p))
    scored = score(p, result)
    assert scored.score in (0, 1, 2, 3)
    from dataclasses import replace

    harmed = replace(p, harmful=(result.results[0].group_id,), ideal=("teens_online",))
    assert score(harmed, result).score == 0 and score(harmed, result).harms
    ideal_first = replace(p, ideal=(result.results[0].group_id,), harmful=())
    assert score(ideal_first, result).score == 3
