"""Migration 0023 on both databases: ``auth_sessions`` becomes ``sign_ins``, with its
rows, and its index and constraints named after the new table; a pending outbox row
that closes one sign-in's sockets keeps naming that sign-in. Going back restores the
old names and the old payload key."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import Connection, insert, inspect, select

from tests.migration_helpers import migrate_there_and_back, stored_now, tables

REVISION = "0023"


def _seed(conn: Connection) -> None:
    t = tables(conn, ["users", "auth_sessions", "outbox"])
    now = stored_now(conn)
    conn.execute(
        insert(t["users"]).values(
            id="u-ana",
            pseudonym="Ana",
            pseudonym_key="ana",
            password_hash="x",
            is_admin=False,
            professional_status="none",
            created_at=now,
            updated_at=now,
        )
    )
    conn.execute(
        insert(t["auth_sessions"]).values(
            id="s-phone",
            user_id="u-ana",
            token_hash="a" * 64,
            csrf_token="c" * 64,
            created_at=now,
            last_seen_at=now,
            expires_at=now + timedelta(days=1),
            user_agent="Firefox/1",
        )
    )
    conn.execute(
        insert(t["outbox"]).values(
            kind="realtime.disconnect_user",
            payload={"user_id": "u-ana", "reason": "r", "session_id": "s-phone"},
            created_at=now,
            attempts=0,
        )
    )


def _names(conn: Connection, table: str) -> dict[str, Any]:
    found = inspect(conn)
    return {
        "pk": found.get_pk_constraint(table)["name"],
        "unique": {u["name"] for u in found.get_unique_constraints(table)},
        "foreign": {f["name"] for f in found.get_foreign_keys(table)},
        # PostgreSQL also lists a unique constraint's own index (it follows its name).
        "indexes": {
            i["name"] for i in found.get_indexes(table) if "duplicates_constraint" not in i
        },
    }


def _read(table: str) -> Any:
    def read(conn: Connection) -> tuple[list[tuple[str, str]], list[Any], dict[str, Any]]:
        t = tables(conn, [table, "outbox"])
        rows = [(r.id, r.user_id) for r in conn.execute(select(t[table]))]
        payloads = [
            r.payload
            for r in conn.execute(
                select(t["outbox"]).where(t["outbox"].c.kind == "realtime.disconnect_user")
            )
        ]
        return rows, payloads, _names(conn, table)

    return read


async def test_the_table_its_rows_and_its_names_move_and_move_back(db_url: str) -> None:
    (rows, payloads, names), back = await migrate_there_and_back(
        db_url, REVISION, _seed, _read("sign_ins"), _read("auth_sessions")
    )
    assert rows == [("s-phone", "u-ana")]
    assert payloads == [{"user_id": "u-ana", "reason": "r", "sign_in_id": "s-phone"}]
    assert names == {
        "pk": "pk_sign_ins",
        "unique": {"uq_sign_ins_token_hash"},
        "foreign": {"fk_sign_ins_user_id_users"},
        "indexes": {"ix_sign_ins_user_id"},
    }

    rows, payloads, names = back
    assert rows == [("s-phone", "u-ana")]
    assert payloads == [{"user_id": "u-ana", "reason": "r", "session_id": "s-phone"}]
    assert names == {
        "pk": "pk_auth_sessions",
        "unique": {"uq_auth_sessions_token_hash"},
        "foreign": {"fk_auth_sessions_user_id_users"},
        "indexes": {"ix_auth_sessions_user_id"},
    }
