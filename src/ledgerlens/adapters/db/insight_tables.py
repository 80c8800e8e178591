"""Tables of the explain stage: insights (the in-app feed), preferences, notifications log and
consent events (issue 8).

They join ``tables.metadata`` so the no-drift test covers them; ``adapters/db/__init__`` imports
this module. Must stay in step with ``migrations/versions/0006_insights.py``. Every table has a
``business_id`` so erasure removes its rows; only ``insights`` and ``insight_preferences``
point at ``businesses`` with a foreign key — the notification log and consent events are kept
as history until erasure and must not block deleting an insight.
"""

from __future__ import annotations

from sqlalchemy import (
    Column,
    Date,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
)

from ledgerlens.adapters.db.tables import UtcDateTime, metadata

__all__ = ["consent_events", "insight_preferences", "insights", "notifications"]

insights = Table(
    "insights",
    metadata,
    Column("insight_id", String(64), primary_key=True),
    Column("business_id", String(128), ForeignKey("businesses.business_id"), nullable=False),
    Column("kind", String(40), nullable=False),
    Column("severity", Integer, nullable=False),
    Column("status", String(16), nullable=False),
    Column("dedup_key", String(200), nullable=False),
    Column("title", Text, nullable=False),
    Column("message", Text, nullable=False),
    Column("language", String(8), nullable=False),
    Column("payload", Text, nullable=False),  # JSON: evidence, transaction ids, chart, actions
    Column("confidence", Float, nullable=False),
    Column("source", String(128), nullable=False),
    Column("score", Float, nullable=False),
    Column("event_date", Date, nullable=False),
    Column("valid_until", Date, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
    UniqueConstraint("business_id", "dedup_key"),
    Index(None, "business_id", "created_at"),
)

insight_preferences = Table(
    "insight_preferences",
    metadata,
    Column("business_id", String(128), ForeignKey("businesses.business_id"), primary_key=True),
    Column("payload", Text, nullable=False),  # JSON of consent.Preferences
    Column("updated_at", UtcDateTime, nullable=False),
)

notifications = Table(
    "notifications",
    metadata,
    Column("notification_id", String(64), primary_key=True),
    Column("business_id", String(128), nullable=False),
    Column("insight_id", String(64), nullable=False),
    Column("channel", String(16), nullable=False),
    Column("status", String(16), nullable=False),  # sent | held | failed
    Column("reason", String(64), nullable=False),  # policy verdict or error class (no PII)
    Column("attempts", Integer, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Index(None, "business_id", "created_at"),
)

consent_events = Table(
    "consent_events",
    metadata,
    Column("event_id", String(64), primary_key=True),
    Column("business_id", String(128), nullable=False),
    Column("purpose", String(32), nullable=False),
    Column("action", String(16), nullable=False),  # grant | withdraw
    Column("actor", String(128), nullable=False),
    Column("at", UtcDateTime, nullable=False),
    Column("details", Text, nullable=False),  # JSON: what was deleted on withdrawal (counts)
    Index(None, "business_id", "at"),
)
