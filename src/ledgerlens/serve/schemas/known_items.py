"""Known future items: open invoices and scheduled payments the bank's systems already know of.

Amounts cross the API as signed decimal strings in the account's currency (+ money in,
− money out), never floats; they are stored as integer minor units (``core.money.to_minor``).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field
from pydantic.config import JsonDict

from ledgerlens.serve.schemas.types import AmountText, CurrencyCode, IdText, IsoDate, ShortText

__all__ = ["KnownItemIn", "KnownItemList", "KnownItemResource"]

KnownItemKindName = Literal["invoice", "scheduled"]
KnownItemStatusName = Literal["open", "settled", "cancelled"]

_IN_EXAMPLE: JsonDict = {
    "kind": "scheduled",
    "account_id": "acc_main",
    "counterparty": "HMRC",
    "due_date": "2026-03-31",
    "amount": "-8400.00",
    "currency": "GBP",
    "reference": "VAT Q1 2026",
    "label": "VAT payment",
}
_INVOICE_EXAMPLE: JsonDict = {
    "kind": "invoice",
    "account_id": "acc_main",
    "counterparty": "Brightside Events Ltd",
    "due_date": "2026-03-15",
    "amount": "4200.00",
    "currency": "GBP",
    "reference": "INV-1042",
    "label": "",
}
_OUT_EXAMPLE: JsonDict = {
    "item_id": "so-2026-03-vat",
    **_IN_EXAMPLE,
    "status": "open",
    "created_at": "2026-03-01T09:30:00Z",
    "updated_at": "2026-03-01T09:30:00Z",
}


class KnownItemIn(BaseModel):
    """A future movement: an open invoice the business is owed (``amount`` > 0, paid at its due
    date plus that customer's usual delay) or a scheduled payment (standing order, agreed
    payment; negative = money out). ``currency`` must be the account's."""

    model_config = ConfigDict(
        strict=True,
        extra="forbid",
        json_schema_extra={"examples": [_IN_EXAMPLE, _INVOICE_EXAMPLE]},
    )

    kind: KnownItemKindName
    account_id: IdText = Field(description="one of the business's accounts")
    due_date: IsoDate = Field(strict=False)
    amount: AmountText = Field(description="signed decimal string, negative = money out")
    currency: CurrencyCode = Field(description="ISO 4217; the account's currency")
    counterparty: ShortText = Field(default="", description="the customer (invoice) or payee")
    reference: ShortText = ""
    label: ShortText = ""


class KnownItemResource(BaseModel):
    """A stored known item; ``open`` ones count in the forecast."""

    model_config = ConfigDict(json_schema_extra={"examples": [_OUT_EXAMPLE]})

    item_id: str
    kind: KnownItemKindName
    account_id: str
    counterparty: str
    due_date: date
    amount: str = Field(description="signed decimal string in the account's currency")
    currency: str
    reference: str
    label: str
    status: KnownItemStatusName
    created_at: datetime
    updated_at: datetime


class KnownItemList(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{"items": [_OUT_EXAMPLE]}]})

    items: list[KnownItemResource]
