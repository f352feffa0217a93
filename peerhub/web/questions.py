"""The questions that /find ("Find a group") and /groups ("All groups") both ask, worded once.

The two pages search differently (/find ranks groups by fit and says why; /groups
filters the directory), but someone who has used one should recognise the other:
the same question has the same label, hint and option names on both. Templates read
these through the ``ask`` global (web/render.py), so a question is worded here once.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from babel.support import LazyProxy

from peerhub import i18n
from peerhub.directory.params import KM_PER_MILE, MILE_CHOICES
from peerhub.i18n import _, lazy_gettext, ngettext
from peerhub.taxonomy import DAY_NAMES, STAGES

# A question's words: translated where shown (a LazyProxy), or plain text.
Words = str | LazyProxy


@dataclass(frozen=True, slots=True)
class Question:
    label: Words
    hint: Words = ""
    # The option that means "no preference", where a page offers one.
    any: Words = ""


def _miles(n: int) -> LazyProxy:
    return LazyProxy(
        lambda: ngettext("Up to %(num)s mile", "Up to %(num)s miles", n), enable_cache=False
    )


def _day(index: int) -> LazyProxy:
    """A day's name in the page's language (CLDR), Monday being 0."""
    return LazyProxy(
        lambda: i18n.day_name(index),
        enable_cache=False,
    )


def _stage(label: str, description: str) -> LazyProxy:
    # Both parts are catalogue entries of their own (peerhub/taxonomy.py), looked up
    # in the page's language when the option is shown.
    return LazyProxy(
        # TRANSLATORS: a stage's name and what it means, e.g. "Struggling: things are hard now".
        lambda: _("%(label)s: %(description)s", label=_(label), description=_(description)),
        enable_cache=False,
    )


ASK: Final[dict[str, Question]] = {
    "words": Question(
        lazy_gettext("Words to look for"),
        lazy_gettext("For example: anxiety, carers, hearing voices."),
    ),
    "language": Question(
        lazy_gettext("Languages you speak or sign"),
        lazy_gettext("Sign languages are languages too: BSL is British Sign Language."),
        lazy_gettext("Any language"),
    ),
    "stage": Question(
        lazy_gettext("How are things for you right now?"),
        any=lazy_gettext("I would rather not say"),
    ),
    "community": Question(
        lazy_gettext("Culture or community"),
        lazy_gettext("For example a group for your culture, faith or community."),
        lazy_gettext("Any culture or community"),
    ),
    "community_other": Question(
        lazy_gettext("Something else, in your own words (optional)"),
        lazy_gettext(
            "If your culture, faith or community is not listed, say it here, for example "
            "Kurdish or Tamil. We look for it in what groups say about themselves."
        ),
    ),
    "gender": Question(
        lazy_gettext("Your gender (optional)"),
        lazy_gettext(
            "Some groups are for women only or men only. If you tell us, we do not offer "
            "you a group that is not for you."
        ),
        lazy_gettext("Not answered"),
    ),
    "topic": Question(
        lazy_gettext("What would you like to talk about?"), any=lazy_gettext("Any topic")
    ),
    "format": Question(
        lazy_gettext("How would you like to meet?"),
        lazy_gettext(
            "Online and in person both include hybrid groups, which you can join either way."
        ),
        lazy_gettext("Online or in person"),
    ),
    "postcode": Question(
        lazy_gettext("Your town or postcode"),
        lazy_gettext(
            "For groups that meet in person, like Leeds or LS6. From a postcode we only use "
            "the first part."
        ),
    ),
    "distance": Question(lazy_gettext("How far can you travel?"), any=lazy_gettext("Any distance")),
    "days": Question(lazy_gettext("Days you could go")),
    "times": Question(lazy_gettext("Times of day")),
    "age": Question(
        lazy_gettext("Your age"),
        lazy_gettext("Some groups are for an age group, such as young adults."),
    ),
    "access": Question(lazy_gettext("Anything that helps you take part?")),
}

# Option names, the same on both pages (values stay English: they are sent as data).
STAGE_OPTIONS: Final = tuple((t.code, _stage(t.label, t.description)) for t in STAGES.terms)
FORMAT_OPTIONS: Final = (
    ("online", lazy_gettext("Online")),
    ("in_person", lazy_gettext("In person")),
)
# The directory can also ask for exactly this.
HYBRID_ONLY: Final = ("hybrid", lazy_gettext("Hybrid only"))
DAY_OPTIONS: Final = tuple((name.lower(), _day(i)) for i, name in enumerate(DAY_NAMES))
# The directory takes miles (``within``); /find's matching takes kilometres
# (``max_distance_km``): the same words, each page's own unit underneath.
MILE_OPTIONS: Final = tuple((str(m), _miles(m)) for m in MILE_CHOICES)
KM_OPTIONS: Final = tuple((f"{round(m * KM_PER_MILE, 1):g}", _miles(m)) for m in MILE_CHOICES)
