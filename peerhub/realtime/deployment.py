"""Which deployment this process belongs to, and its channels on the bus (issue 10).

Redis pub/sub has one channel space per server: the database number in
``PEERHUB_REDIS_URL`` separates keys, not channels. Two installations on one Redis
(a staging copy beside production, two demo installs) would hear each other's rooms
if their channel names were fixed. So every deployment has a **namespace**, the
prefix of its channels:

- ``PEERHUB_REDIS_NAMESPACE`` when it is set (letters, digits and ``_ . : -``);
- otherwise ``peerhub:<tag>``, where the **tag** is 16 hex digits of a hash of the
  deployment id (a random id that migration 0015 stores in the database) and of the
  database's own identity (PostgreSQL: the cluster's system identifier and the
  database's oid; SQLite: the file). Different databases get different namespaces,
  even a copy restored from another's backup, which carries the same deployment id.

Each process of a deployment subscribes to a marker channel
``<namespace>:deployment:<tag>``. Before serving, a process looks for markers of
*other* tags in its namespace (``PUBSUB CHANNELS``, which, like pub/sub itself, sees
every database number) and refuses to start if it finds one: two deployments would
share a namespace by accident (the same ``PEERHUB_REDIS_NAMESPACE`` in both). Every
message on the bus carries the tag too, and a receiver drops one with another tag.
"""

from __future__ import annotations

import hashlib
import os
import re
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import select, text
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from peerhub.config import ConfigError
from peerhub.realtime.models import Deployment

NAMESPACE_VARIABLE = "PEERHUB_REDIS_NAMESPACE"
# No glob characters (the marker look-up is a pattern) and nothing a shell or a log
# line would trip on.
_NAMESPACE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}")


class NamespaceInUse(ConfigError):
    """Another deployment uses this namespace on this Redis: do not start."""


def configured_namespace(env: Mapping[str, str] | None = None) -> str | None:
    """``PEERHUB_REDIS_NAMESPACE``, checked; None when unset (the default applies)."""
    value = (os.environ if env is None else env).get(NAMESPACE_VARIABLE, "").strip()
    if not value:
        return None
    if not _NAMESPACE.fullmatch(value):
        raise ConfigError(
            f"{NAMESPACE_VARIABLE}: {value!r} must be 1-64 letters, digits, '_', '.', ':' "
            "or '-', starting with a letter or digit"
        )
    return value


@dataclass(frozen=True, slots=True)
class Identity:
    deployment_id: str
    database: str
    tag: str
    namespace: str

    @property
    def rooms_channel(self) -> str:
        return f"{self.namespace}:rooms"

    @property
    def control_channel(self) -> str:
        return f"{self.namespace}:control"

    @property
    def marker_channel(self) -> str:
        return f"{self.namespace}:deployment:{self.tag}"

    @property
    def marker_pattern(self) -> str:
        return f"{self.namespace}:deployment:*"

    def foreign_markers(self, channels: list[str]) -> list[str]:
        """Markers of other deployments among the channels found in the namespace."""
        prefix = f"{self.namespace}:deployment:"
        return sorted(c for c in channels if c.startswith(prefix) and c != self.marker_channel)

    def refusal(self, markers: list[str]) -> NamespaceInUse:
        other = markers[0].rsplit(":", 1)[-1]
        return NamespaceInUse(
            f"Redis channel namespace {self.namespace!r} is already used by another PeerHub "
            f"deployment (tag {other}; this one is {self.tag}): set {NAMESPACE_VARIABLE} to "
            "a name of its own in one of them (docs/deployment.md)"
        )


def make_identity(deployment_id: str, database: str, configured: str | None) -> Identity:
    tag = hashlib.sha256(f"{deployment_id}/{database}".encode()).hexdigest()[:16]
    return Identity(deployment_id, database, tag, configured or f"peerhub:{tag}")


async def deployment_id(conn: AsyncConnection) -> str:
    """The id made at migration; made here if the row is missing (two processes
    racing agree: the slot is the primary key and the loser reads the winner's)."""
    query = select(Deployment.id).where(Deployment.slot == 1)
    found = await conn.scalar(query)
    if found is not None:
        return str(found)
    values = {"slot": 1, "id": uuid.uuid4().hex, "created_at": datetime.now(UTC)}
    if conn.dialect.name == "postgresql":
        await conn.execute(pg_insert(Deployment).values(**values).on_conflict_do_nothing())
    else:
        await conn.execute(sqlite_insert(Deployment).values(**values).on_conflict_do_nothing())
    return str(await conn.scalar(query))


async def database_identity(conn: AsyncConnection) -> str:
    """What tells this database from a copy of it (stable across its processes)."""
    if conn.dialect.name == "postgresql":
        oid = await conn.scalar(
            text("SELECT oid FROM pg_database WHERE datname = current_database()")
        )
        try:
            async with conn.begin_nested():
                system = await conn.scalar(
                    text("SELECT system_identifier FROM pg_control_system()")
                )
        except SQLAlchemyError:
            system = "?"  # not allowed for this role: the oid alone (docs/deployment.md)
        return f"pg:{system}:{oid}"
    return _sqlite_identity(conn.engine.url.database or "")


def _sqlite_identity(path: str) -> str:
    """The file itself (a copy is another file), not the name it is reached by."""
    if not path or path == ":memory:":
        return f"sqlite:memory:{uuid.uuid4().hex}"  # only this process can see it
    try:
        stat = os.stat(path)
    except OSError:
        return f"sqlite:{os.path.realpath(path)}"
    return f"sqlite:{stat.st_dev}:{stat.st_ino}"


async def resolve(engine: AsyncEngine, configured: str | None) -> Identity:
    """This process's identity: reads (or makes) the deployment id."""
    async with engine.begin() as conn:
        ident = await deployment_id(conn)
        database = await database_identity(conn)
    return make_identity(ident, database, configured)


__all__ = [
    "NAMESPACE_VARIABLE",
    "Identity",
    "NamespaceInUse",
    "configured_namespace",
    "make_identity",
    "resolve",
]
