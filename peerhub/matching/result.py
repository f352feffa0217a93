"""Turning the chosen groups into a :class:`MatchResult`: reasons, what was
relaxed, and next steps that are always there."""

from __future__ import annotations

from collections.abc import Sequence

from peerhub.taxonomy import ACCESS

from . import text as tx
from .model import (
    RELAXATION_ORDER,
    GroupProfile,
    MatchItem,
    MatchResult,
    NextStep,
    Relaxation,
    time_zone,
)
from .rules import distance_limit, is_minor
from .scoring import Assessment, Context, explain, fit_is_good, widened

__all__ = ["build_result", "next_steps", "relaxed_statements"]


def _or(items: Sequence[str]) -> str:
    return tx.or_list(items)


def relaxed_statements(
    codes: Sequence[Relaxation], ctx: Context, assessed: Sequence[Assessment]
) -> tuple[str, ...]:
    """Plain statements of what was relaxed, one per need, in the order they were
    relaxed. They say what is *included*, never why a group is missing (so a group
    left out for a blocked member stays invisible)."""
    needs = ctx.needs
    limit, cap = distance_limit(needs)
    out: list[str] = []
    for code in codes:
        if code == "distance":
            out.append(
                tx._(
                    "Includes in-person groups more than %(limit)s km away, "
                    "up to %(cap)s km and never further",
                    limit=tx.Text(f"{limit:g}", f"{limit:g}", kind="number"),
                    cap=tx.Text(f"{cap:g}", f"{cap:g}", kind="number"),
                )
            )
        elif code == "format":
            out.append(
                tx._("Includes groups you would join online, although you asked for in person")
            )
        elif code == "access":
            missing: list[str] = []
            for a in assessed:
                for c in a.essential_missing:
                    if c not in missing:
                        missing.append(c)
            labels = [tx.Text(ACCESS.label(c), ACCESS.label(c)) for c in missing]
            out.append(
                tx._(
                    "Includes groups without %(features)s, which you marked essential",
                    features=_or(labels),
                )
            )
        elif code == "age":
            out.append(tx._("Includes groups for adults whose age range does not include your age"))
        elif code == "language":
            names = [tx.language(t) for t in needs.languages]
            out.append(
                tx._(
                    "Includes groups that do not meet in %(languages)s or offer interpretation",
                    languages=_or(names),
                )
            )
    return tuple(out)


def next_steps(
    crisis: bool, good_fit: bool, full_ids: Sequence[str], minor: bool = False
) -> tuple[NextStep, ...]:
    """Always three steps; the crisis contacts come first for someone near crisis.
    For someone under 18 the services for young people come before everything."""
    young = NextStep(
        "young_people",
        tx._(
            "You can talk to people who help young people, free and in confidence: "
            "see the services for young people."
        ),
    )
    crisis_step = NextStep(
        "crisis_contacts",
        tx._(
            "If you need help now, you can talk to someone straight away: see the crisis contacts."
        ),
    )
    if full_ids:
        n = len(full_ids)
        text = tx.ngettext(
            "%(num)s of these groups is full: join a waiting list "
            "and places are offered fairly as they free up.",
            "%(num)s of these groups are full: join a waiting list "
            "and places are offered fairly as they free up.",
            n,
        )
    else:
        text = tx._(
            "If a group is full, join its waiting list: places are offered fairly as they free up."
        )
    waiting = NextStep("waiting_list", text, tuple(full_ids))
    if good_fit:
        interest_text = tx._(
            "Looking for something different? Register interest in a group that does not exist yet."
        )
    else:
        interest_text = tx._(
            "No group fits everything you asked for yet. Register interest and organisers "
            "will see, without your name, that a group like this is needed."
        )
    interest = NextStep("register_interest", interest_text)
    steps = (crisis_step, waiting, interest) if crisis else (waiting, interest, crisis_step)
    return (young, *steps) if minor else steps


def build_result(ctx: Context, chosen: Sequence[tuple[GroupProfile, Assessment]]) -> MatchResult:
    needs = ctx.needs
    items: list[MatchItem] = []
    used: set[Relaxation] = set()
    for group, a in chosen:
        reasons, mismatches = explain(group, a, needs, ctx)
        said, covered = widened(group, a, needs, ctx)
        used.update(a.violations)
        when = a.next_meeting
        items.append(
            MatchItem(
                group_id=group.id,
                name=group.name,
                url=group.url,
                score=a.score,
                action="join" if a.open else "waiting_list",
                next_meeting=when.astimezone(time_zone(group.time_zone)) if when else None,
                reasons=reasons,
                mismatches=mismatches,
                relaxed=a.violations,
                distance_km=round(a.distance_km, 1) if a.distance_km is not None else None,
                places_left=group.places_left,
                crisis_priority=a.priority,
                widened=said,
                other_mismatches=tuple(m for m in mismatches if m not in covered),
                who=a.who,
            )
        )
    codes = tuple(c for c in RELAXATION_ORDER if c in used)
    assessed = [a for _, a in chosen]
    good = any(fit_is_good(a, needs, group) for group, a in chosen)
    crisis = needs.stage == "approaching_crisis"
    full_ids = [i.group_id for i in items if i.action == "waiting_list"]
    return MatchResult(
        results=tuple(items),
        relaxed=relaxed_statements(codes, ctx, assessed),
        relaxed_codes=codes,
        next_steps=next_steps(crisis, good, full_ids, minor=is_minor(needs)),
        crisis_first=crisis,
        good_fit=good,
    )
