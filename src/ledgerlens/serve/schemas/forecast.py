"""Forecast, what-if, anomaly and category payloads (amounts as decimal strings, never floats).

Probabilities and confidences are floats in [0, 1]; every automated result names its ``source``
(``model:cashflow@…``, ``rule:…``) and carries its evidence, so the app can say why.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from ledgerlens.serve.schemas.types import AmountText, IdText, IsoDate, ShortText

__all__ = [
    "AccountBalanceOut",
    "AddOneOffIn",
    "AnomalyList",
    "AnomalyOut",
    "CategoryAssignment",
    "CategoryList",
    "ChartPointOut",
    "DriverOut",
    "ExpectedOut",
    "ForecastOut",
    "KnownItemOut",
    "MovePaymentIn",
    "RecategorizeIn",
    "RecategorizeOut",
    "ScheduleTransferIn",
    "TaxonomyOut",
    "WeekChangeOut",
    "WeekRiskOut",
    "WhatIfIn",
    "WhatIfOut",
]

Probability = Annotated[float, Field(ge=0.0, le=1.0)]


def _examples(*examples: dict[str, Any]) -> ConfigDict:
    """A model's OpenAPI examples (a contract test validates each against its schema). No null
    values: FastAPI drops them from the document, so a required field would go missing."""
    return ConfigDict(json_schema_extra={"examples": list(examples)})


_WEEK_RISK = {
    "week_start": "2026-03-09",
    "week_end": "2026-03-15",
    "shortfall_probability": 0.62,
    "expected_min_balance": "-660.00",
    "expected_min_day": "2026-03-10",
    "confidence": 0.81,
    "source": "model:cashflow@2026.11.2",
}
_WEEK_LATER = {  # after a what-if: the gap moves two weeks later and shrinks
    **_WEEK_RISK,
    "week_start": "2026-03-23",
    "week_end": "2026-03-29",
    "shortfall_probability": 0.54,
    "expected_min_balance": "-120.00",
    "expected_min_day": "2026-03-24",
}
_CHART = [
    {
        "start": "2026-03-02",
        "inflow": "4200.00",
        "outflow": "-3950.00",
        "p10": "610.00",
        "p50": "1240.00",
        "p90": "1890.00",
    },
    {
        "start": "2026-03-09",
        "inflow": "1800.00",
        "outflow": "-3700.00",
        "p10": "-1420.00",
        "p50": "-660.00",
        "p90": "210.00",
    },
]
_ASSIGNMENT = {
    "transaction_id": "tx_7f3a9c2e41d0",
    "category": "opex.software_subscriptions",
    "label": "Software subscriptions",
    "confidence": 1.0,
    "source": "owner",
    "reasons": ["corrected by the owner"],
}
_ANOMALY = {
    "transaction_id": "tx_91c4e0a7b2f3",
    "booking_date": "2026-03-04",
    "amount": "-2480.00",
    "currency": "GBP",
    "description": "FASTER PAYMENT NORTHWIND SUPPLIES",
    "counterparty_name": "Northwind Supplies",
    "score": 0.93,
    "kind": "unusual_amount",
    "reasons": ["6.2× the usual payment to this supplier (median £400.00)"],
    "source": "model:anomaly@2026.10.1",
    "confidence": 0.88,
    "evidence": {"median": "400.00", "ratio": "6.2"},
}


class WeekRiskOut(BaseModel):
    model_config = _examples(_WEEK_RISK)

    week_start: date
    week_end: date
    shortfall_probability: Probability
    expected_min_balance: str = Field(examples=["-1250.00"])
    expected_min_day: date
    confidence: Probability
    source: str


class ChartPointOut(BaseModel):
    """One week of the chart: expected inflows/outflows and the end-of-week balance band."""

    start: date
    inflow: str
    outflow: str
    p10: str
    p50: str
    p90: str


class DriverOut(BaseModel):
    kind: str
    label: str
    amount: str
    due_date: date | None
    item_id: str
    evidence: dict[str, str | int | float]


class KnownItemOut(BaseModel):
    """An expected dated movement (a what-if can move it by ``item_id``)."""

    item_id: str
    account_id: str
    due_date: date
    amount: str
    kind: str
    label: str
    probability: Probability


class AccountBalanceOut(BaseModel):
    account_id: str
    name: str
    currency: str
    account_type: str
    balance: str = Field(description="latest known balance (end of the forecast's origin day)")
    operating: bool = Field(description="its balance decides a shortfall")


class ForecastOut(BaseModel):
    """p10/p50/p90 balance band, weekly shortfall risk, the gap week and why."""

    model_config = _examples(
        {
            "business_id": "biz_4f2c91",
            "base_currency": "GBP",
            "as_of": "2026-03-01",
            "horizon_days": 90,
            "buffer": "500.00",
            "source": "model:cashflow@2026.11.2",
            "history": "Based on 14 months of transactions on 2 accounts.",
            "balances": [
                {
                    "account_id": "acc_main_gbp",
                    "name": "Main current account",
                    "currency": "GBP",
                    "account_type": "current",
                    "balance": "1240.00",
                    "operating": True,
                }
            ],
            "weeks": [_WEEK_RISK],
            "gap_week": _WEEK_RISK,
            "gap_threshold": 0.5,
            "drivers": [
                {
                    "kind": "payroll",
                    "label": "Monthly payroll",
                    "amount": "-3100.00",
                    "due_date": "2026-03-10",
                    "item_id": "rec_payroll_monthly",
                    "evidence": {"occurrences": 14, "median": "3080.00"},
                }
            ],
            "chart": _CHART,
            "upcoming": [
                {
                    "item_id": "rec_payroll_monthly",
                    "account_id": "acc_main_gbp",
                    "due_date": "2026-03-10",
                    "amount": "-3100.00",
                    "kind": "payroll",
                    "label": "Monthly payroll",
                    "probability": 0.97,
                }
            ],
            "evidence": {"paths": 1000, "history_days": 425},
        }
    )

    business_id: str
    base_currency: str
    as_of: date
    horizon_days: int
    buffer: str
    source: str
    history: str = Field(description="what the forecast rests on, in a sentence")
    balances: list[AccountBalanceOut]
    weeks: list[WeekRiskOut]
    gap_week: WeekRiskOut | None = Field(description="the first week at risk, or null")
    gap_threshold: Probability
    drivers: list[DriverOut] = Field(description="why the gap week dips, biggest first")
    chart: list[ChartPointOut]
    upcoming: list[KnownItemOut] = Field(description="largest expected items, soonest first")
    evidence: dict[str, str | int | float]


class MovePaymentIn(BaseModel):
    type: Literal["move_payment"]
    item_id: IdText
    new_date: IsoDate


class ScheduleTransferIn(BaseModel):
    type: Literal["schedule_transfer"]
    from_account_id: IdText
    to_account_id: IdText
    on: IsoDate
    amount: AmountText = Field(description="positive decimal in the source account's currency")


class AddOneOffIn(BaseModel):
    type: Literal["one_off"]
    account_id: IdText
    on: IsoDate
    amount: AmountText = Field(description="signed decimal: negative = money out")
    label: ShortText = "one-off item"


WhatIfAction = Annotated[
    MovePaymentIn | ScheduleTransferIn | AddOneOffIn, Field(discriminator="type")
]


class WhatIfIn(BaseModel):
    """Up to five hypothetical changes, applied together to the same forecast draws."""

    model_config = _examples(
        {
            "actions": [
                {
                    "type": "schedule_transfer",
                    "from_account_id": "acc_savings_gbp",
                    "to_account_id": "acc_main_gbp",
                    "on": "2026-03-06",
                    "amount": "1500.00",
                },
                {"type": "move_payment", "item_id": "rec_rent_monthly", "new_date": "2026-03-16"},
                {
                    "type": "one_off",
                    "account_id": "acc_main_gbp",
                    "on": "2026-03-12",
                    "amount": "2400.00",
                    "label": "Invoice 1042 paid early",
                },
            ]
        }
    )

    actions: list[WhatIfAction] = Field(min_length=1, max_length=5)


class WeekChangeOut(BaseModel):
    week_start: date
    before: Probability
    after: Probability
    change: float = Field(ge=-1.0, le=1.0)


class WhatIfOut(BaseModel):
    """Each week's shortfall probability before and after the actions (same random draws)."""

    model_config = _examples(
        {
            "business_id": "biz_4f2c91",
            "source": "model:cashflow@2026.11.2",
            "weeks": [
                {"week_start": "2026-03-02", "before": 0.03, "after": 0.01, "change": -0.02},
                {"week_start": "2026-03-09", "before": 0.62, "after": 0.09, "change": -0.53},
            ],
            "gap_week_before": _WEEK_RISK,
            "gap_week_after": _WEEK_LATER,
            "chart": _CHART,
        }
    )

    business_id: str
    source: str
    weeks: list[WeekChangeOut]
    gap_week_before: WeekRiskOut | None
    gap_week_after: WeekRiskOut | None
    chart: list[ChartPointOut]


