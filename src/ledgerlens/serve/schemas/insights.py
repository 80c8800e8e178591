"""Insights, preferences and consent as the API shows them (amounts as decimal strings)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field
from pydantic.config import JsonDict

from ledgerlens.core.money import format_minor
from ledgerlens.explain.model import Insight
from ledgerlens.serve.schemas.types import ShortText

__all__ = [
    "ActIn",
    "ConsentList",
    "ConsentOut",
    "EvidenceOut",
    "FeedQuery",
    "InsightActedOut",
    "InsightActionOut",
    "InsightList",
    "InsightOut",
    "PreferencesIn",
    "PreferencesOut",
]

ChannelName = Literal["in_app", "email", "push"]
DigestName = Literal["none", "daily", "weekly"]
PurposeName = Literal["insights", "offers", "model_improvement", "data_sharing"]


_ACTION_EXAMPLE: dict[str, Any] = {
    "kind": "schedule_transfer",
    "label": "Move £1,500.00 from savings on 2 Mar",
    "parameters": {"amount_minor": 150000, "currency": "GBP", "date": "2026-03-02"},
    "effect": {
        "week_start": "2026-03-09",
        "probability_before": 0.62,
        "probability_after": 0.08,
        "min_balance_after_minor": 84000,
    },
}
_INSIGHT_EXAMPLE: dict[str, Any] = {
    "insight_id": "ins_3b9f0c1d2e4a5b6c7d8e9f00",
    "kind": "cash_shortfall",
    "severity": "critical",
    "title": "Cash may run short in the week of 9 Mar",
    "message": "Your balance may drop to -£660.00 in the week of 9 Mar (62% likely).",
    "status": "new",
    "evidence": [
        {"label": "min_balance", "amount": "-660.00", "currency": "GBP"},
        {"label": "probability", "value": 0.62},
    ],
    "transaction_ids": ["tx_7f3a9c2e41d0"],
    "confidence": 0.81,
    "source": "model:forecast@2026.11.2",
    "created_at": "2026-03-01T07:00:00Z",
    "valid_until": "2026-03-15",
    "event_date": "2026-03-09",
    "chart": {"kind": "balance", "points": [["2026-03-02", "1240.00"], ["2026-03-09", "-660.00"]]},
    "actions": [_ACTION_EXAMPLE],
}


def _in_app() -> list[ChannelName]:
    return ["in_app"]


class EvidenceOut(BaseModel):
    """One labelled figure an insight rests on; money as a decimal string."""

    label: str
    amount: str | None = None
    currency: str | None = None
    value: str | int | float | None = None


class InsightActionOut(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [_ACTION_EXAMPLE]})

    kind: str
    label: str
    parameters: dict[str, str | int | float] = Field(default_factory=dict)
    effect: dict[str, str | int | float] = Field(default_factory=dict)


class InsightOut(BaseModel):
    """One insight of the feed, with where it came from and how sure it is."""

    model_config = ConfigDict(json_schema_extra={"examples": [_INSIGHT_EXAMPLE]})

    insight_id: str
    kind: str
    severity: Literal["info", "notice", "warning", "critical"]
    title: str
    message: str
    status: Literal["new", "seen", "dismissed", "acted"]
    evidence: list[EvidenceOut]
    transaction_ids: list[str]
    confidence: float = Field(ge=0, le=1)
    source: str
    created_at: datetime
    valid_until: date
    event_date: date
    chart: dict[str, Any] = Field(default_factory=dict)
    actions: list[InsightActionOut] = Field(default_factory=list)

    @classmethod
    def of(cls, i: Insight) -> InsightOut:
        evidence = [
            EvidenceOut(
                label=f.label,
                amount=format_minor(f.amount_minor, f.currency) if f.amount_minor is not None
                else None,
                currency=f.currency or None,
                value=f.value,
            )
            for f in i.evidence
        ]  # fmt: skip
        return cls(
            insight_id=i.insight_id, kind=str(i.kind), severity=i.severity.name.lower(),  # type: ignore[arg-type]
            title=i.title, message=i.message, status=str(i.status),  # type: ignore[arg-type]
            evidence=evidence, transaction_ids=list(i.transaction_ids),
            confidence=round(min(max(i.confidence, 0.0), 1.0), 4), source=i.source,
            created_at=i.created_at, valid_until=i.valid_until, event_date=i.event_date,
            chart=dict(i.chart),
            actions=[InsightActionOut(**a.to_dict()) for a in i.actions],  # type: ignore[arg-type]
        )  # fmt: skip


class InsightActedOut(InsightOut):
    """The insight after the owner acted on it, with the offered action they took (as stored
    in the audit log); null when the insight offered no action."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{**_INSIGHT_EXAMPLE, "status": "acted", "action_taken": _ACTION_EXAMPLE}]
        }
    )

    action_taken: InsightActionOut | None = None


