"""canonical_languages: every stored language tag becomes its canonical BCP 47 tag
(peerhub/languages.py, from langcodes and CLDR), so that "pa-Guru" and "pa", "en-GB"
and "en", "eng" and "en", "sgn-GB" and "bfi" are one language in groups, the
directory's filter, saved searches and the unmet-demand report (issue 11).

- ``group_tags`` of kind language and interpretation: each value becomes canonical;
  where two of one group's tags become the same, the first (by position) is kept.
- ``demand_records.languages`` and the ``languages`` of ``saved_needs.needs``: each
  tag becomes canonical, repeats dropped, order kept.
- ``ise`` becomes ``isg``. PeerHub's own list of names called ``ise`` "Irish Sign
  Language" until this change, so organisers who chose Irish Sign Language stored
  ``ise``; in ISO 639-3 ``ise`` is Italian Sign Language and Irish Sign Language is
  ``isg``.

A tag that names no language PeerHub knows is left as it was (it matches nothing).
No schema change. Downgrading leaves the canonical tags: the code before this
revision accepts them all.

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-05 12:00:00.000000
"""

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

from peerhub.languages import canonical_tag

revision: str = '0019'
down_revision: str | None = '0018'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# PeerHub's old name list, not the standard: see the docstring.
OLD_PEERHUB_CODES = {"ise": "isg"}


def canonical(tag: str) -> str:
    tag = OLD_PEERHUB_CODES.get(tag, tag)
    return canonical_tag(tag) or tag


def _tags(values: Any) -> Any:
    if not isinstance(values, list):
        return values
    out: list[Any] = []
    for value in values:
        new = canonical(value) if isinstance(value, str) else value
        if new not in out:
            out.append(new)
    return out


def upgrade() -> None:
    conn = op.get_bind()
    tags = sa.table(
        "group_tags",
        sa.column("group_id", sa.String),
        sa.column("kind", sa.String),
        sa.column("value", sa.String),
        sa.column("position", sa.Integer),
    )
    rows = conn.execute(
        sa.select(tags.c.group_id, tags.c.kind, tags.c.value, tags.c.position)
        .where(tags.c.kind.in_(("language", "interpretation")))
        .order_by(tags.c.group_id, tags.c.kind, tags.c.position, tags.c.value)
    ).all()
    kept: set[tuple[str, str, str]] = set()
    gone: set[tuple[str, str, str]] = set()
    for group_id, kind, value, _ in rows:
        if (group_id, kind, value) in gone:
            continue
        new = canonical(value)
        target = (group_id, kind, new)
        if target in kept:
            # An earlier tag of this group already became this one: drop this row.
            conn.execute(
                sa.delete(tags).where(
                    tags.c.group_id == group_id, tags.c.kind == kind, tags.c.value == value
                )
            )
            continue
        if new != value:
            # The canonical tag may be stored further down: that row is dropped.
            conn.execute(
                sa.delete(tags).where(
                    tags.c.group_id == group_id, tags.c.kind == kind, tags.c.value == new
                )
            )
            gone.add(target)
            conn.execute(
                sa.update(tags)
                .where(tags.c.group_id == group_id, tags.c.kind == kind, tags.c.value == value)
                .values(value=new)
            )
        kept.add(target)

    demand = sa.table("demand_records", sa.column("id", sa.Integer), sa.column("languages", sa.JSON))
    for row_id, languages in conn.execute(sa.select(demand.c.id, demand.c.languages)).all():
        new_languages = _tags(languages)
        if new_languages != languages:
            conn.execute(
                sa.update(demand).where(demand.c.id == row_id).values(languages=new_languages)
            )

    saved = sa.table("saved_needs", sa.column("user_id", sa.String), sa.column("needs", sa.JSON))
    for user_id, needs in conn.execute(sa.select(saved.c.user_id, saved.c.needs)).all():
        if not isinstance(needs, dict) or "languages" not in needs:
            continue
        new_languages = _tags(needs["languages"])
        if new_languages != needs["languages"]:
            conn.execute(
                sa.update(saved)
                .where(saved.c.user_id == user_id)
                .values(needs={**needs, "languages": new_languages})
            )


def downgrade() -> None:
    # Canonical tags are well-formed BCP 47 tags, which the code before accepts.
    pass
