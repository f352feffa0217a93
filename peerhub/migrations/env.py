"""Alembic environment. Runs on a connection handed in by :mod:`peerhub.migrate`."""

from __future__ import annotations

from alembic import context

from peerhub.migrate import include_object
from peerhub.schema import metadata

config = context.config
connection = config.attributes.get("connection")
if connection is None:  # pragma: no cover - only `alembic` run by hand reaches here
    raise SystemExit("Run migrations with `peerhub migrate`, which supplies the connection.")

context.configure(
    connection=connection,
    target_metadata=metadata,
    # SQLite cannot ALTER most things: batch mode copies the table instead.
    render_as_batch=True,
    compare_type=True,
    include_object=include_object,
)
with context.begin_transaction():
    context.run_migrations()
