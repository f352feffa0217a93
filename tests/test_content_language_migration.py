"""Migration 0021 on both databases: the language of organisations' and groups' own text
(English for what is already there), groups' joining text, organisers' own names for a
group's languages, and the tables of versions in other languages, one per language."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import Connection, delete, insert, inspect, select
from sqlalchemy.exc import IntegrityError

from peerhub import migrate
from peerhub.db import make_engine
from tests.migration_helpers import (
    add_group,
    add_organisation,
    migrate_seeded,
    revision_before,
    stored_now,
    tables,
)

REVISION = "0021"


def _seed(conn: Connection) -> None:
    t = tables(conn, ["organisations", "groups", "group_tags"])
    add_organisation(conn, t, "org-cy", "org-cy", "Cymdeithas")
    add_group(
        conn,
        t,
        "g-cy",
        "org-cy",
        name="Sgwrs",
        description="Siarad.",
        ground_rules="Byddwch yn garedig.",
    )
    conn.execute(
        insert(t["group_tags"]).values(group_id="g-cy", kind="language", value="cy", position=0)
    )


def _after(conn: Connection) -> dict[str, Any]:
    t = tables(conn, ["organisations", "groups", "group_tags", "group_texts", "organisation_texts"])
    group = conn.execute(select(t["groups"]).where(t["groups"].c.id == "g-cy")).one()
    org = conn.execute(select(t["organisations"]).where(t["organisations"].c.id == "org-cy")).one()
    tag = conn.execute(select(t["group_tags"]).where(t["group_tags"].c.group_id == "g-cy")).one()
    now = stored_now(conn)
    row = {
        "group_id": "g-cy",
        "language": "en",
        "language_label": "English",
        "name": "Talk",
        "description": "",
        "ground_rules": "Be kind.",
        "joining": "",
        "updated_at": now,
    }
    conn.execute(insert(t["group_texts"]).values(**row))
    conn.execute(
        insert(t["organisation_texts"]).values(
            organisation_id="org-cy",
            language="en",
            language_label="",
            name="Society",
            description="",
            updated_at=now,
        )
    )
    twice = False
    try:
        with conn.begin_nested():
            conn.execute(insert(t["group_texts"]).values(**row))
    except IntegrityError:
        twice = True
    conn.execute(delete(t["groups"]).where(t["groups"].c.id == "g-cy"))
    left = conn.execute(select(t["group_texts"])).all()
    return {
        "group": (
            group.text_language,
            group.text_language_label,
            group.joining,
            group.ground_rules,
        ),
        "org": (org.text_language, org.text_language_label),
        "tag": (tag.value, tag.label),
        "refused_twice": twice,
        "left": left,
    }


@pytest.mark.filterwarnings("ignore::sqlalchemy.exc.SAWarning")
async def test_own_text_language_and_versions(db_url: str) -> None:
    found = await migrate_seeded(db_url, REVISION, _seed, _after)
    assert found["group"] == ("en", "", "", "Byddwch yn garedig.")
    assert found["org"] == ("en", "")
    assert found["tag"] == ("cy", "")
    assert found["refused_twice"]
    assert found["left"] == []  # the group's versions went with it


async def test_going_back_drops_the_versions_and_keeps_the_groups(db_url: str) -> None:
    await migrate.downgrade(db_url, revision_before(REVISION))
    engine = make_engine(db_url)
    try:
        async with engine.connect() as conn:
            tables = await conn.run_sync(lambda c: set(inspect(c).get_table_names()))
            columns = await conn.run_sync(
                lambda c: {col["name"] for col in inspect(c).get_columns("groups")}
            )
    finally:
        await engine.dispose()
        await migrate.upgrade(db_url)
    assert not {"group_texts", "organisation_texts"} & tables
    assert not {"text_language", "text_language_label", "joining"} & columns
    assert await migrate.current_revision(db_url) == migrate.head_revision()
