"""Value types of the decide stage: the risk input, business signals and the ``Decision``.

A ``Decision`` is what the audit log stores: the inputs it saw, what it decided, the reason codes
and the versions of every rule table and model that took part, so a reviewer can replay it.
Pure data; no I/O.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from ledgerlens.core.ledger import utc_now

__all__ = [
    "BANDS",
    "BusinessSignals",
    "Decision",
    "DecisionKind",
    "RiskAssessment",
]

BANDS: tuple[str, ...] = ("A", "B", "C", "D", "E")  # A = lowest risk of distress


class DecisionKind(enum.StrEnum):
    LIMIT = "limit"
    OFFER = "offer"
    RECOMMENDATION = "recommendation"
    CARD_AUTHORIZATION = "card_authorization"  # issue 6's employee-card decisions
    FEEDBACK = "feedback"  # the owner dismissed a recommendation: it is never shown again
    CONSENT = "consent"  # issue 8: a consent grant or withdrawal


@dataclass(frozen=True, slots=True)
class RiskAssessment:
    """The risk model's verdict on one business (issue 7B produces it; decide only reads it).

    ``probability_of_distress`` is calibrated; ``reasons`` are plain-word reason codes from the
    per-feature contributions; ``model_version`` looks like ``risk@2026.12.1`` (or
    ``rule:risk_proxy@1`` for the transparent fallback)."""

    business_id: str
    probability_of_distress: float
    risk_band: str
    reasons: tuple[str, ...] = ()
    model_version: str = ""

    def __post_init__(self) -> None:
        if not 0.0 <= self.probability_of_distress <= 1.0:
            raise ValueError("probability_of_distress must be in [0, 1]")
        if self.risk_band not in BANDS:
            raise ValueError(f"risk_band must be one of {BANDS}, got {self.risk_band!r}")


@dataclass(frozen=True, slots=True)
class BusinessSignals:
    """What decisions are priced on: the business's real performance, in base-currency minor
    units per month (averages over the last full months of history), plus forecast figures.

    Built by ``decide.signals.business_signals`` from stored transactions; tests build it
    directly."""

    business_id: str
    base_currency: str
    history_months: int
    monthly_inflow_minor: int  # operating inflows (no transfers, loans or owner money)
    monthly_outflow_minor: int  # operating outflows, positive number
    card_takings_minor: int  # card-acquirer settlements per month
    invoice_inflow_minor: int  # B2B invoice receipts per month
    marketplace_inflow_minor: int = 0
    balance_minor: int = 0  # latest balance of base-currency current/savings accounts
    average_balance_minor: int | None = None  # mean end-of-day current-account balance
    seasonality_ratio: float = 1.0  # weakest month / average month over the last 12 (1 = flat)
    low_months: tuple[int, ...] = ()  # calendar months well below average (1-12)
    debt_service_minor: int = 0  # loan repayments per month
    foreign_flow_minor: int = 0  # foreign-currency receipts + payments per month, base units
    foreign_share: float = 0.0  # foreign flows / all operating flows
    foreign_inflow_share: float = 0.0  # operating inflows received in a foreign currency
    foreign_card_share: float = 0.0  # card payments in a foreign currency / all card payments
    employees: int = 0
    employee_card_spenders: int = 0
    has_savings: bool = False
    has_currency_account: bool = False
    has_credit_card: bool = False
    has_card_acquiring: bool = False
    has_payroll: bool = False
    has_insurance: bool = False
    forecast_min_balance_minor: int | None = None  # expected minimum over the horizon
    forecast_shortfall_probability: float = 0.0  # highest weekly probability
    forecast_version: str = ""

    @property
    def net_capacity_minor(self) -> int:
        """What is left each month after operating outflows and debt service."""
        return self.monthly_inflow_minor - self.monthly_outflow_minor - self.debt_service_minor

    @property
    def idle_cash_months(self) -> float:
        """Cash usually held, in months of outflows (the average balance: one good day's
        balance is not idle cash)."""
        held = (
            self.balance_minor
            if self.average_balance_minor is None
            else min(self.balance_minor, self.average_balance_minor)
        )
        return held / self.monthly_outflow_minor if self.monthly_outflow_minor else 0.0

    @property
    def forecast_gap_minor(self) -> int:
        """How far the forecast sees the balance go below zero (0 when it does not)."""
        m = self.forecast_min_balance_minor
        return -m if m is not None and m < 0 else 0

    def facts(self) -> dict[str, Any]:
        """The signals as JSON-ready facts for rule contexts and audit inputs."""
        return {
            "history_months": self.history_months,
            "base_currency": self.base_currency,
            "monthly_inflow_minor": self.monthly_inflow_minor,
            "monthly_outflow_minor": self.monthly_outflow_minor,
            "card_takings_minor": self.card_takings_minor,
            "invoice_inflow_minor": self.invoice_inflow_minor,
            "marketplace_inflow_minor": self.marketplace_inflow_minor,
            "balance_minor": self.balance_minor,
            "seasonality_ratio": round(self.seasonality_ratio, 4),
            "debt_service_minor": self.debt_service_minor,
            "net_capacity_minor": self.net_capacity_minor,
            "idle_cash_months": round(self.idle_cash_months, 3),
            "foreign_share": round(self.foreign_share, 4),
            "foreign_inflow_share": round(self.foreign_inflow_share, 4),
            "forecast_gap_minor": self.forecast_gap_minor,
            "forecast_shortfall_probability": round(self.forecast_shortfall_probability, 4),
        }


@dataclass(frozen=True, slots=True)
class Decision:
    """One automated decision as the audit log keeps it.

    ``versions`` names every rule table (``rules:<table>@<version>``) and model
    (``model:<name>@<version>``) consulted; ``reason_codes`` are stable codes a reviewer can
    look up; ``reasons`` the same in plain words with figures; ``confidence`` in [0, 1]."""

    business_id: str
    kind: DecisionKind
    subject: str  # e.g. "card_limit", "overdraft", "fx_account"
    outputs: dict[str, Any]
    inputs: dict[str, Any]
    reason_codes: tuple[str, ...]
    versions: tuple[str, ...]
    reasons: tuple[str, ...] = ()
    confidence: float = 1.0
    source: str = ""
    decided_at: datetime = field(default_factory=utc_now)

    def __post_init__(self) -> None:
        object.__setattr__(self, "kind", DecisionKind(self.kind))
        if not self.reason_codes:
            raise ValueError("a decision needs at least one reason code")
        if not 0.0 <= self.confidence <= 1.0:
            raise ValueError("confidence must be in [0, 1]")
        if self.decided_at.tzinfo is None:
            raise ValueError("decided_at must be timezone-aware UTC")
