"""Engines for SQLite (the embedded default) and PostgreSQL, and programmatic migrations.

Nothing here runs at import time: ``bootstrap`` (or a test) calls ``create_engine_for`` with the
configured URL and owns the engine's lifetime.

SQLite is tuned for one file shared by several processes (CLI, API, workers):

* WAL journal, so readers never block the single writer and the writer never blocks readers;
* ``synchronous=NORMAL``: durable across application crashes, cheap commits (WAL makes it safe);
* ``foreign_keys=ON``: SQLite ignores foreign keys unless told per connection;
* ``busy_timeout=30000``: wait up to 30 s for the write lock instead of failing at once;
* ``BEGIN IMMEDIATE`` for write transactions (SQLAlchemy's documented recipe: the pysqlite
  driver's own BEGIN handling is switched off and SQLAlchemy emits BEGIN itself). A deferred
  transaction that reads first and writes later cannot wait for the lock when another process
  committed in between — it fails with "database is locked". Taking the write lock at BEGIN
  makes concurrent writers queue up behind ``busy_timeout`` instead.

A connection whose execution option ``sqlite_begin`` is ``"DEFERRED"`` starts a plain read
transaction instead (``SqlUnitOfWork(read_only=True)`` uses this), so readers do not queue
behind writers.
"""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event, make_url, text
from sqlalchemy.engine import URL, Connection

__all__ = [
    "MIGRATIONS_DIR",
    "SQLITE_BEGIN_OPTION",
    "SqliteChangeCounter",
    "alembic_config",
    "create_engine_for",
    "sqlite_change_counter",
    "upgrade_database",
]

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
SQLITE_BEGIN_OPTION = "sqlite_begin"
_BEGIN_MODES = frozenset({"DEFERRED", "IMMEDIATE", "EXCLUSIVE"})
_BUSY_TIMEOUT_MS = 30_000
# Any constant works; it only has to be the same for every process migrating one database.
_PG_MIGRATION_LOCK = 7_311_204_851


def create_engine_for(
    url: str, *, sqlite_busy_timeout_ms: int = _BUSY_TIMEOUT_MS, **engine_kwargs: Any
) -> Engine:
    """An engine for ``url`` with the settings LedgerLens relies on (see the module docstring).

    ``postgresql://`` URLs are switched to the psycopg 3 driver; extra keyword arguments go to
    ``sqlalchemy.create_engine``. ``sqlite_busy_timeout_ms`` is how long a SQLite writer waits
    for the lock before "database is locked" (tests shorten it).
    """
    parsed = make_url(url)
    backend = parsed.get_backend_name()
    if backend == "sqlite":
        return _create_sqlite_engine(parsed, sqlite_busy_timeout_ms, **engine_kwargs)
    if backend == "postgresql":
        if parsed.drivername == "postgresql":
            parsed = parsed.set(drivername="postgresql+psycopg")
        engine_kwargs.setdefault("pool_pre_ping", True)
        return create_engine(parsed, **engine_kwargs)
    raise ValueError(f"unsupported database backend {backend!r} (use sqlite or postgresql)")


def _create_sqlite_engine(url: URL, busy_timeout_ms: int, **engine_kwargs: Any) -> Engine:
    database = url.database or ""
    if database and database != ":memory:" and not database.startswith("file:"):
        # The embedded default lives in a fresh directory (./var/) on first run.
        Path(database).expanduser().parent.mkdir(parents=True, exist_ok=True)
    connect_args = dict(engine_kwargs.pop("connect_args", {}))
    connect_args.setdefault("timeout", busy_timeout_ms / 1000)
    engine = create_engine(url, connect_args=connect_args, **engine_kwargs)

    def on_connect(dbapi_connection: Any, connection_record: Any) -> None:
        _sqlite_on_connect(dbapi_connection, int(busy_timeout_ms))

    event.listen(engine, "connect", on_connect)
    event.listen(engine, "begin", _sqlite_on_begin)
    return engine


def _sqlite_on_connect(dbapi_connection: Any, busy_timeout_ms: int) -> None:
    # Stop pysqlite from issuing its own (deferred, DML-only) BEGIN; _sqlite_on_begin does it.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    try:
        # busy_timeout first: switching to WAL needs a moment of exclusive access and must wait
        # for it when another process is connecting at the same time.
        cursor.execute(f"PRAGMA busy_timeout={busy_timeout_ms}")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
    finally:
        cursor.close()


def _sqlite_on_begin(conn: Connection) -> None:
    mode = str(conn.get_execution_options().get(SQLITE_BEGIN_OPTION, "IMMEDIATE")).upper()
    if mode not in _BEGIN_MODES:
        raise ValueError(f"{SQLITE_BEGIN_OPTION} must be one of {sorted(_BEGIN_MODES)}: {mode!r}")
    conn.exec_driver_sql(f"BEGIN {mode}")


class SqliteChangeCounter:
    """``PRAGMA data_version`` on a connection of its own: changes whenever any *other*
    connection, in this process or another, commits to the file (a few microseconds, no lock
    taken; this connection never writes). Call it for the value; ``close()`` when done."""

    def __init__(self, target: str, uri: bool) -> None:
        self._conn = sqlite3.connect(target, uri=uri, check_same_thread=False, isolation_level=None)
        self._cursor = self._conn.cursor()  # one cursor, reused: this runs on every cached read
        self._lock = threading.Lock()
        self()  # fail now (bad path), not on the first request

    def __call__(self) -> int:
        with self._lock:
            return int(self._cursor.execute("PRAGMA data_version").fetchone()[0])

    def close(self) -> None:
        with self._lock:
            self._conn.close()


def sqlite_change_counter(engine: Engine) -> SqliteChangeCounter | None:
    """A cheap "has anything been committed?" counter for a file-based SQLite database.

    Caches of derived answers (``serve.feed_cache``) compare it to decide whether they may still
    serve. None for other backends and for in-memory databases, which have no shared counter.
    """
    if engine.dialect.name != "sqlite":
        return None
    database = engine.url.database or ""
    if not database or database == ":memory:" or "mode=memory" in database:
        return None
    uri = database.startswith("file:")
    return SqliteChangeCounter(database if uri else str(Path(database).expanduser()), uri)


def alembic_config(url: str | None = None) -> Any:
    """An Alembic ``Config`` pointing at the migrations shipped inside the package.

    No alembic.ini is needed, so a wheel install can migrate its database. Returned as ``Any``
    to keep alembic's import lazy for callers that only want an engine.
    """
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    if url is not None:
        # ConfigParser interpolates '%'; URL-encoded passwords contain it.
        cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


def upgrade_database(url: str, revision: str = "head") -> None:
    """Bring the database at ``url`` to ``revision`` (Alembic ``upgrade head`` by default).

    Runs in one transaction on the same kind of engine the application uses. Safe to call from
    several processes at once: SQLite serializes them through BEGIN IMMEDIATE, PostgreSQL
    through a transaction-scoped advisory lock; the later caller finds nothing left to do.
    """
    from alembic import command

    engine = create_engine_for(url)
    try:
        with engine.begin() as connection:
            if connection.dialect.name == "postgresql":
                connection.execute(
                    text("SELECT pg_advisory_xact_lock(:key)"), {"key": _PG_MIGRATION_LOCK}
                )
            cfg = alembic_config(url)
            cfg.attributes["connection"] = connection
            command.upgrade(cfg, revision)
    finally:
        engine.dispose()
