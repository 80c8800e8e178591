"""The decision audit log's table (issue 7): append-only, hash-chained per business.

Joins ``tables.metadata`` so the no-drift test covers it; must stay in step with
``migrations/versions/0005_decisions.py``. It has a ``business_id`` so erasure removes a
business's whole chain (chains are per business, so the others stay verifiable). No foreign key
to ``businesses``: an audit entry must survive anything but erasure, and erasure deletes by
``business_id`` anyway.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Column,
    Float,
    Identity,
    Index,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
)

from ledgerlens.adapters.db.tables import UtcDateTime, metadata

__all__ = ["decision_audit"]

decision_audit = Table(
    "decision_audit",
    metadata,
    Column("sequence", BigInteger().with_variant(Integer, "sqlite"), Identity(), primary_key=True),
    Column("business_id", String(128), nullable=False),
    Column("position", Integer, nullable=False),  # 1..n within the business's chain
    Column("decided_at", UtcDateTime, nullable=False),
    Column("kind", String(32), nullable=False),
    Column("subject", String(128), nullable=False),
    Column("inputs", Text, nullable=False),  # canonical JSON
    Column("outputs", Text, nullable=False),  # canonical JSON
    Column("reason_codes", Text, nullable=False),  # JSON array
    Column("reasons", Text, nullable=False),  # JSON array of plain-language reasons
    Column("versions", Text, nullable=False),  # JSON array: rules:<table>@v, model:<name>@v
    Column("confidence", Float, nullable=False),
    Column("source", String(128), nullable=False),
    Column("prev_hash", String(64), nullable=False),
    Column("hash", String(64), nullable=False),
    UniqueConstraint("business_id", "position"),
    Index(None, "business_id", "kind", "decided_at"),
)