class RecategorizeIn(BaseModel):
    model_config = _examples({"category": "opex.software_subscriptions"})

    category: IdText = Field(description="a taxonomy leaf code (GET /v1/taxonomy)")


class CategoryAssignment(BaseModel):
    transaction_id: str
    category: str = Field(description="taxonomy leaf code; empty when the model abstained")
    label: str
    confidence: Probability
    source: str
    reasons: list[str]


class RecategorizeOut(BaseModel):
    model_config = _examples(
        {
            "transaction": _ASSIGNMENT,
            "followed": [{**_ASSIGNMENT, "transaction_id": "tx_2c8d5e9a0b17"}],
            "correction_id": "cor_5a1e8b3c9d2f",
            "training_example": True,
        }
    )

    transaction: CategoryAssignment
    followed: list[CategoryAssignment] = Field(
        description="other lines that moved to the same category with this correction"
    )
    correction_id: str
    training_example: bool


class CategoryList(BaseModel):
    model_config = _examples(
        {
            "items": [
                {
                    "transaction_id": "tx_7f3a9c2e41d0",
                    "category": "opex.meals_entertainment",
                    "label": "Meals and entertainment",
                    "confidence": 0.91,
                    "source": "model:categorizer@2026.10.3",
                    "reasons": ["merchant category 5812 (restaurants)"],
                }
            ]
        }
    )

    items: list[CategoryAssignment]


class TaxonomyLeafOut(BaseModel):
    code: str
    label: str
    group: str


class TaxonomyOut(BaseModel):
    model_config = _examples(
        {
            "version": "2026.12.1",
            "leaves": [
                {"code": "income.sales", "label": "Sales", "group": "income"},
                {
                    "code": "opex.software_subscriptions",
                    "label": "Software subscriptions",
                    "group": "opex",
                },
            ],
        }
    )

    version: str
    leaves: list[TaxonomyLeafOut]


class AnomalyOut(BaseModel):
    model_config = _examples(_ANOMALY)

    transaction_id: str
    booking_date: date
    amount: str
    currency: str
    description: str
    counterparty_name: str
    score: Probability
    kind: str
    reasons: list[str]
    source: str
    confidence: Probability
    evidence: dict[str, str]


class AnomalyList(BaseModel):
    model_config = _examples({"items": [_ANOMALY], "transactions": 412, "max_alerts": 5})

    items: list[AnomalyOut]
    transactions: int = Field(description="lines scored")
    max_alerts: int


class ExpectedOut(BaseModel):
    model_config = _examples({"transaction_id": "tx_91c4e0a7b2f3", "stored": True})

    transaction_id: str
    stored: bool = Field(description="false when the same feedback was already stored")