class InsightList(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "items": [_INSIGHT_EXAMPLE],
                    "next_cursor": "WzIwLCAib3BlbiJd",
                    "consented": True,
                }
            ]
        }
    )

    items: list[InsightOut]
    next_cursor: str | None = Field(None, description="pass as ?cursor= for the next page")
    consented: bool = Field(description="false: the insights consent is not granted")


class ActIn(BaseModel):
    """Which of the insight's offered actions the owner took: the ``kind`` of one of its
    ``actions`` (422 naming ``action`` otherwise); may be left out only when it offers none."""

    model_config = ConfigDict(
        strict=True,
        extra="forbid",
        json_schema_extra={"examples": [{"action": "schedule_transfer"}]},
    )
    action: ShortText = ""


_PREFERENCES_EXAMPLE: JsonDict = {
    "muted_kinds": ["fx_tip"],
    "buffer": "500.00",
    "channels": ["in_app", "email"],
    "quiet_start": "22:00:00",
    "quiet_end": "07:00:00",
    "timezone": "Europe/London",
    "digest": "weekly",
    "language": "en",
    "email": "owner@example.com",
    "push_url": "",
}


class PreferencesOut(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{**_PREFERENCES_EXAMPLE, "currency": "GBP"}]}
    )

    muted_kinds: list[str]
    buffer: str = Field(description="the cash buffer, base currency, decimal string")
    currency: str
    channels: list[ChannelName]
    quiet_start: str | None = Field(description="local wall-clock HH:MM in timezone")
    quiet_end: str | None
    timezone: str
    digest: DigestName
    language: str
    email: str
    push_url: str


class PreferencesIn(BaseModel):
    """The whole set of choices (PUT replaces them)."""

    model_config = ConfigDict(
        strict=True,
        extra="forbid",
        json_schema_extra={"examples": [_PREFERENCES_EXAMPLE]},
    )
    muted_kinds: list[Literal[
        "cash_shortfall", "low_balance", "unusual_transaction", "duplicate_payment",
        "subscription_price_rise", "late_paying_customer", "tax_due", "fx_tip",
        "product_offer", "card_policy_breach", "best_month", "gap_avoided",
    ]] = Field(default_factory=list, max_length=20)  # fmt: skip
    buffer: str = Field("0", pattern=r"^[0-9]{1,12}(\.[0-9]{1,4})?$")
    channels: list[ChannelName] = Field(default_factory=_in_app, max_length=3)
    quiet_start: str | None = Field(None, pattern=r"^([01][0-9]|2[0-3]):[0-5][0-9](:[0-5][0-9])?$")
    quiet_end: str | None = Field(None, pattern=r"^([01][0-9]|2[0-3]):[0-5][0-9](:[0-5][0-9])?$")
    timezone: str = Field("UTC", pattern=r"^[A-Za-z_]+(/[A-Za-z0-9_+-]+){0,2}$", max_length=64)
    digest: DigestName = "weekly"
    language: str = Field("en", pattern=r"^[a-z]{2}$")
    email: str = Field(
        "", max_length=254, pattern=r"^([^@\s\x00-\x1f\x7f]+@[^@\s\x00-\x1f\x7f]+)?$"
    )
    push_url: str = Field("", max_length=500, pattern=r"^(https://[\x21-\x7e]+)?$")


class ConsentOut(BaseModel):
    purpose: PurposeName
    granted: bool


class ConsentList(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "items": [
                        {"purpose": "insights", "granted": True},
                        {"purpose": "offers", "granted": False},
                        {"purpose": "model_improvement", "granted": False},
                        {"purpose": "data_sharing", "granted": False},
                    ],
                    "deleted": {"insights": 12, "notifications": 4},
                }
            ]
        }
    )

    items: list[ConsentOut]
    deleted: dict[str, int] = Field(
        default_factory=dict, description="rows deleted by a withdrawal, per table"
    )


class FeedQuery(BaseModel):
    """The feed's query parameters as one model: one validation instead of one per parameter
    (the feed is the app's most frequent request)."""

    status: Literal["open", "all", "new", "seen", "dismissed", "acted"] = "open"
    limit: int = Field(default=20, ge=1, le=100)
    cursor: str | None = Field(default=None, max_length=200)
