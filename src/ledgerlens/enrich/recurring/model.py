"""What recurring-series detection returns: a series with its cadence, next date and amounts."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import date

__all__ = ["RECURRING_VERSION", "SOURCE", "Cadence", "PriceChange", "RecurringSeries"]

RECURRING_VERSION = "2026.12.1"
SOURCE = f"rule:recurring@{RECURRING_VERSION}"


class Cadence(enum.StrEnum):
    WEEKLY = "weekly"
    BIWEEKLY = "biweekly"
    FOUR_WEEKLY = "four_weekly"
    MONTHLY = "monthly"
    QUARTERLY = "quarterly"
    SEMIANNUAL = "semiannual"
    YEARLY = "yearly"


@dataclass(frozen=True, slots=True)
class PriceChange:
    """A step in a series' amount (a subscription that got dearer): from the line that first
    charged the new amount on."""

    effective_date: date
    transaction_id: str
    old_amount_minor: int  # signed like the lines (negative = money out)
    new_amount_minor: int
    change_pct: float


@dataclass(frozen=True, slots=True)
class RecurringSeries:
    """Payments to (or from) one counterparty that repeat on a cadence.

    Amounts are signed minor units in ``currency`` (negative = money out). ``amount_low_minor``
    and ``amount_high_minor`` are the p10 and p90 of the recent amounts (since the last price
    change), so the band is ordered by signed value. ``active`` is False when the next expected
    occurrence was missed by more than half a period at ``as_of`` (a lapsed contract).
    """

    series_id: str
    account_id: str
    counterparty: str
    direction: str  # "outflow" | "inflow"
    cadence: Cadence
    period_days: float
    member_ids: tuple[str, ...]
    first_date: date
    last_date: date
    next_date: date
    expected_amount_minor: int
    amount_low_minor: int
    amount_high_minor: int
    currency: str
    active: bool
    confidence: float
    price_changes: tuple[PriceChange, ...] = ()
    evidence: dict[str, str | int | float] = field(default_factory=dict)
    source: str = SOURCE
