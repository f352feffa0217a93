"""The questions that /find ("Find a group") and /groups ("All groups") both ask, worded once.

The two pages search differently (/find ranks groups by fit and says why; /groups
filters the directory), but someone who has used one should recognise the other:
the same question has the same label, hint and option names on both. Templates read
these through the ``ask`` global (web/render.py), so a question is worded here once.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from peerhub.directory.params import KM_PER_MILE, MILE_CHOICES
from peerhub.taxonomy import DAY_NAMES, STAGES


@dataclass(frozen=True, slots=True)
class Question:
    label: str
    hint: str = ""
    # The option that means "no preference", where a page offers one.
    any: str = ""


def _miles(n: int) -> str:
    return f"Up to {n} mile{'' if n == 1 else 's'}"


ASK: Final[dict[str, Question]] = {
    "words": Question("Words to look for", "For example: anxiety, carers, hearing voices."),
    "language": Question(
        "Languages you speak or sign",
        "Sign languages are languages too: BSL is British Sign Language.",
        "Any language",
    ),
    "stage": Question("How are things for you right now?", any="I would rather not say"),
    "community": Question(
        "Culture or community",
        "For example a group for your culture, faith or community.",
        "Any culture or community",
    ),
    "community_other": Question(
        "Something else, in your own words (optional)",
        "If your culture, faith or community is not listed, say it here, for example "
        "Kurdish or Tamil. We look for it in what groups say about themselves.",
    ),
    "gender": Question(
        "Your gender (optional)",
        "Some groups are for women only or men only. If you tell us, we do not offer "
        "you a group that is not for you.",
        "Not answered",
    ),
    "topic": Question("What would you like to talk about?", any="Any topic"),
    "format": Question(
        "How would you like to meet?",
        "Online and in person both include hybrid groups, which you can join either way.",
        "Online or in person",
    ),
    "postcode": Question(
        "Your town or postcode",
        "For groups that meet in person, like Leeds or LS6. From a postcode we only use "
        "the first part.",
    ),
    "distance": Question("How far can you travel?", any="Any distance"),
    "days": Question("Days you could go"),
    "times": Question("Times of day"),
    "age": Question("Your age", "Some groups are for an age group, such as young adults."),
    "access": Question("Anything that helps you take part?"),
}

# Option names, the same on both pages.
STAGE_OPTIONS: Final = tuple((t.code, f"{t.label}: {t.description}") for t in STAGES.terms)
FORMAT_OPTIONS: Final = (("online", "Online"), ("in_person", "In person"))
HYBRID_ONLY: Final = ("hybrid", "Hybrid only")  # the directory can also ask for exactly this
DAY_OPTIONS: Final = tuple((name.lower(), name) for name in DAY_NAMES)
# The directory takes miles (``within``); /find's matching takes kilometres
# (``max_distance_km``): the same words, each page's own unit underneath.
MILE_OPTIONS: Final = tuple((str(m), _miles(m)) for m in MILE_CHOICES)
KM_OPTIONS: Final = tuple((f"{round(m * KM_PER_MILE, 1):g}", _miles(m)) for m in MILE_CHOICES)
