"""The relational schema as SQLAlchemy Core tables (not ORM classes).

Core rather than ORM because bulk import is the hot path (executemany of plain dicts is several
times faster than unit-of-work flushes) and because no ORM object may leave the adapter anyway:
repositories translate rows to the pure types of ``core.ledger``.

Conventions: money is ``BigInteger`` minor units, dates are ``Date``, timestamps are
``DateTime(timezone=True)`` stored in UTC (see ``UtcDateTime``). Constraint names come from the
naming convention so that the hand-written Alembic revision and this metadata agree exactly.
This module must stay in step with ``migrations/versions/0001_initial.py``; an integration test
compares them on SQLite and PostgreSQL.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Column,
    Date,
    DateTime,
    Dialect,
    ForeignKey,
    Identity,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)
from sqlalchemy.types import TypeDecorator

__all__ = [
    "CARD_ID_CHECK_PG",
    "CARD_ID_CHECK_SQLITE",
    "UtcDateTime",
    "accounts",
    "businesses",
    "consent_grants",
    "import_files",
    "members",
    "metadata",
    "statements",
    "transactions",
]

NAMING_CONVENTION: dict[str, str] = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

metadata = MetaData(naming_convention=NAMING_CONVENTION)

# Card ids must be masked: refuse 13 or more consecutive digits (a full PAN is 13-19 digits).
# SQLite has no regex operator by default, so it gets an equivalent GLOB; the repositories
# enforce the same rule in Python (with separators removed) before any row reaches SQL.
CARD_ID_CHECK_SQLITE = "card_id NOT GLOB '*" + "[0-9]" * 13 + "*'"
CARD_ID_CHECK_PG = "card_id !~ '[0-9]{13}'"


class UtcDateTime(TypeDecorator[datetime]):
    """A timezone-aware timestamp that is always UTC in the database and in Python.

    SQLite has no timezone type: SQLAlchemy would silently drop the offset. Converting to UTC on
    the way in and re-attaching UTC on the way out makes both databases round-trip the same
    instant. Naive datetimes are refused because their meaning is a guess.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError(f"naive datetime refused (store timezone-aware UTC): {value!r}")
        utc = value.astimezone(UTC)
        return utc.replace(tzinfo=None) if dialect.name == "sqlite" else utc

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


def _seq_type() -> BigInteger:
    """BIGINT identity on PostgreSQL; on SQLite only ``INTEGER PRIMARY KEY`` auto-increments."""
    return BigInteger().with_variant(Integer(), "sqlite")


businesses = Table(
    "businesses",
    metadata,
    Column("business_id", String(128), primary_key=True),
    Column("name", Text, nullable=False),
    Column("country", String(2), nullable=False),
    Column("base_currency", String(3), nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
)

members = Table(
    "members",
    metadata,
    Column("member_id", String(128), primary_key=True),
    Column(
        "business_id", String(128), ForeignKey("businesses.business_id"), nullable=False, index=True
    ),
    Column("display_name", Text, nullable=False),
    Column("role", String(16), nullable=False),
)

accounts = Table(
    "accounts",
    metadata,
    Column("account_id", String(128), primary_key=True),
    Column(
        "business_id", String(128), ForeignKey("businesses.business_id"), nullable=False, index=True
    ),
    Column("identifier", Text, nullable=False),
    Column("currency", String(3), nullable=False),
    Column("account_type", String(16), nullable=False),
    Column("name", Text, nullable=False),
    UniqueConstraint("business_id", "identifier", "currency"),
)

statements = Table(
    "statements",
    metadata,
    Column("statement_id", String(128), primary_key=True),
    Column(
        "business_id", String(128), ForeignKey("businesses.business_id"), nullable=False, index=True
    ),
    Column("account_id", String(128), ForeignKey("accounts.account_id"), nullable=False),
    Column("dedup_key", Text, nullable=False),
    Column("currency", String(3), nullable=False),
    Column("opening_minor", BigInteger, nullable=True),
    Column("closing_minor", BigInteger, nullable=True),
    Column("sum_minor", BigInteger, nullable=False),
    Column("transaction_count", Integer, nullable=False),
    Column("period_start", Date, nullable=True),
    Column("period_end", Date, nullable=True),
    Column("source_format", String(64), nullable=False),
    Column("source_path", Text, nullable=False),
    Column("bank_statement_ref", Text, nullable=False),
    Column("imported_at", UtcDateTime, nullable=False),
    UniqueConstraint("account_id", "dedup_key"),
)

transactions = Table(
    "transactions",
    metadata,
    # Arrival order: the canonical sort is (account_id, booking_date, seq).
    Column("seq", _seq_type(), Identity(), primary_key=True),
    Column("transaction_id", String(128), nullable=False, unique=True),
    Column("business_id", String(128), ForeignKey("businesses.business_id"), nullable=False),
    Column("account_id", String(128), ForeignKey("accounts.account_id"), nullable=False),
    Column("dedup_key", Text, nullable=False),
    Column("booking_date", Date, nullable=False),
    Column("value_date", Date, nullable=True),
    Column("amount_minor", BigInteger, nullable=False),
    Column("currency", String(3), nullable=False),
    Column("description", Text, nullable=False),
    Column("counterparty_name", Text, nullable=False),
    Column("counterparty_iban", Text, nullable=False),
    Column("mcc", Text, nullable=False),
    Column("card_id", Text, nullable=False),  # masked card number only (see CHECK)
    Column("employee_id", Text, nullable=False),
    Column("balance_after_minor", BigInteger, nullable=True),
    Column("bank_reference", Text, nullable=False),
    Column("bank_tx_code", Text, nullable=False),
    Column("purpose_code", Text, nullable=False),
    Column("original_amount_minor", BigInteger, nullable=True),
    Column("original_currency", String(3), nullable=False),
    Column("statement_id", String(128), nullable=True),
    Column("source_path", Text, nullable=False),
    Column("source_line", Integer, nullable=False),
    Column("imported_at", UtcDateTime, nullable=False),
    UniqueConstraint("account_id", "dedup_key"),
    Index(None, "business_id", "booking_date"),
    CheckConstraint(CARD_ID_CHECK_SQLITE, name="card_id_masked").ddl_if(dialect="sqlite"),
    CheckConstraint(CARD_ID_CHECK_PG, name="card_id_masked").ddl_if(dialect="postgresql"),
)

import_files = Table(
    "import_files",
    metadata,
    Column("id", _seq_type(), Identity(), primary_key=True),
    Column(
        "business_id", String(128), ForeignKey("businesses.business_id"), nullable=False, index=True
    ),
    Column("sha256", String(64), nullable=False),
    Column("path", Text, nullable=False),
    Column("format", String(64), nullable=False),
    Column("transactions", Integer, nullable=False),
    Column("new", Integer, nullable=False),
    Column("imported_at", UtcDateTime, nullable=False),
)

consent_grants = Table(
    "consent_grants",
    metadata,
    Column("id", _seq_type(), Identity(), primary_key=True),
    Column(
        "business_id", String(128), ForeignKey("businesses.business_id"), nullable=False, index=True
    ),
    Column("purpose", String(64), nullable=False),
    Column("granted_at", UtcDateTime, nullable=False),
    Column("withdrawn_at", UtcDateTime, nullable=True),
    Column("granted_by", Text, nullable=False),
)
