"""Unusual transactions and card controls: anomaly results, "expected" feedback, card policies
and card authorization decisions (issue #6).

Hand-written and frozen like 0001-0003 (it does not import ``anomaly_tables.py``); the no-drift
integration test compares the migrated schema with the metadata.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-04
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | Sequence[str] | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _business_fk(table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        ["business_id"], ["businesses.business_id"], name=f"fk_{table}_business_id_businesses"
    )


def _transaction_fk(table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        ["transaction_id"],
        ["transactions.transaction_id"],
        name=f"fk_{table}_transaction_id_transactions",
    )


def upgrade() -> None:
    op.create_table(
        "anomaly_results",
        sa.Column("transaction_id", sa.String(128), nullable=False),
        sa.Column("business_id", sa.String(128), nullable=False),
        sa.Column("score", sa.Float(), nullable=False),
        sa.Column("is_anomaly", sa.Boolean(), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("reasons", sa.Text(), nullable=False),
        sa.Column("evidence", sa.Text(), nullable=False),
        sa.Column("source", sa.String(128), nullable=False),
        sa.Column("model_version", sa.String(64), nullable=False),
        sa.Column("confidence", sa.Float(), nullable=False),
        sa.Column("incident_id", sa.String(128), nullable=False),
        sa.Column("rule_ids", sa.Text(), nullable=False),
        sa.Column("suppressed_by", sa.String(128), nullable=False),
        sa.Column("feedback_key", sa.String(64), nullable=False),
        sa.Column("detected_at", sa.DateTime(timezone=True), nullable=False),
        _transaction_fk("anomaly_results"),
        _business_fk("anomaly_results"),
        sa.PrimaryKeyConstraint("transaction_id", name="pk_anomaly_results"),
    )
    op.create_index(
        "ix_anomaly_results_business_id_is_anomaly",
        "anomaly_results",
        ["business_id", "is_anomaly"],
    )
    op.create_table(
        "anomaly_feedback",
        sa.Column("transaction_id", sa.String(128), nullable=False),
        sa.Column("pattern_key", sa.String(64), nullable=False),
        sa.Column("business_id", sa.String(128), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("amount_minor", sa.BigInteger(), nullable=False),
        sa.Column("created_by", sa.String(128), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        _transaction_fk("anomaly_feedback"),
        _business_fk("anomaly_feedback"),
        sa.PrimaryKeyConstraint("transaction_id", "pattern_key", name="pk_anomaly_feedback"),
    )
    op.create_index(
        "ix_anomaly_feedback_business_id_created_at",
        "anomaly_feedback",
        ["business_id", "created_at"],
    )
    op.create_table(
        "card_policies",
        sa.Column("business_id", sa.String(128), nullable=False),
        sa.Column("version", sa.String(64), nullable=False),
        sa.Column("policy_id", sa.String(128), nullable=False),
        sa.Column("document", sa.Text(), nullable=False),
        sa.Column("created_by", sa.String(128), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        _business_fk("card_policies"),
        sa.PrimaryKeyConstraint("business_id", "version", name="pk_card_policies"),
    )
    op.create_table(
        "card_decisions",
        sa.Column("decision_id", sa.String(64), nullable=False),
        sa.Column("business_id", sa.String(128), nullable=False),
        sa.Column("card_id", sa.String(64), nullable=False),
        sa.Column("decision", sa.String(16), nullable=False),
        sa.Column("reason_codes", sa.Text(), nullable=False),
        sa.Column("policy_id", sa.String(128), nullable=False),
        sa.Column("policy_version", sa.String(64), nullable=False),
        sa.Column("amount_minor", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("authorized_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("record", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        _business_fk("card_decisions"),
        sa.PrimaryKeyConstraint("decision_id", name="pk_card_decisions"),
    )
    op.create_index(
        "ix_card_decisions_business_id_card_id_authorized_at",
        "card_decisions",
        ["business_id", "card_id", "authorized_at"],
    )


def downgrade() -> None:
    op.drop_table("card_decisions")
    op.drop_table("card_policies")
    op.drop_table("anomaly_feedback")
    op.drop_table("anomaly_results")
