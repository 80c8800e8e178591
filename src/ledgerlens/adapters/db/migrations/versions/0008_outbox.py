"""Notification outbox: digests on schedule and insights held during quiet hours (issue #8).

Hand-written and frozen (it does not import ``outbox_tables.py``); the no-drift integration
test compares the migrated schema with the metadata. Follows 0007, the reserved no-op.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-05
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | Sequence[str] | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "notification_outbox",
        sa.Column("outbox_id", sa.String(64), nullable=False),
        sa.Column("business_id", sa.String(128), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("period_key", sa.String(64), nullable=False),
        sa.Column("channel", sa.String(16), nullable=False),
        sa.Column("purpose", sa.String(32), nullable=False),
        sa.Column("topic", sa.String(40), nullable=False),
        sa.Column("reference", sa.String(64), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("not_before", sa.DateTime(timezone=True), nullable=False),
        sa.Column("lease_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.String(64), nullable=False),
        sa.Column("subject", sa.Text(), nullable=False),
        sa.Column("body_text", sa.Text(), nullable=False),
        sa.Column("body_html", sa.Text(), nullable=False),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("outbox_id", name="pk_notification_outbox"),
        sa.UniqueConstraint(
            "business_id",
            "kind",
            "period_key",
            "channel",
            name="uq_notification_outbox_business_id_kind_period_key_channel",
        ),
    )
    op.create_index(
        "ix_notification_outbox_status_not_before",
        "notification_outbox",
        ["status", "not_before"],
    )
    op.create_index(
        "ix_notification_outbox_business_id_created_at",
        "notification_outbox",
        ["business_id", "created_at"],
    )


def downgrade() -> None:
    op.drop_table("notification_outbox")
