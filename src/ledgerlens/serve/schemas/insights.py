"""Insights, preferences and consent as the API shows them (amounts as decimal strings)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from ledgerlens.core.money import format_minor
from ledgerlens.explain.model import Insight
from ledgerlens.serve.schemas.types import ShortText

__all__ = [
    "ActIn",
    "ConsentList",
    "ConsentOut",
    "EvidenceOut",
    "FeedQuery",
    "InsightActionOut",
    "InsightList",
    "InsightOut",
    "PreferencesIn",
    "PreferencesOut",
]

_STRICT = ConfigDict(strict=True, extra="forbid")
ChannelName = Literal["in_app", "email", "push"]
DigestName = Literal["none", "daily", "weekly"]
PurposeName = Literal["insights", "offers", "model_improvement", "data_sharing"]


def _in_app() -> list[ChannelName]:
    return ["in_app"]


class EvidenceOut(BaseModel):
    """One labelled figure an insight rests on; money as a decimal string."""

    label: str
    amount: str | None = None
    currency: str | None = None
    value: str | int | float | None = None


class InsightActionOut(BaseModel):
    kind: str
    label: str
    parameters: dict[str, str | int | float] = Field(default_factory=dict)
    effect: dict[str, str | int | float] = Field(default_factory=dict)


class InsightOut(BaseModel):
    """One insight of the feed, with where it came from and how sure it is."""

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


class InsightList(BaseModel):
    items: list[InsightOut]
    next_cursor: str | None = Field(None, description="pass as ?cursor= for the next page")
    consented: bool = Field(description="false: the insights consent is not granted")


class ActIn(BaseModel):
    """Which of the insight's actions the owner took (optional)."""

    model_config = _STRICT
    action: ShortText = ""


class PreferencesOut(BaseModel):
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
        json_schema_extra={
            "examples": [
                {
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
            ]
        },
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
