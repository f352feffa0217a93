"""How far a search may be widened, and what each access need applies to.

Pure rules, no I/O: the order in which a person's needs are relaxed when no group
meets them all, how much harm each relaxation does, the words said to the person,
the cap on how far distance widens, the rules that are never relaxed (age for
under-18s, online only, in-person groups beyond the cap), and the scope of each
access need (a venue, an online meeting, a language interpreter, or every meeting).

See docs/matching.md, "Widening a search only as far as is safe".
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final, Literal

from peerhub.languages import relate

from .model import GroupProfile, NeedFormat, Needs, Relaxation

__all__ = [
    "ACCESS_KINDS",
    "ADULT_AGE",
    "BROKEN_PRIORITY_UNIT",
    "RELAXATION_STEPS",
    "WIDEN_CAP_KM",
    "AccessKind",
    "RelaxationStep",
    "access_applies",
    "access_kind",
    "access_met",
    "admits_minors",
    "age_relaxable",
    "broken_rank",
    "distance_limit",
    "harm",
    "interpreter_language",
    "is_minor",
    "joins_in_person",
    "met_by_language",
    "relaxable_steps",
    "welcomes_age",
]

#: People under this age are minors: their age is never relaxed.
ADULT_AGE: Final = 18

#: Distance is never widened beyond this (km), whatever the person asked for: an
#: in-person group further away than this is never offered to them; online and
#: hybrid groups (joined online) are offered instead. A person who gave a maximum
#: above the cap keeps their own maximum and it is not widened. A person who gave a
#: place but no maximum is offered in-person groups within the cap only.
WIDEN_CAP_KM: Final = 50.0

#: Priority of "broke fewer needs" in the best-first search: it outweighs every
#: other priority there (the crisis-first ranking and groups open to the person),
#: which stay below this unit.
BROKEN_PRIORITY_UNIT: Final = 1 << 8


@dataclass(frozen=True, slots=True)
class RelaxationStep:
    """One step of widening: the need it relaxes, how much harm relaxing it can do
    (1 least), and the plain words that say what the step does."""

    code: Relaxation
    harm: int
    words: str


#: The steps, least harmful first. A search that finds nothing meeting every need
#: takes them one at a time, keeping what earlier steps relaxed, and stops at the
#: first step that finds any group. Steps that cannot apply to a person are skipped:
#: format for someone who asked for online only or either (an in-person group is no
#: use to someone who can only meet online), age for an under-18 (never relaxed).
RELAXATION_STEPS: Final[tuple[RelaxationStep, ...]] = (
    RelaxationStep(
        "distance",
        1,
        f"look further away for in-person groups, up to {WIDEN_CAP_KM:g} km and never further",
    ),
    RelaxationStep(
        "format",
        2,
        "show groups you can join online, for someone who asked for in person",
    ),
    RelaxationStep(
        "access",
        3,
        "show groups without an access need you marked essential, and say which",
    ),
    RelaxationStep(
        "age",
        4,
        "show adults' groups outside an adult's age; never for anyone under 18",
    ),
    RelaxationStep(
        "language",
        5,
        "show groups in other languages, and say which language they meet in",
    ),
)
_HARM: Final = {step.code: step.harm for step in RELAXATION_STEPS}
_MAX_HARM: Final = sum(_HARM.values())


def harm(codes: tuple[Relaxation, ...] | frozenset[Relaxation]) -> int:
    """The total harm of breaking these needs."""
    return sum(_HARM[c] for c in codes)


def broken_rank(codes: tuple[Relaxation, ...] | frozenset[Relaxation]) -> int:
    """A rank value for a set of broken needs: higher is better. Fewer broken needs
    always rank higher; among equally many, less harm ranks higher."""
    n = len(RELAXATION_STEPS)
    return (n - len(codes)) * (_MAX_HARM + 1) + (_MAX_HARM - harm(codes))


def is_minor(needs: Needs) -> bool:
    return needs.age is not None and needs.age < ADULT_AGE


def relaxable_steps(needs: Needs) -> tuple[Relaxation, ...]:
    """The steps that may be taken for this person, in order."""
    out: list[Relaxation] = []
    for step in RELAXATION_STEPS:
        if step.code == "format" and needs.format != "in_person":
            continue
        if step.code == "age" and (needs.age is None or is_minor(needs)):
            continue
        if step.code == "distance" and needs.location is None:
            continue
        out.append(step.code)
    return tuple(out)


def distance_limit(needs: Needs) -> tuple[float | None, float | None]:
    """(the limit a group must be within, the widest it may be widened to), in km,
    for in-person meeting; (None, None) when the person gave no place."""
    if needs.location is None:
        return None, None
    asked = needs.max_distance_km
    if asked is None:
        return WIDEN_CAP_KM, WIDEN_CAP_KM
    return asked, max(asked, WIDEN_CAP_KM)


# --- Age -------------------------------------------------------------------------


def welcomes_age(group: GroupProfile, age: int) -> bool:
    """Whether ``group`` says it welcomes someone of ``age``.

    For an adult, a group welcomes them unless its age range leaves them out. For an
    under-18, a group welcomes them only if it says so with a lowest age at or below
    theirs (and a highest age, if any, at or above it): a group with no age range, or
    no lowest age, counts as a group for adults only."""
    if group.age_max is not None and age > group.age_max:
        return False
    if age < ADULT_AGE:
        return group.age_min is not None and group.age_min <= age
    return group.age_min is None or age >= group.age_min


def admits_minors(group: GroupProfile) -> bool:
    """Whether the group says it welcomes anyone under 18."""
    return group.age_min is not None and group.age_min < ADULT_AGE


def age_relaxable(group: GroupProfile, age: int) -> bool:
    """Whether the age rule may be relaxed to show ``group`` to someone of ``age``
    whose age it does not welcome: only for an adult, and only into a group for
    adults (never a group that welcomes under-18s)."""
    return age >= ADULT_AGE and not admits_minors(group)


# --- Access needs follow the format --------------------------------------------------

AccessKind = Literal["venue", "online", "interpreter", "any"]

#: What each access need applies to. A venue need applies to meeting in person
#: (in-person groups, and hybrid groups for someone who will go in person); an
#: online need to meeting online; an interpreter need is met by an interpreter or by
#: a group that meets in that language; the rest apply to every meeting.
ACCESS_KINDS: Final[dict[str, AccessKind]] = {
    "step_free": "venue",
    "accessible_toilet": "venue",
    "hearing_loop": "venue",
    "quiet_room": "venue",
    "sensory_friendly": "venue",
    "travel_support": "venue",
    "camera_optional": "online",
    "bsl_interpreter": "interpreter",
    "captions": "any",
    "easy_read": "any",
    "large_print": "any",
    "text_chat": "any",
    "childcare": "any",
}

#: The language (BCP 47) an interpreter need asks for.
_INTERPRETER_LANGUAGE: Final = {"bsl_interpreter": "bfi"}


def access_kind(code: str) -> AccessKind:
    return ACCESS_KINDS.get(code, "any")


def interpreter_language(code: str) -> str | None:
    return _INTERPRETER_LANGUAGE.get(code)


def joins_in_person(group: GroupProfile, fmt: NeedFormat) -> bool:
    """Whether the person would be at the venue: an in-person group, or a hybrid
    group for someone who asked for in person."""
    return group.format == "in_person" or (group.format == "hybrid" and fmt == "in_person")


def access_applies(code: str, group: GroupProfile, fmt: NeedFormat) -> bool:
    """Whether an access need applies to how the person would take part in ``group``
    (a venue need does not apply to an online group; an online need does not apply to
    an in-person one)."""
    kind = access_kind(code)
    if kind == "venue":
        return joins_in_person(group, fmt)
    if kind == "online":
        return not joins_in_person(group, fmt)
    return True


def met_by_language(code: str, group: GroupProfile) -> bool:
    """Whether an interpreter need is met because the group meets in that language
    (or already offers interpretation into it)."""
    tag = interpreter_language(code)
    if tag is None:
        return False
    # The same language (CLDR distance 9 or less): not merely a related form.
    return any(
        (rel := relate(tag, t)) is not None and rel.same
        for t in group.languages + group.interpretation
    )


def access_met(code: str, group: GroupProfile, fmt: NeedFormat) -> bool:
    """Whether the need is met: the group lists it, it does not apply to how the
    person would take part, or (an interpreter) the group meets in that language."""
    return (
        code in group.access_features
        or not access_applies(code, group, fmt)
        or met_by_language(code, group)
    )
