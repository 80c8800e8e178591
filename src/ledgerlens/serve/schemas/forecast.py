"""Forecast, what-if, anomaly and category payloads (amounts as decimal strings, never floats).

Probabilities and confidences are floats in [0, 1]; every automated result names its ``source``
(``model:cashflow@…``, ``rule:…``) and carries its evidence, so the app can say why.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal

from pydantic import BaseModel, Field

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


class WeekRiskOut(BaseModel):
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
    actions: list[WhatIfAction] = Field(min_length=1, max_length=5)


class WeekChangeOut(BaseModel):
    week_start: date
    before: Probability
    after: Probability
    change: float = Field(ge=-1.0, le=1.0)


class WhatIfOut(BaseModel):
    """Each week's shortfall probability before and after the actions (same random draws)."""

    business_id: str
    source: str
    weeks: list[WeekChangeOut]
    gap_week_before: WeekRiskOut | None
    gap_week_after: WeekRiskOut | None
    chart: list[ChartPointOut]


class RecategorizeIn(BaseModel):
    category: IdText = Field(description="a taxonomy leaf code (GET /v1/taxonomy)")


class CategoryAssignment(BaseModel):
    transaction_id: str
    category: str = Field(description="taxonomy leaf code; empty when the model abstained")
    label: str
    confidence: Probability
    source: str
    reasons: list[str]


class RecategorizeOut(BaseModel):
    transaction: CategoryAssignment
    followed: list[CategoryAssignment] = Field(
        description="other lines that moved to the same category with this correction"
    )
    correction_id: str
    training_example: bool


class CategoryList(BaseModel):
    items: list[CategoryAssignment]


class TaxonomyLeafOut(BaseModel):
    code: str
    label: str
    group: str


class TaxonomyOut(BaseModel):
    version: str
    leaves: list[TaxonomyLeafOut]


class AnomalyOut(BaseModel):
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
    items: list[AnomalyOut]
    transactions: int = Field(description="lines scored")
    max_alerts: int


class ExpectedOut(BaseModel):
    transaction_id: str
    stored: bool = Field(description="false when the same feedback was already stored")
