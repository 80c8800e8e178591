"""Response models for the ledger: businesses, accounts, transactions (amounts as strings)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from ledgerlens.core.ledger import Account, Business, Transaction
from ledgerlens.core.money import format_minor
from ledgerlens.core.privacy import mask_iban, scrub_text

__all__ = ["AccountList", "AccountOut", "BusinessOut", "TransactionOut", "TransactionPage"]


def _mask_name(name: str) -> str:
    """``Jane Smith`` -> ``J*** S***``: enough to recognise, not to identify."""
    return " ".join(f"{word[0]}***" for word in name.split()) if name else ""


# no null values: FastAPI drops them from the document (exclude_none), so a required nullable
# field shown as null would be missing from the published example
_TX_EXAMPLE: dict[str, Any] = {
    "transaction_id": "tx_7f3a9c2e41d0",
    "account_id": "acc_main_gbp",
    "booking_date": "2026-03-14",
    "value_date": "2026-03-14",
    "amount": "-12.50",
    "currency": "GBP",
    "description": "CARD PAYMENT CAFE DE FLORE PARIS EUR 14.60",
    "counterparty_name": "Cafe de Flore",
    "counterparty_iban": "",
    "mcc": "5812",
    "card_id": "card_4821",
    "employee_id": "emp_jsmith",
    "balance_after": "4210.75",
    "bank_reference": "REF0012345",
    "original_amount": "-14.60",
    "original_currency": "EUR",
    "statement_id": "stmt_2026_03_main",
    "category": "opex.meals_entertainment",
}


class BusinessOut(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "business_id": "biz_4f2c91",
                    "name": "Harbour Street Bakery Ltd",
                    "country": "GB",
                    "base_currency": "GBP",
                    "created_at": "2026-01-05T09:00:00Z",
                }
            ]
        }
    )

    business_id: str
    name: str
    country: str
    base_currency: str
    created_at: datetime

    @classmethod
    def of(cls, b: Business) -> BusinessOut:
        return cls(
            business_id=b.business_id,
            name=b.name,
            country=b.country,
            base_currency=b.base_currency,
            created_at=b.created_at,
        )


_ACCOUNT_EXAMPLE: dict[str, Any] = {
    "account_id": "acc_main_gbp",
    "identifier": "GB29********3192",
    "currency": "GBP",
    "account_type": "current",
    "name": "Main current account",
}


class AccountOut(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [_ACCOUNT_EXAMPLE]})

    account_id: str
    identifier: str = Field(description="what the bank prints (IBAN, number); masked for staff")
    currency: str
    account_type: str
    name: str

    @classmethod
    def of(cls, a: Account, pii: bool) -> AccountOut:
        return cls(
            account_id=a.account_id,
            identifier=a.identifier if pii else mask_iban(a.identifier),
            currency=a.currency,
            account_type=str(a.account_type),
            name=a.name,
        )


class AccountList(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{"items": [_ACCOUNT_EXAMPLE]}]})

    items: list[AccountOut]


class TransactionOut(BaseModel):
    """One booked transaction; ``amount`` is a signed decimal string (negative = money out).

    ``category`` is its current category (a taxonomy leaf, GET /v1/taxonomy) as the enrichment
    stored it or the owner corrected it; null when the categorizer abstained or has not run."""

    model_config = ConfigDict(json_schema_extra={"examples": [_TX_EXAMPLE]})

    transaction_id: str
    account_id: str
    booking_date: date
    value_date: date | None
    amount: str = Field(examples=["-12.50"])
    currency: str
    description: str
    counterparty_name: str
    counterparty_iban: str
    mcc: str
    card_id: str
    employee_id: str
    balance_after: str | None
    bank_reference: str
    original_amount: str | None
    original_currency: str | None
    statement_id: str | None
    category: str | None = Field(
        default=None, description="taxonomy leaf code; null when uncategorized"
    )

    @classmethod
    def of(cls, t: Transaction, pii: bool, category: str = "") -> TransactionOut:
        original = (
            format_minor(t.original_amount_minor, t.original_currency)
            if t.original_amount_minor is not None and t.original_currency
            else None
        )
        return cls(
            transaction_id=t.transaction_id,
            account_id=t.account_id,
            booking_date=t.booking_date,
            value_date=t.value_date,
            amount=format_minor(t.amount_minor, t.currency),
            currency=t.currency,
            description=t.description if pii else scrub_text(t.description),
            counterparty_name=t.counterparty_name if pii else _mask_name(t.counterparty_name),
            counterparty_iban=(
                t.counterparty_iban
                if pii or not t.counterparty_iban
                else mask_iban(t.counterparty_iban)
            ),
            mcc=t.mcc,
            card_id=t.card_id,
            employee_id=t.employee_id,
            balance_after=(
                format_minor(t.balance_after_minor, t.currency)
                if t.balance_after_minor is not None
                else None
            ),
            bank_reference=t.bank_reference,
            original_amount=original,
            original_currency=t.original_currency or None,
            statement_id=t.statement_id or None,
            category=category or None,
        )


class TransactionPage(BaseModel):
    """A page of transactions, newest first; pass ``next_cursor`` back as ``cursor``."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {"items": [_TX_EXAMPLE], "next_cursor": "WyIyMDI2LTAzLTE0IiwgNDIsICJhYmMiXQ"}
            ]
        }
    )

    items: list[TransactionOut]
    next_cursor: str | None = None
