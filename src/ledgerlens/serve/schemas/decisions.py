"""Offers, cards, card policies, authorizations and the audit log as the API shows them."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from ledgerlens.serve.schemas.types import AmountText, CurrencyCode, IdText, ShortText

__all__ = [
    "AuditEntryOut",
    "AuditList",
    "AuthorizationIn",
    "AuthorizationOut",
    "CardList",
    "CardOut",
    "CardPolicyOut",
    "ChainOut",
    "OfferList",
    "OfferOut",
]


class OfferOut(BaseModel):
    """An offer or recommendation with why (reason codes and plain reasons)."""

    offer_id: str = Field(description="the product; POST …/offers/{offer_id}/dismiss")
    kind: Literal["offer", "recommendation"]
    product: str
    title: str
    message: str = ""
    reasons: list[str]
    reason_codes: list[str]
    confidence: float = Field(ge=0, le=1)
    source: str
    decided_at: datetime
    details: dict[str, Any] = Field(default_factory=dict)


class OfferList(BaseModel):
    items: list[OfferOut]


class DismissOut(BaseModel):
    offer_id: str
    dismissed: bool = True


class CardOut(BaseModel):
    card_id: str = Field(description="masked card reference")
    employee_id: str | None = Field(None, description="hidden from staff without pii:read")
    role: str | None = Field(None, description="the role the card policy gives the card")
    transactions: int
    last_used: date | None


class CardList(BaseModel):
    items: list[CardOut]
    policy_version: str | None


class CardPolicyOut(BaseModel):
    policy_id: str | None
    version: str | None
    document: dict[str, Any] | None = Field(description="null: no policy stored yet")


POLICY_EXAMPLE = {
    "policy_id": "staff-cards",
    "version": "v1",
    "currency": "GBP",
    "timezone": "Europe/London",
    "roles": {
        "staff": {
            "blocked_mccs": ["7995"],
            "per_transaction_limit": "300.00",
            "monthly_limit": "1500.00",
        }
    },
    "employees": {"emp-1": {"role": "staff"}},
    "cards": {"card-01": "emp-1"},
}


class AuthorizationIn(BaseModel):
    model_config = ConfigDict(
        strict=True,
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "card_id": "card-01",
                    "merchant": "OFFICE WORLD",
                    "mcc": "5943",
                    "amount": "42.50",
                    "currency": "GBP",
                    "at": "2026-10-01T10:15:00Z",
                }
            ]
        },
    )
    card_id: IdText
    merchant: ShortText
    mcc: str = Field(pattern=r"^[0-9]{4}$")
    amount: AmountText = Field(description="positive decimal string")
    currency: CurrencyCode
    at: AwareDatetime = Field(strict=False, description="purchase time, with its UTC offset")


class AuthorizationOut(BaseModel):
    decision_id: str
    decision: Literal["approve", "decline", "review"]
    reason_codes: list[str]
    policy_id: str
    policy_version: str
    source: str
    confidence: float = Field(ge=0, le=1)


class AuditEntryOut(BaseModel):
    position: int
    decided_at: datetime
    kind: str
    subject: str
    inputs: dict[str, Any]
    outputs: dict[str, Any]
    reason_codes: list[str]
    reasons: list[str]
    versions: list[str]
    confidence: float
    source: str
    prev_hash: str
    hash: str


class ChainOut(BaseModel):
    ok: bool
    entries: int
    problems: list[str]


class AuditList(BaseModel):
    business_id: str
    items: list[AuditEntryOut]
    verification: ChainOut
