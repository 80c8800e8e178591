"""What the app shows: an ``Insight`` with its evidence, chart data and actions.

Every insight says where it came from (``source``: ``rule:<id>`` or ``model:<name>@<version>``),
how sure it is (``confidence``) and what it rests on (``evidence``: labelled figures in integer
minor units plus the transaction ids behind them), so an owner — or a test — can check each
figure in the message against the data it cites. ``dedup_key`` names the underlying event: two
runs that see the same event produce the same key, and ranking keeps one insight per key.
"""

from __future__ import annotations

import enum
import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ledgerlens.explain.render import Renderer

__all__ = [
    "Action",
    "Figure",
    "Insight",
    "InsightKind",
    "InsightStatus",
    "Severity",
    "insight_id",
    "make_insight",
]


class InsightKind(enum.StrEnum):
    CASH_SHORTFALL = "cash_shortfall"
    LOW_BALANCE = "low_balance"
    UNUSUAL_TRANSACTION = "unusual_transaction"
    DUPLICATE_PAYMENT = "duplicate_payment"
    PRICE_RISE = "subscription_price_rise"
    LATE_PAYER = "late_paying_customer"
    TAX_DUE = "tax_due"
    FX_TIP = "fx_tip"
    PRODUCT_OFFER = "product_offer"
    CARD_POLICY = "card_policy_breach"
    BEST_MONTH = "best_month"
    GAP_AVOIDED = "gap_avoided"


class Severity(enum.IntEnum):
    """Ordered: ranking sorts by it; ``CRITICAL`` is never dropped by the daily cap."""

    INFO = 1
    NOTICE = 2
    WARNING = 3
    CRITICAL = 4


class InsightStatus(enum.StrEnum):
    NEW = "new"
    SEEN = "seen"
    DISMISSED = "dismissed"
    ACTED = "acted"


@dataclass(frozen=True, slots=True)
class Figure:
    """One labelled figure of the evidence. Money: ``amount_minor`` + ``currency``; else value."""

    label: str
    amount_minor: int | None = None
    currency: str = ""
    value: str | int | float | None = None

    def to_dict(self) -> dict[str, object]:
        out: dict[str, object] = {"label": self.label}
        if self.amount_minor is not None:
            out["amount_minor"] = self.amount_minor
            out["currency"] = self.currency
        if self.value is not None:
            out["value"] = self.value
        return out

    @classmethod
    def from_dict(cls, d: dict[str, object]) -> Figure:
        amt = d.get("amount_minor")
        value = d.get("value")
        return cls(
            str(d["label"]),
            int(str(amt)) if amt is not None else None,
            str(d.get("currency", "")),
            value if isinstance(value, (str, int, float)) else None,
        )


@dataclass(frozen=True, slots=True)
class Action:
    """Something the owner can do; ``effect`` = the re-forecast where money moves
    (``{"week_start", "probability_before", "probability_after", "min_balance_after_minor"}``)."""

    kind: str  # schedule_transfer | move_payment | view_financing | review | contact | view
    label: str
    parameters: dict[str, str | int | float] = field(default_factory=dict)
    effect: dict[str, str | int | float] = field(default_factory=dict)

    def to_dict(self) -> dict[str, object]:
        return {
            "kind": self.kind,
            "label": self.label,
            "parameters": dict(self.parameters),
            "effect": dict(self.effect),
        }

    @classmethod
    def from_dict(cls, d: dict[str, object]) -> Action:
        params = d.get("parameters")
        effect = d.get("effect")
        return cls(
            str(d["kind"]),
            str(d["label"]),
            dict(params) if isinstance(params, dict) else {},
            dict(effect) if isinstance(effect, dict) else {},
        )


@dataclass(frozen=True, slots=True)
class Insight:
    insight_id: str
    business_id: str
    kind: InsightKind
    severity: Severity
    title: str
    message: str
    evidence: tuple[Figure, ...]
    transaction_ids: tuple[str, ...]
    confidence: float
    source: str
    created_at: datetime
    valid_until: date
    dedup_key: str
    event_date: date  # the day the event happens (gap week, booking day, due date)
    chart: dict[str, object] = field(default_factory=dict)
    actions: tuple[Action, ...] = ()
    status: InsightStatus = InsightStatus.NEW
    language: str = "en"
    score: float = 0.0  # ranking order inside a severity (probability × impact)

    def __post_init__(self) -> None:
        object.__setattr__(self, "kind", InsightKind(self.kind))
        object.__setattr__(self, "severity", Severity(self.severity))
        object.__setattr__(self, "status", InsightStatus(self.status))
        if not 0.0 <= self.confidence <= 1.0:
            raise ValueError(f"confidence must be in [0, 1], got {self.confidence!r}")
        if not self.source:
            raise ValueError("an insight needs its source")
        if not self.evidence:
            raise ValueError("an insight needs evidence")

    def figure(self, label: str) -> Figure:
        for f in self.evidence:
            if f.label == label:
                return f
        raise KeyError(label)

    def to_dict(self) -> dict[str, object]:
        """JSON-ready (money stays integer minor units; dates ISO)."""
        return {
            "insight_id": self.insight_id,
            "business_id": self.business_id,
            "kind": str(self.kind),
            "severity": self.severity.name.lower(),
            "title": self.title,
            "message": self.message,
            "evidence": [f.to_dict() for f in self.evidence],
            "transaction_ids": list(self.transaction_ids),
            "chart": self.chart,
            "actions": [a.to_dict() for a in self.actions],
            "confidence": round(self.confidence, 4),
            "source": self.source,
            "created_at": self.created_at.isoformat(),
            "valid_until": self.valid_until.isoformat(),
            "event_date": self.event_date.isoformat(),
            "dedup_key": self.dedup_key,
            "status": str(self.status),
            "language": self.language,
        }


def insight_id(business_id: str, dedup_key: str) -> str:
    """Stable id per (business, event): a re-run updates the same insight, never adds one."""
    digest = hashlib.sha256(f"{business_id}|{dedup_key}".encode()).hexdigest()[:24]
    return f"ins_{digest}"


def make_insight(
    business_id: str,
    kind: InsightKind,
    severity: Severity,
    r: Renderer,
    *,
    title: str,
    message: str,
    evidence: Sequence[Figure],
    transaction_ids: Sequence[str] = (),
    confidence: float,
    source: str,
    now: datetime,
    valid_days: int,
    dedup_key: str,
    event_date: date,
    chart: dict[str, object] | None = None,
    actions: Sequence[Action] = (),
    score: float = 0.0,
) -> Insight:
    """One insight with the id derived from its dedup key (a re-run updates, never adds)."""
    return Insight(
        insight_id(business_id, dedup_key),
        business_id,
        kind,
        severity,
        title,
        message,
        tuple(evidence),
        tuple(transaction_ids),
        round(min(1.0, max(0.0, confidence)), 4),
        source,
        now,
        event_date + timedelta(days=valid_days),
        dedup_key,
        event_date,
        chart or {},
        tuple(actions),
        language=r.language,
        score=score,
    )
