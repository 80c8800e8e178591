"""Duplicate-skipping bulk inserts: the hot path of every import.

``INSERT … ON CONFLICT DO NOTHING`` without a conflict target skips a row that hits *any*
unique constraint — for transactions both UNIQUE(account_id, dedup_key) and
UNIQUE(transaction_id) — atomically per row, so two concurrent importers of one file store
each transaction once (PostgreSQL makes the second writer wait for the first to commit, SQLite
serializes writers with BEGIN IMMEDIATE).

The count of rows actually stored is exact: pysqlite and psycopg 3 both sum the per-statement
row counts over an executemany (SQLite's ``changes()``), and a skipped row counts zero.

Transactions bypass SQLAlchemy's per-row parameter processing: the statement is written once
with positional placeholders and the rows go to the driver's executemany as tuples, with dates
pre-formatted for SQLite exactly as SQLAlchemy stores them. Measured on 1M rows in batches of
5,000: about 2x faster than Core ``execute(insert(), dicts)`` on SQLite. (RETURNING through
SQLAlchemy's insertmanyvalues was 8x slower still on psycopg, which re-parses the long
multi-VALUES statement on every page.)
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import fields
from datetime import UTC, datetime
from functools import lru_cache
from operator import attrgetter
from typing import Any

from sqlalchemy import Connection, Executable, Table
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from ledgerlens.adapters.db.tables import transactions
from ledgerlens.core.ledger import Transaction

__all__ = [
    "TX_FIELDS",
    "insert_ignoring_duplicates",
    "insert_transactions",
    "transaction_params",
]

TX_FIELDS: tuple[str, ...] = tuple(f.name for f in fields(Transaction))
_TX_VALUES = attrgetter(*TX_FIELDS)
_INSERT_COLUMNS = (*TX_FIELDS, "imported_at")
_BOOKING = TX_FIELDS.index("booking_date")
_VALUE = TX_FIELDS.index("value_date")
_STATEMENT = TX_FIELDS.index("statement_id")
_DEDUP = TX_FIELDS.index("dedup_key")
_ID = TX_FIELDS.index("transaction_id")
_PLACEHOLDER = {"sqlite": "?", "postgresql": "%s"}
_KEEP = {"preserve_rowcount": True}  # SQLAlchemy keeps INSERT row counts only when asked


def _checked_rowcount(rowcount: int, dialect: str) -> int:
    if rowcount < 0:  # a driver that cannot count would make the "new" figure a lie
        raise RuntimeError(f"{dialect} driver did not report a rowcount for the insert")
    return int(rowcount)


def insert_ignoring_duplicates(conn: Connection, table: Table, rows: list[dict[str, Any]]) -> int:
    """INSERT rows (dicts, through SQLAlchemy Core), skipping duplicates; return how many."""
    if not rows:
        return 0
    dialect = conn.dialect.name
    stmt = _insert_ignoring_for(dialect, table)
    return _checked_rowcount(conn.execute(stmt, rows, execution_options=_KEEP).rowcount, dialect)


@lru_cache(maxsize=64)
def _insert_ignoring_for(dialect: str, table: Table) -> Executable:
    """Built once per (dialect, table): statements are immutable, and one reused is compiled
    and cache-keyed once (this runs on every real-time POST's idempotency record)."""
    if dialect == "sqlite":
        return sqlite_insert(table).on_conflict_do_nothing()
    if dialect == "postgresql":
        return pg_insert(table).on_conflict_do_nothing()
    raise NotImplementedError(f"no duplicate-skipping insert for dialect {dialect!r}")


def transaction_params(
    txs: Sequence[Transaction], dialect: str, imported_at: datetime
) -> list[tuple[Any, ...]]:
    """Driver-level parameter tuples in ``_INSERT_COLUMNS`` order.

    An empty ``dedup_key`` falls back to the ``transaction_id``; an empty ``statement_id`` is
    stored as NULL. On SQLite, dates and the timestamp are the strings SQLAlchemy itself would
    write (ISO date; UTC ``YYYY-MM-DD HH:MM:SS.ffffff``), so reads through Core parse them.
    """
    sqlite = dialect == "sqlite"
    stamp: Any = imported_at.astimezone(UTC)
    if sqlite:
        stamp = stamp.strftime("%Y-%m-%d %H:%M:%S.%f")
    out: list[tuple[Any, ...]] = []
    append = out.append
    for tx in txs:
        v = list(_TX_VALUES(tx))
        if sqlite:
            v[_BOOKING] = v[_BOOKING].isoformat()
            if v[_VALUE] is not None:
                v[_VALUE] = v[_VALUE].isoformat()
        if not v[_STATEMENT]:
            v[_STATEMENT] = None
        if not v[_DEDUP]:
            v[_DEDUP] = v[_ID]
        v.append(stamp)
        append(tuple(v))
    return out


def insert_transactions(conn: Connection, params: list[tuple[Any, ...]]) -> int:
    """Insert prepared ``transaction_params`` rows, skipping duplicates; return how many."""
    if not params:
        return 0
    dialect = conn.dialect.name
    if dialect == "postgresql":
        return _insert_transactions_by_copy(conn, params)
    placeholder = _PLACEHOLDER.get(dialect)
    if placeholder is None:
        raise NotImplementedError(f"no duplicate-skipping insert for dialect {dialect!r}")
    quote = conn.dialect.identifier_preparer.quote
    sql = (
        f"INSERT INTO {quote(transactions.name)} "
        f"({', '.join(quote(c) for c in _INSERT_COLUMNS)}) "
        f"VALUES ({', '.join([placeholder] * len(_INSERT_COLUMNS))}) ON CONFLICT DO NOTHING"
    )
    result = conn.exec_driver_sql(sql, params, execution_options=_KEEP)
    return _checked_rowcount(result.rowcount, dialect)


_STAGE = "ledgerlens_tx_stage"


def _insert_transactions_by_copy(conn: Connection, params: list[tuple[Any, ...]]) -> int:
    """PostgreSQL: COPY the batch into a temporary table, then one INSERT … SELECT.

    COPY moves rows several times faster than executemany; the single INSERT keeps the
    ON CONFLICT semantics and reports the exact count. The stage table lives for the current
    transaction only (ON COMMIT DROP), so a pooled connection never carries a stale copy of the
    schema; ``ord`` keeps arrival order, which ``seq`` must follow.
    """
    quote = conn.dialect.identifier_preparer.quote
    columns = ", ".join(quote(c) for c in _INSERT_COLUMNS)
    conn.exec_driver_sql(
        f"CREATE TEMPORARY TABLE IF NOT EXISTS {_STAGE} ON COMMIT DROP AS "
        f"SELECT {columns}, 0::bigint AS ord FROM {quote(transactions.name)} WITH NO DATA"
    )
    conn.exec_driver_sql(f"TRUNCATE {_STAGE}")
    cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
    try:
        with cursor.copy(f"COPY {_STAGE} ({columns}, ord) FROM STDIN") as copy:
            for ordinal, row in enumerate(params):
                copy.write_row((*row, ordinal))
    finally:
        cursor.close()
    result = conn.exec_driver_sql(
        f"INSERT INTO {quote(transactions.name)} ({columns}) "
        f"SELECT {columns} FROM {_STAGE} ORDER BY ord ON CONFLICT DO NOTHING",
        execution_options=_KEEP,
    )
    return _checked_rowcount(result.rowcount, "postgresql")
