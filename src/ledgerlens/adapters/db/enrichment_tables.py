"""Tables of the enrich stage: annotations, owner corrections and per-business profiles.

They join ``tables.metadata`` (the one MetaData Alembic compares), so the no-drift test covers
them; ``adapters/db/__init__`` imports this module so they are registered whenever the storage
package is. Must stay in step with ``migrations/versions/0003_enrichment.py``.

Every table has a ``business_id``, so erasure (``SqlBusinessRepository.delete``) removes their
rows; annotations and corrections point at their transaction with a foreign key, so erasure
deletes them first (it walks the tables children before parents).
"""

from __future__ import annotations

from sqlalchemy import (
    Boolean,
    Column,
    Float,
    ForeignKey,
    Index,
    PrimaryKeyConstraint,
    String,
    Table,
    Text,
)

from ledgerlens.adapters.db.tables import UtcDateTime, metadata

__all__ = ["annotations_table", "corrections", "enrichment_profiles"]

# (not named ``annotations``: that would shadow ``from __future__ import annotations``)
annotations_table = Table(
    "annotations",
    metadata,
    Column(
        "transaction_id",
        String(128),
        ForeignKey("transactions.transaction_id"),
        nullable=False,
    ),
    Column("kind", String(16), nullable=False),
    Column("business_id", String(128), ForeignKey("businesses.business_id"), nullable=False),
    Column("value", String(128), nullable=False),  # "" = the categorizer abstained
    Column("confidence", Float, nullable=False),
    Column("source", String(128), nullable=False),
    Column("reasons", Text, nullable=False),  # JSON array of strings
    Column("evidence", Text, nullable=False),  # JSON object of labelled figures
    Column("created_at", UtcDateTime, nullable=False),
    PrimaryKeyConstraint("transaction_id", "kind"),
    Index(None, "business_id", "kind", "value"),
)

corrections = Table(
    "corrections",
    metadata,
    Column("correction_id", String(64), primary_key=True),
    Column("business_id", String(128), ForeignKey("businesses.business_id"), nullable=False),
    Column(
        "transaction_id",
        String(128),
        ForeignKey("transactions.transaction_id"),
        nullable=False,
    ),
    Column("member_id", String(128), nullable=False),  # who corrected (audit), "" if unknown
    Column("category", String(64), nullable=False),
    Column("counterparty_key", Text, nullable=False),
    Column("direction", String(3), nullable=False),
    Column("text", Text, nullable=False),  # normalized description, no IBAN or card number
    # made with the model_improvement consent: only then may it become a training example
    Column("consented", Boolean, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Index(None, "business_id", "created_at"),
)

enrichment_profiles = Table(
    "enrichment_profiles",
    metadata,
    Column("business_id", String(128), ForeignKey("businesses.business_id"), primary_key=True),
    Column("words", Text, nullable=False),  # JSON array: the business's trade words
    Column("updated_at", UtcDateTime, nullable=False),
)
