"""The known future items table: open invoices and scheduled payments from the bank's systems.

One row per ``(business_id, item_id)`` (the client's own id). Money is signed ``BigInteger``
minor units in the account's currency (+ money in, − money out); an invoice is money owed to
the business, so its amount is positive (a check constraint, besides the repository's rule).
A ``business_id`` column: export and erasure cover the rows. Must stay in step with
``migrations/versions/0009_known_items.py``.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Column,
    Date,
    ForeignKey,
    Index,
    PrimaryKeyConstraint,
    String,
    Table,
    Text,
)

from ledgerlens.adapters.db.tables import UtcDateTime, metadata

__all__ = ["known_items"]

known_items = Table(
    "known_items",
    metadata,
    Column("business_id", String(128), ForeignKey("businesses.business_id"), nullable=False),
    Column("item_id", String(128), nullable=False),
    Column("kind", String(16), nullable=False),  # invoice | scheduled
    Column("account_id", String(128), ForeignKey("accounts.account_id"), nullable=False),
    Column("counterparty", Text, nullable=False),  # the customer (invoice) or payee
    Column("due_date", Date, nullable=False),
    Column("amount_minor", BigInteger, nullable=False),  # signed: + in, − out
    Column("currency", String(3), nullable=False),
    Column("reference", Text, nullable=False),
    Column("label", Text, nullable=False),
    Column("status", String(16), nullable=False),  # open | settled | cancelled
    Column("created_at", UtcDateTime, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
    PrimaryKeyConstraint("business_id", "item_id"),
    CheckConstraint("kind IN ('invoice', 'scheduled')", name="kind"),
    CheckConstraint("status IN ('open', 'settled', 'cancelled')", name="status"),
    CheckConstraint("kind <> 'invoice' OR amount_minor > 0", name="invoice_amount"),
    Index(None, "business_id", "status", "due_date"),
    Index(None, "account_id"),
)
