"""Enrichment: annotations, owner corrections, business profiles.

Hand-written and frozen like 0001/0002 (it does not import ``enrichment_tables.py``); the
no-drift integration test compares the migrated schema with the metadata.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-04
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | Sequence[str] | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "annotations",
        sa.Column("transaction_id", sa.String(128), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("business_id", sa.String(128), nullable=False),
        sa.Column("value", sa.String(128), nullable=False),
        sa.Column("confidence", sa.Float(), nullable=False),
        sa.Column("source", sa.String(128), nullable=False),
        sa.Column("reasons", sa.Text(), nullable=False),
        sa.Column("evidence", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["transaction_id"],
            ["transactions.transaction_id"],
            name="fk_annotations_transaction_id_transactions",
        ),
        sa.ForeignKeyConstraint(
            ["business_id"],
            ["businesses.business_id"],
            name="fk_annotations_business_id_businesses",
        ),
        sa.PrimaryKeyConstraint("transaction_id", "kind", name="pk_annotations"),
    )
    op.create_index(
        "ix_annotations_business_id_kind_value", "annotations", ["business_id", "kind", "value"]
    )
    op.create_table(
        "corrections",
        sa.Column("correction_id", sa.String(64), nullable=False),
        sa.Column("business_id", sa.String(128), nullable=False),
        sa.Column("transaction_id", sa.String(128), nullable=False),
        sa.Column("member_id", sa.String(128), nullable=False),
        sa.Column("category", sa.String(64), nullable=False),
        sa.Column("counterparty_key", sa.Text(), nullable=False),
        sa.Column("direction", sa.String(3), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("consented", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["business_id"],
            ["businesses.business_id"],
            name="fk_corrections_business_id_businesses",
        ),
        sa.ForeignKeyConstraint(
            ["transaction_id"],
            ["transactions.transaction_id"],
            name="fk_corrections_transaction_id_transactions",
        ),
        sa.PrimaryKeyConstraint("correction_id", name="pk_corrections"),
    )
    op.create_index(
        "ix_corrections_business_id_created_at", "corrections", ["business_id", "created_at"]
    )
    op.create_table(
        "enrichment_profiles",
        sa.Column("business_id", sa.String(128), nullable=False),
        sa.Column("words", sa.Text(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["business_id"],
            ["businesses.business_id"],
            name="fk_enrichment_profiles_business_id_businesses",
        ),
        sa.PrimaryKeyConstraint("business_id", name="pk_enrichment_profiles"),
    )


def downgrade() -> None:
    op.drop_table("enrichment_profiles")
    op.drop_table("corrections")
    op.drop_table("annotations")
