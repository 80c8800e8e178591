"""Decisions: the append-only, hash-chained decision audit log (issue 7).

Hand-written and frozen (it does not import ``audit_tables.py``); the no-drift integration
test compares the migrated schema with the metadata.

Revision ID: 0005
Revises: 0004
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | Sequence[str] | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "decision_audit",
        sa.Column(
            "sequence",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            sa.Identity(),
            nullable=False,
        ),
        sa.Column("business_id", sa.String(128), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("subject", sa.String(128), nullable=False),
        sa.Column("inputs", sa.Text(), nullable=False),
        sa.Column("outputs", sa.Text(), nullable=False),
        sa.Column("reason_codes", sa.Text(), nullable=False),
        sa.Column("reasons", sa.Text(), nullable=False),
        sa.Column("versions", sa.Text(), nullable=False),
        sa.Column("confidence", sa.Float(), nullable=False),
        sa.Column("source", sa.String(128), nullable=False),
        sa.Column("prev_hash", sa.String(64), nullable=False),
        sa.Column("hash", sa.String(64), nullable=False),
        sa.PrimaryKeyConstraint("sequence", name="pk_decision_audit"),
        sa.UniqueConstraint(
            "business_id", "position", name="uq_decision_audit_business_id_position"
        ),
    )
    op.create_index(
        "ix_decision_audit_business_id_kind_decided_at",
        "decision_audit",
        ["business_id", "kind", "decided_at"],
    )


def downgrade() -> None:
    op.drop_index("ix_decision_audit_business_id_kind_decided_at", table_name="decision_audit")
    op.drop_table("decision_audit")
