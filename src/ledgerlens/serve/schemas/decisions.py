"""Offers, cards, card policies, authorizations and the audit log as the API shows them."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from ledgerlens.serve.schemas.types import AmountText, CurrencyCode, IdText, ShortText

_OFFER: dict[str, Any] = {
    "offer_id": "overdraft_facility",
    "kind": "offer",
    "product": "overdraft_facility",
    "title": "Arranged overdraft",
    "message": "A £2,000.00 arranged overdraft would cover the gap week of 9 Mar.",
    "reasons": ["a cash gap of £660.00 is 62% likely in the week of 9 Mar"],
    "reason_codes": ["CASH_GAP_LIKELY"],
    "confidence": 0.78,
    "source": "rules:offers@2026.11.1",
    "decided_at": "2026-03-01T07:00:00Z",
    "details": {"limit": "2000.00", "currency": "GBP"},
}
_AUDIT_ENTRY: dict[str, Any] = {
    "position": 42,
    "decided_at": "2026-03-01T07:00:00Z",
    "kind": "offer",
    "subject": "overdraft_facility",
    "inputs": {"probability_of_distress": 0.12},
    "outputs": {"shown": True, "limit_minor": 200000},
    "reason_codes": ["CASH_GAP_LIKELY"],
    "reasons": ["a cash gap of £660.00 is 62% likely in the week of 9 Mar"],
    "versions": ["rules:offers@2026.11.1", "model:risk@2026.12.1"],
    "confidence": 0.78,
    "source": "rules:offers@2026.11.1",
    "prev_hash": "9f2c4e1a7b3d5f60" * 4,
    "hash": "1a7b3d5f609f2c4e" * 4,
}

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

    model_config = ConfigDict(json_schema_extra={"examples": [_OFFER]})

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
    model_config = ConfigDict(json_schema_extra={"examples": [{"items": [_OFFER]}]})

    items: list[OfferOut]


class DismissOut(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"offer_id": "overdraft_facility", "dismissed": True}]}
    )

    offer_id: str
    dismissed: bool = True


_CARD: dict[str, Any] = {
    "card_id": "card-01",
    "employee_id": "emp-1",
    "role": "staff",
    "transactions": 37,
    "last_used": "2026-02-27",
}


class CardOut(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [_CARD]})

    card_id: str = Field(description="masked card reference")
    employee_id: str | None = Field(None, description="hidden from staff without pii:read")
    role: str | None = Field(None, description="the role the card policy gives the card")
    transactions: int
    last_used: date | None


class CardList(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"items": [_CARD], "policy_version": "v1"}]}
    )

    items: list[CardOut]
    policy_version: str | None


_POLICY_DOCUMENT: dict[str, Any] = {
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


class CardPolicyOut(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {"policy_id": "staff-cards", "version": "v1", "document": _POLICY_DOCUMENT}
            ]
        }
    )

    policy_id: str | None
    version: str | None
    document: dict[str, Any] | None = Field(description="null: no policy stored yet")


POLICY_EXAMPLE = _POLICY_DOCUMENT


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
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "decision_id": "auth_6d0e2b9f4a1c",
                    "decision": "approve",
                    "reason_codes": ["WITHIN_POLICY"],
                    "policy_id": "staff-cards",
                    "policy_version": "v1",
                    "source": "rule:card_policy",
                    "confidence": 1.0,
                }
            ]
        }
    )

    decision_id: str
    decision: Literal["approve", "decline", "review"]
    reason_codes: list[str]
    policy_id: str
    policy_version: str
    source: str
    confidence: float = Field(ge=0, le=1)


class AuditEntryOut(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [_AUDIT_ENTRY]})

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
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"ok": True, "entries": 42, "problems": []}]}
    )

    ok: bool
    entries: int
    problems: list[str]


class AuditList(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "business_id": "biz_4f2c91",
                    "items": [_AUDIT_ENTRY],
                    "verification": {"ok": True, "entries": 42, "problems": []},
                    "next_cursor": "WyJhdWRpdDo1ZTNmIiwgNDFd",
                }
            ]
        }
    )

    business_id: str
    items: list[AuditEntryOut]  # newest first
    verification: ChainOut  # the business's whole chain, not only this page
    next_cursor: str | None = None  # older entries under the same filters
