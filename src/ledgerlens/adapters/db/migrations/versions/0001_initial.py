"""Initial schema: businesses, members, accounts, statements, transactions, imports, consents.

Hand-written and frozen: it does not import ``tables.py`` (later changes to the metadata must
arrive as new revisions). An integration test checks that this revision and the metadata agree.

Revision ID: 0001
Revises:
Create Date: 2026-12-01
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_ID = sa.String(128)
_CARD_CHECKS = {
    "sqlite": "card_id NOT GLOB '*" + "[0-9]" * 13 + "*'",
    "postgresql": "card_id !~ '[0-9]{13}'",
}


def _seq() -> sa.types.TypeEngine[int]:
    return sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def _ts(name: str, nullable: bool = False) -> sa.Column[object]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def _business_fk(table: str) -> sa.Column[str]:
    return sa.Column(
        "business_id",
        _ID,
        sa.ForeignKey("businesses.business_id", name=f"fk_{table}_business_id_businesses"),
        nullable=False,
    )


def upgrade() -> None:
    dialect = op.get_bind().dialect.name

    op.create_table(
        "businesses",
        sa.Column("business_id", _ID, nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("country", sa.String(2), nullable=False),
        sa.Column("base_currency", sa.String(3), nullable=False),
        _ts("created_at"),
        sa.PrimaryKeyConstraint("business_id", name="pk_businesses"),
    )

    op.create_table(
        "members",
        sa.Column("member_id", _ID, nullable=False),
        _business_fk("members"),
        sa.Column("display_name", sa.Text(), nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.PrimaryKeyConstraint("member_id", name="pk_members"),
    )
    op.create_index("ix_members_business_id", "members", ["business_id"])

    op.create_table(
        "accounts",
        sa.Column("account_id", _ID, nullable=False),
        _business_fk("accounts"),
        sa.Column("identifier", sa.Text(), nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("account_type", sa.String(16), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("account_id", name="pk_accounts"),
        sa.UniqueConstraint(
            "business_id",
            "identifier",
            "currency",
            name="uq_accounts_business_id_identifier_currency",
        ),
    )
    op.create_index("ix_accounts_business_id", "accounts", ["business_id"])

    op.create_table(
        "statements",
        sa.Column("statement_id", _ID, nullable=False),
        _business_fk("statements"),
        sa.Column(
            "account_id",
            _ID,
            sa.ForeignKey("accounts.account_id", name="fk_statements_account_id_accounts"),
            nullable=False,
        ),
        sa.Column("dedup_key", sa.Text(), nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("opening_minor", sa.BigInteger(), nullable=True),
        sa.Column("closing_minor", sa.BigInteger(), nullable=True),
        sa.Column("sum_minor", sa.BigInteger(), nullable=False),
        sa.Column("transaction_count", sa.Integer(), nullable=False),
        sa.Column("period_start", sa.Date(), nullable=True),
        sa.Column("period_end", sa.Date(), nullable=True),
        sa.Column("source_format", sa.String(64), nullable=False),
        sa.Column("source_path", sa.Text(), nullable=False),
        sa.Column("bank_statement_ref", sa.Text(), nullable=False),
        _ts("imported_at"),
        sa.PrimaryKeyConstraint("statement_id", name="pk_statements"),
        sa.UniqueConstraint("account_id", "dedup_key", name="uq_statements_account_id_dedup_key"),
    )
    op.create_index("ix_statements_business_id", "statements", ["business_id"])

    op.create_table(
        "transactions",
        sa.Column("seq", _seq(), sa.Identity(), nullable=False),
        sa.Column("transaction_id", _ID, nullable=False),
        _business_fk("transactions"),
        sa.Column(
            "account_id",
            _ID,
            sa.ForeignKey("accounts.account_id", name="fk_transactions_account_id_accounts"),
            nullable=False,
        ),
        sa.Column("dedup_key", sa.Text(), nullable=False),
        sa.Column("booking_date", sa.Date(), nullable=False),
        sa.Column("value_date", sa.Date(), nullable=True),
        sa.Column("amount_minor", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("counterparty_name", sa.Text(), nullable=False),
        sa.Column("counterparty_iban", sa.Text(), nullable=False),
        sa.Column("mcc", sa.Text(), nullable=False),
        sa.Column("card_id", sa.Text(), nullable=False),
        sa.Column("employee_id", sa.Text(), nullable=False),
        sa.Column("balance_after_minor", sa.BigInteger(), nullable=True),
        sa.Column("bank_reference", sa.Text(), nullable=False),
        sa.Column("bank_tx_code", sa.Text(), nullable=False),
        sa.Column("purpose_code", sa.Text(), nullable=False),
        sa.Column("original_amount_minor", sa.BigInteger(), nullable=True),
        sa.Column("original_currency", sa.String(3), nullable=False),
        sa.Column("statement_id", _ID, nullable=True),
        sa.Column("source_path", sa.Text(), nullable=False),
        sa.Column("source_line", sa.Integer(), nullable=False),
        _ts("imported_at"),
        sa.PrimaryKeyConstraint("seq", name="pk_transactions"),
        sa.UniqueConstraint("transaction_id", name="uq_transactions_transaction_id"),
        sa.UniqueConstraint("account_id", "dedup_key", name="uq_transactions_account_id_dedup_key"),
        # Card ids are stored masked only: no run of 13+ digits (a full card number).
        sa.CheckConstraint(
            _CARD_CHECKS.get(dialect, "1 = 1"), name=op.f("ck_transactions_card_id_masked")
        ),
    )
    op.create_index(
        "ix_transactions_business_id_booking_date", "transactions", ["business_id", "booking_date"]
    )

    op.create_table(
        "import_files",
        sa.Column("id", _seq(), sa.Identity(), nullable=False),
        _business_fk("import_files"),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("path", sa.Text(), nullable=False),
        sa.Column("format", sa.String(64), nullable=False),
        sa.Column("transactions", sa.Integer(), nullable=False),
        sa.Column("new", sa.Integer(), nullable=False),
        _ts("imported_at"),
        sa.PrimaryKeyConstraint("id", name="pk_import_files"),
    )
    op.create_index("ix_import_files_business_id", "import_files", ["business_id"])

    op.create_table(
        "consent_grants",
        sa.Column("id", _seq(), sa.Identity(), nullable=False),
        _business_fk("consent_grants"),
        sa.Column("purpose", sa.String(64), nullable=False),
        _ts("granted_at"),
        _ts("withdrawn_at", nullable=True),
        sa.Column("granted_by", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_consent_grants"),
    )
    op.create_index("ix_consent_grants_business_id", "consent_grants", ["business_id"])


def downgrade() -> None:
    for table in (
        "consent_grants",
        "import_files",
        "transactions",
        "statements",
        "accounts",
        "members",
        "businesses",
    ):
        op.drop_table(table)
