"""Alembic environment for LedgerLens.

``upgrade_database`` passes an open connection in ``config.attributes["connection"]`` so the
migration runs on an engine configured like the application's (WAL, BEGIN IMMEDIATE).
When Alembic's own CLI is used instead, the URL comes from ``sqlalchemy.url`` or the
``LEDGERLENS_DB__URL`` environment variable.
"""

from __future__ import annotations

import os

from alembic import context
from sqlalchemy.engine import Connection

from ledgerlens.adapters.db.engine import create_engine_for
from ledgerlens.adapters.db.tables import metadata

config = context.config
target_metadata = metadata


def _url() -> str:
    url = config.get_main_option("sqlalchemy.url") or os.environ.get("LEDGERLENS_DB__URL")
    if not url:
        raise RuntimeError("no database URL: set sqlalchemy.url or LEDGERLENS_DB__URL")
    return url


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        compare_type=True,
        # SQLite cannot ALTER most things; batch mode rebuilds the table instead.
        render_as_batch=connection.dialect.name == "sqlite",
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_offline() -> None:
    context.configure(
        url=_url(),
        target_metadata=target_metadata,
        literal_binds=True,
        dialect_opts={"paramstyle": "named"},
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    engine = create_engine_for(_url())
    try:
        with engine.begin() as conn:
            _run(conn)
    finally:
        engine.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
