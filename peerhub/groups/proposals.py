"""New communities: organisers propose them, an administrator adds them.

PeerHub's own list of communities (peerhub/taxonomy.py) is fixed in code; a
community it lacks can be proposed by any organiser of a registered organisation,
with the words people use for it. An administrator reads the proposal and adds the
community (it is then offered on the group form and on Find a group, and its words
are understood in "something else") or declines it with a note the organiser sees.
Every step is recorded in the audit trail.

The added communities' codes start with ``added_`` so they can never take the code
of a built-in community, now or later.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Final

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from peerhub import audit
from peerhub.communities import BUILT_IN, Community, Vocabulary, normalise_phrase
from peerhub.errors import FieldError, Forbidden, NotFound
from peerhub.groups.actions import organisation_for_organiser
from peerhub.groups.models import AddedCommunity, CommunityProposal
from peerhub.groups.validation import _Collector, line, paragraphs
from peerhub.i18n import _, ngettext
from peerhub.models import User
from peerhub.taxonomy import COMMUNITIES, Taxonomy, Term

__all__ = [
    "MAX_PENDING",
    "ProposalInput",
    "community_taxonomy",
    "decide",
    "parse_proposal",
    "pending",
    "proposals_of",
    "propose",
    "vocabulary",
]

#: Proposals an organisation may have waiting at once (a brake on floods, not a quota).
MAX_PENDING: Final = 10
MAX_ALIASES: Final = 20
_ALIAS_LIMIT: Final = 40
_CODE_STRIP: Final = re.compile(r"[^a-z0-9]+")


async def vocabulary(db: AsyncSession) -> Vocabulary:
    """Every community people can choose: the built-in ones and those added."""
    rows = (await db.scalars(select(AddedCommunity).order_by(AddedCommunity.label))).all()
    added = tuple(
        Community(r.code, r.label, r.description, tuple(r.aliases or ()), added=True) for r in rows
    )
    return Vocabulary(BUILT_IN + added)


def community_taxonomy(vocab: Vocabulary) -> Taxonomy:
    """The community list as a taxonomy (for forms): built-in terms, then added ones."""
    terms = tuple(Term("community", c.code, c.label, c.description) for c in vocab.communities)
    return Taxonomy(COMMUNITIES.code, COMMUNITIES.name, COMMUNITIES.description, terms)


@dataclass(frozen=True, slots=True)
class ProposalInput:
    name: str
    description: str
    aliases: tuple[str, ...]
    reason: str


def _aliases(raw: str) -> tuple[str, ...]:
    out: list[str] = []
    for part in re.split(r"[,\n;]", raw):
        alias = " ".join(part.split())
        if not alias:
            continue
        if len(alias) > _ALIAS_LIMIT:
            raise FieldError(
                "aliases",
                ngettext(
                    "Each word or phrase can be at most %(num)s character.",
                    "Each word or phrase can be at most %(num)s characters.",
                    _ALIAS_LIMIT,
                ),
            )
        if alias.casefold() not in (a.casefold() for a in out):
            out.append(alias)
    if len(out) > MAX_ALIASES:
        raise FieldError(
            "aliases",
            ngettext(
                "Give at most %(num)s other name.", "Give at most %(num)s other names.", MAX_ALIASES
            ),
        )
    return tuple(out)


def parse_proposal(values: dict[str, str], vocab: Vocabulary) -> ProposalInput:
    """Check a proposal form; every wrong field is named (a 422)."""
    c = _Collector()
    name = c.check(lambda: line(values, "name", label="A name", required=True, limit=80), "")
    description = c.check(
        lambda: paragraphs(values, "description", label="The description", limit=1000), ""
    )
    no_aliases: tuple[str, ...] = ()
    aliases = c.check(lambda: _aliases(values.get("aliases") or ""), no_aliases)
    reason = c.check(lambda: paragraphs(values, "reason", label="The reason", limit=1000), "")
    if name:
        if len(name) < 3 or not normalise_phrase(name):
            c.fail("name", _("A name needs at least 3 characters, with letters."))
        else:
            known = vocab.named(name)
            if known is not None:
                c.fail(
                    "name",
                    _(
                        "PeerHub already has this community: %(community)s. "
                        "Choose it on the group form.",
                        community=vocab.label(known),
                    ),
                )
    c.raise_if_any()
    return ProposalInput(name, description, aliases, reason)


async def propose(
    db: AsyncSession, user: User, organisation_id: str, data: ProposalInput, now: datetime
) -> CommunityProposal:
    """An organiser of ``organisation_id`` proposes a community (NotFound otherwise)."""
    await organisation_for_organiser(db, user, organisation_id)
    waiting = await db.scalar(
        select(func.count())
        .select_from(CommunityProposal)
        .where(
            CommunityProposal.organisation_id == organisation_id,
            CommunityProposal.status == "pending",
        )
    )
    if (waiting or 0) >= MAX_PENDING:
        raise FieldError(
            "name",
            ngettext(
                "Your organisation has %(num)s proposal waiting. "
                "Please wait for an administrator to answer it.",
                "Your organisation has %(num)s proposals waiting. "
                "Please wait for an administrator to answer them.",
                MAX_PENDING,
            ),
        )
    proposal = CommunityProposal(
        organisation_id=organisation_id,
        proposed_by=user.id,
        name=data.name,
        description=data.description,
        aliases=list(data.aliases),
        reason=data.reason,
        status="pending",
        created_at=now,
        note="",
    )
    db.add(proposal)
    await db.flush()
    audit.record(
        db,
        now,
        "community.proposed",
        actor_id=user.id,
        subject_id=proposal.id,
        organisation_id=organisation_id,
    )
    return proposal


async def proposals_of(db: AsyncSession, organisation_id: str) -> list[CommunityProposal]:
    rows = await db.scalars(
        select(CommunityProposal)
        .where(CommunityProposal.organisation_id == organisation_id)
        .order_by(CommunityProposal.created_at.desc())
    )
    return list(rows.all())


async def pending(db: AsyncSession) -> list[CommunityProposal]:
    rows = await db.scalars(
        select(CommunityProposal)
        .where(CommunityProposal.status == "pending")
        .order_by(CommunityProposal.created_at)
    )
    return list(rows.all())


def _code(label: str) -> str:
    base = _CODE_STRIP.sub("_", normalise_phrase(label).encode("ascii", "ignore").decode())
    base = base.strip("_")[:28].strip("_") or "community"
    return f"added_{base}"


async def decide(
    db: AsyncSession,
    admin: User,
    proposal_id: str,
    now: datetime,
    *,
    add: bool,
    label: str = "",
    aliases: str = "",
    note: str = "",
) -> CommunityProposal:
    """An administrator adds the proposed community (under ``label``, the proposal's
    name by default) or declines it. Each proposal is decided once."""
    if not admin.is_admin:
        raise Forbidden("administrators only")
    proposal = await db.get(CommunityProposal, proposal_id)
    if proposal is None:
        raise NotFound(proposal_id)
    if proposal.status != "pending":
        raise FieldError("decision", _("This proposal has already been answered."))
    note = paragraphs({"note": note}, "note", label="The note", limit=1000)
    if add:
        vocab = await vocabulary(db)
        name = line(
            {"label": label or proposal.name}, "label", label="A name", required=True, limit=80
        )
        if len(name) < 3 or not normalise_phrase(name):
            raise FieldError("label", _("A name needs at least 3 characters, with letters."))
        known = vocab.named(name)
        if known is not None:
            raise FieldError(
                "label",
                _(
                    "PeerHub already has this community: %(community)s.",
                    community=vocab.label(known),
                ),
            )
        words = _aliases(aliases) if aliases.strip() else tuple(proposal.aliases or ())
        code = _code(name)
        n = 2
        while await db.get(AddedCommunity, code) is not None:
            code = f"{_code(name)[:36]}_{n}"
            n += 1
        db.add(
            AddedCommunity(
                code=code,
                label=name,
                description=proposal.description,
                aliases=list(words),
                added_by=admin.id,
                added_at=now,
                proposal_id=proposal.id,
            )
        )
        proposal.status, proposal.added_code = "added", code
    else:
        proposal.status = "declined"
    proposal.decided_by, proposal.decided_at, proposal.note = admin.id, now, note
    audit.record(
        db,
        now,
        "community.added" if add else "community.declined",
        actor_id=admin.id,
        subject_id=proposal.id,
        code=proposal.added_code,
    )
    return proposal
