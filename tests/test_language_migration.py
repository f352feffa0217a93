"""Migration 0019 on both databases: stored language tags become canonical (groups'
languages and interpretation, demand records, saved searches), PeerHub's old "ise"
for Irish Sign Language becomes "isg", repeats collapse, unknown tags stay."""

from __future__ import annotations

from sqlalchemy import Connection, insert, select

from tests.migration_helpers import (
    add_group,
    add_organisation,
    migrate_seeded,
    stored_now,
    tables,
)

REVISION = "0019"


def _seed(conn: Connection) -> None:
    t = tables(
        conn, ["organisations", "groups", "group_tags", "demand_records", "saved_needs", "users"]
    )
    now = stored_now(conn)
    add_organisation(conn, t, "org-lang", "lang-org", "Lang")
    for gid in ("g-punjabi", "g-deaf"):
        add_group(conn, t, gid, "org-lang")
    for gid, kind, value, position in (
        ("g-punjabi", "language", "pa-Guru", 0),
        ("g-punjabi", "language", "pa", 1),
        ("g-punjabi", "language", "en-GB", 2),
        ("g-punjabi", "language", "zz-Latn", 3),
        ("g-punjabi", "community", "south_asian", 0),
        ("g-deaf", "language", "ise", 0),
        ("g-deaf", "language", "sgn-GB", 1),
        ("g-deaf", "interpretation", "eng", 0),
    ):
        conn.execute(
            insert(t["group_tags"]).values(group_id=gid, kind=kind, value=value, position=position)
        )
    for languages in (["ur-PK", "ur"], ["zh-yue"], []):
        conn.execute(
            insert(t["demand_records"]).values(
                at=now,
                kind="no_fit",
                languages=languages,
                communities=[],
                topics=[],
                format="either",
                area="unknown",
            )
        )


def _state(conn: Connection) -> tuple[dict[str, list[tuple[str, str]]], list[list[str]]]:
    t = tables(conn, ["group_tags", "demand_records"])
    tags = t["group_tags"]
    out: dict[str, list[tuple[str, str]]] = {}
    for row in conn.execute(
        select(tags)
        .where(tags.c.group_id.in_(("g-punjabi", "g-deaf")))
        .order_by(tags.c.group_id, tags.c.kind, tags.c.position)
    ):
        out.setdefault(row.group_id, []).append((row.kind, row.value))
    demand = t["demand_records"]
    languages = [list(r.languages) for r in conn.execute(select(demand).order_by(demand.c.id))]
    return out, languages


async def test_stored_language_tags_become_canonical(db_url: str) -> None:
    tags, demand = await migrate_seeded(db_url, REVISION, _seed, _state)
    assert tags["g-punjabi"] == [
        ("community", "south_asian"),
        ("language", "pa"),
        ("language", "en"),
        ("language", "zz-Latn"),
    ]
    assert tags["g-deaf"] == [("interpretation", "en"), ("language", "isg"), ("language", "bfi")]
    assert demand[-3:] == [["ur"], ["yue"], []]
