"""Request and response models for ingestion: pushed transactions and statement uploads."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field
from pydantic.config import JsonDict

from ledgerlens.ingest.realtime import MAX_BATCH, IncomingTransaction
from ledgerlens.ingest.service import ImportReport
from ledgerlens.serve.errors import IssueOut
from ledgerlens.serve.schemas.types import (
    AmountText,
    CurrencyCode,
    IdText,
    IsoDate,
    LongText,
    MccText,
    ShortText,
)

__all__ = ["ImportReportOut", "IngestResultOut", "TransactionBatchIn", "TransactionIn"]

_STRICT = ConfigDict(strict=True, extra="forbid")
_TRANSACTION_EXAMPLE: JsonDict = {
    "transaction_id": "bank-2026-10-01-000123",
    "account_id": "acc_main",
    "booking_date": "2026-10-01",
    "amount": "-12.50",
    "currency": "GBP",
    "description": "CARD PAYMENT COFFEE HOUSE",
}


class TransactionIn(BaseModel):
    """One transaction in the canonical fields; ``amount`` in the account's currency."""

    model_config = ConfigDict(
        strict=True,
        extra="forbid",
        json_schema_extra={"examples": [_TRANSACTION_EXAMPLE]},
    )

    account_id: IdText
    # dates arrive as ISO strings in JSON; the rest of the model stays strict
    booking_date: IsoDate = Field(strict=False)
    amount: AmountText = Field(description="signed decimal string, negative = money out")
    currency: CurrencyCode
    description: LongText = ""
    transaction_id: IdText | None = Field(
        default=None, description="the bank's id; de-duplicates retries when given"
    )
    value_date: IsoDate | None = Field(default=None, strict=False)
    counterparty_name: ShortText = ""
    counterparty_iban: ShortText = ""
    mcc: MccText = ""
    card_id: ShortText = Field(
        default="", description="masked card reference; a full PAN is masked"
    )
    employee_id: ShortText = ""
    balance_after: AmountText | None = None
    bank_reference: ShortText = ""

    def to_incoming(self) -> IncomingTransaction:
        return IncomingTransaction(
            account_id=self.account_id,
            booking_date=self.booking_date,
            amount=self.amount,
            currency=self.currency,
            description=self.description,
            transaction_id=self.transaction_id or "",
            value_date=self.value_date,
            counterparty_name=self.counterparty_name,
            counterparty_iban=self.counterparty_iban,
            mcc=self.mcc,
            card_id=self.card_id,
            employee_id=self.employee_id,
            balance_after=self.balance_after,
            bank_reference=self.bank_reference,
        )


class TransactionBatchIn(BaseModel):
    model_config = ConfigDict(
        strict=True,
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "transactions": [
                        {
                            **_TRANSACTION_EXAMPLE,
                            "counterparty_name": "Coffee House Ltd",
                            "mcc": "5814",
                        },
                        {
                            "transaction_id": "bank-2026-10-01-000124",
                            "account_id": "acc_main",
                            "booking_date": "2026-10-01",
                            "amount": "1840.00",
                            "currency": "GBP",
                            "description": "FASTER PAYMENT INV-1042",
                            "counterparty_name": "Brightside Events Ltd",
                            "balance_after": "6204.35",
                        },
                    ]
                }
            ]
        },
    )

    transactions: list[TransactionIn] = Field(min_length=1, max_length=MAX_BATCH)


class IngestResultOut(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"received": 2, "created": 2, "duplicates": 0}]}
    )

    received: int
    created: int = Field(description="new transactions stored")
    duplicates: int = Field(description="already stored (same id, or reference + date + amount)")


class ImportReportOut(BaseModel):
    """What happened to an uploaded statement file (the importer's report)."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "path": "statement-2026-02.sta",
                    "format": "mt940",
                    "statements": 1,
                    "transactions": 214,
                    "new": 210,
                    "duplicates": 4,
                    "reconciled": 1,
                    "unreconciled": 0,
                    "refused": False,
                    "issues": [
                        {
                            "line": 57,
                            "element": "",
                            "field": "value_date",
                            "message": "value date before booking date; kept the booking date",
                            "fatal": False,
                        }
                    ],
                }
            ]
        }
    )

    path: str
    format: str
    statements: int
    transactions: int
    new: int
    duplicates: int
    reconciled: int
    unreconciled: int
    refused: bool
    issues: list[IssueOut]

    @classmethod
    def of(cls, report: ImportReport) -> ImportReportOut:
        return cls.model_validate(report.as_dict())
