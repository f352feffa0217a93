"""Who a group is *for*: communities a group is for only, and people whose answers
conflict with them.

An organiser says, for each community of a group, whether the group is for that
community *only* (``GroupProfile.only_communities``) or *focuses* on it (open to
anyone). A person's answers (the communities they chose and the gender they gave)
then put each group in one of four places:

* ``open``: the group is for nobody in particular only;
* ``meets``: the person said they belong to every community the group is only for;
* ``unknown``: the group is only for a community the person did not mention. It is
  still listed, says plainly who it is for, and always ranks below every group in
  ``open`` or ``meets`` (it is never the person's best fit);
* ``conflict``: the person's own answers rule them out: a man and a group for women
  only, a person of Christian faith and a group for Muslims only. The group is never
  shown to them, in any pass, like a group with a blocked member.

Only answers that exclude each other can conflict: women and men, and the faiths.
Other communities are not exclusive (a veteran may also be Somali), so not naming
one is "not said", never a conflict. A person who is non-binary or would rather not
say their gender is not shown a single-gender group as a fit, but is not hidden from
it either: the group says who it is for and they decide.
"""

from __future__ import annotations

from typing import Final, Literal

from .model import GroupProfile, Needs

__all__ = [
    "EXCLUSIVE_FAMILIES",
    "GENDER_COMMUNITY",
    "Who",
    "person_codes",
    "who_status",
]

Who = Literal["open", "meets", "unknown", "conflict"]

#: Communities a person can belong to only one of (by their own answers).
EXCLUSIVE_FAMILIES: Final[tuple[frozenset[str], ...]] = (
    frozenset({"women", "men"}),
    frozenset({"faith_muslim", "faith_christian", "faith_sikh"}),
)
_FAMILY_OF: Final = {code: family for family in EXCLUSIVE_FAMILIES for code in family}

#: The community a person's stated gender puts them in.
GENDER_COMMUNITY: Final = {"woman": "women", "man": "men"}


def person_codes(needs: Needs) -> frozenset[str]:
    """The communities a person's answers put them in: those chosen, and their gender's.

    A person who names both women and men (for example a parent looking for a family
    group) is taken at their word for both; their stated gender, if any, wins."""
    codes = set(needs.communities)
    gendered = GENDER_COMMUNITY.get(needs.gender or "")
    if gendered is not None:
        codes -= {"women", "men"}
        codes.add(gendered)
    elif needs.gender == "non_binary":
        # "Non-binary" is an answer about gender: a community chosen as women or men
        # does not make them a woman or a man for a single-gender group.
        codes -= {"women", "men"}
    return frozenset(codes)


def who_status(group: GroupProfile, needs: Needs) -> Who:
    """Where ``group`` stands for this person (see the module docstring)."""
    only = group.only_communities
    if not only:
        return "open"
    mine = person_codes(needs)
    unknown = False
    seen: set[frozenset[str]] = set()
    for code in only:
        family = _FAMILY_OF.get(code)
        if family is None:
            if code not in mine:
                unknown = True
            continue
        if family in seen:
            continue
        seen.add(family)
        wanted = only & family  # alternatives: a group for women or men only
        said = mine & family
        if not said:
            unknown = True
        elif not said & wanted:
            return "conflict"
    return "unknown" if unknown else "meets"
