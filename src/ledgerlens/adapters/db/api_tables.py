"""Tables the API needs beside the ledger: idempotency records for creating requests.

They join ``tables.metadata`` (the one MetaData Alembic compares), so the no-drift test covers
them; ``adapters/db/__init__`` imports this module so the tables are registered whenever the
storage package is. Must stay in step with ``migrations/versions/0002_api.py``.

``idempotency_keys`` has no foreign key to ``businesses``: a record outlives nothing it refers
to (it holds a response, not ledger rows), expires after a day (``SqlIdempotencyStore.purge``),
and must not block the erasure of a business (erasure deletes its records by ``business_id``).
"""

from __future__ import annotations

from sqlalchemy import Column, Index, Integer, PrimaryKeyConstraint, String, Table, Text

from ledgerlens.adapters.db.tables import UtcDateTime, metadata

__all__ = ["idempotency_keys"]

idempotency_keys = Table(
    "idempotency_keys",
    metadata,
    Column("business_id", String(128), nullable=False),
    # the token subject: keys are the client's own, two clients may pick the same one
    Column("subject", String(255), nullable=False),
    Column("key", String(255), nullable=False),
    Column("request_hash", String(64), nullable=False),
    # NULL while the first request is still running (the reservation), then its response
    Column("status_code", Integer, nullable=True),
    Column("content_type", String(128), nullable=True),
    Column("response_body", Text, nullable=True),
    Column("created_at", UtcDateTime, nullable=False),
    Column("completed_at", UtcDateTime, nullable=True),
    PrimaryKeyConstraint("business_id", "subject", "key"),
    Index(None, "created_at"),
)

#: API tables holding one business's rows (erasure deletes them by ``business_id``).
