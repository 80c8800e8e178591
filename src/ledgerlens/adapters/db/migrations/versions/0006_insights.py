"""Insights: the in-app feed, preferences, notifications log and consent events (issue #8).

Hand-written and frozen (it does not import ``insight_tables.py``); the no-drift integration
test compares the migrated schema with the metadata.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-04
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | Sequence[str] | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _business_fk(table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        ["business_id"], ["businesses.business_id"], name=f"fk_{table}_business_id_businesses"
    )


def upgrade() -> None:
    op.create_table(
        "insights",
        sa.Column("insight_id", sa.String(64), nullable=False),
        sa.Column("business_id", sa.String(128), nullable=False),
        sa.Column("kind", sa.String(40), nullable=False),
        sa.Column("severity", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("dedup_key", sa.String(200), nullable=False),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("language", sa.String(8), nullable=False),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.Column("confidence", sa.Float(), nullable=False),
        sa.Column("source", sa.String(128), nullable=False),
        sa.Column("score", sa.Float(), nullable=False),
        sa.Column("event_date", sa.Date(), nullable=False),
        sa.Column("valid_until", sa.Date(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        _business_fk("insights"),
        sa.PrimaryKeyConstraint("insight_id", name="pk_insights"),
        sa.UniqueConstraint("business_id", "dedup_key", name="uq_insights_business_id_dedup_key"),
    )
    op.create_index("ix_insights_business_id_created_at", "insights", ["business_id", "created_at"])
    op.create_table(
        "insight_preferences",
        sa.Column("business_id", sa.String(128), nullable=False),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        _business_fk("insight_preferences"),
        sa.PrimaryKeyConstraint("business_id", name="pk_insight_preferences"),
    )
    op.create_table(
        "notifications",
        sa.Column("notification_id", sa.String(64), nullable=False),
        sa.Column("business_id", sa.String(128), nullable=False),
        sa.Column("insight_id", sa.String(64), nullable=False),
        sa.Column("channel", sa.String(16), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("reason", sa.String(64), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("notification_id", name="pk_notifications"),
    )
    op.create_index(
        "ix_notifications_business_id_created_at", "notifications", ["business_id", "created_at"]
    )
    op.create_table(
        "consent_events",
        sa.Column("event_id", sa.String(64), nullable=False),
        sa.Column("business_id", sa.String(128), nullable=False),
        sa.Column("purpose", sa.String(32), nullable=False),
        sa.Column("action", sa.String(16), nullable=False),
        sa.Column("actor", sa.String(128), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("details", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("event_id", name="pk_consent_events"),
    )
    op.create_index("ix_consent_events_business_id_at", "consent_events", ["business_id", "at"])


def downgrade() -> None:
    op.drop_table("consent_events")
    op.drop_table("notifications")
    op.drop_table("insight_preferences")
    op.drop_table("insights")
