"""Known future items: open invoices and scheduled payments from the bank's systems.

Hand-written and frozen (it does not import ``known_item_tables.py``); the no-drift
integration test compares the migrated schema with the metadata. Follows 0008.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-05
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | Sequence[str] | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "known_items",
        sa.Column("business_id", sa.String(128), nullable=False),
        sa.Column("item_id", sa.String(128), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("account_id", sa.String(128), nullable=False),
        sa.Column("counterparty", sa.Text(), nullable=False),
        sa.Column("due_date", sa.Date(), nullable=False),
        sa.Column("amount_minor", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("reference", sa.Text(), nullable=False),
        sa.Column("label", sa.Text(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("business_id", "item_id", name="pk_known_items"),
        sa.ForeignKeyConstraint(
            ["business_id"],
            ["businesses.business_id"],
            name="fk_known_items_business_id_businesses",
        ),
        sa.ForeignKeyConstraint(
            ["account_id"], ["accounts.account_id"], name="fk_known_items_account_id_accounts"
        ),
        sa.CheckConstraint("kind IN ('invoice', 'scheduled')", name=op.f("ck_known_items_kind")),
        sa.CheckConstraint(
            "status IN ('open', 'settled', 'cancelled')", name=op.f("ck_known_items_status")
        ),
        sa.CheckConstraint(
            "kind <> 'invoice' OR amount_minor > 0", name=op.f("ck_known_items_invoice_amount")
        ),
    )
    op.create_index(
        "ix_known_items_business_id_status_due_date",
        "known_items",
        ["business_id", "status", "due_date"],
    )
    op.create_index("ix_known_items_account_id", "known_items", ["account_id"])


def downgrade() -> None:
    op.drop_table("known_items")
