"""Typed inputs and outputs of the cash-flow forecast.

Money stays integer minor units at the edges (opening balances, known items, every output band),
because a forecast is shown next to real balances and must add up to the cent; the simulation in
``kernels`` works in float minor units and rounds once, when the result is built.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import date
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import numpy as np

__all__ = [
    "FORECAST_VERSION",
    "SOURCE",
    "AccountForecast",
    "AccountSeries",
    "DailyBand",
    "Driver",
    "Forecast",
    "ForecastInput",
    "ItemKind",
    "KnownItem",
    "WeekRisk",
]

FORECAST_VERSION = "2026.12.4"
SOURCE = f"model:cashflow@{FORECAST_VERSION}"


class ItemKind(enum.StrEnum):
    """Where a dated expected item comes from (the explanation names it)."""

    RECURRING = "recurring"  # a detected recurring series' next occurrences
    SCHEDULED = "scheduled"  # a payment the business or bank already knows about
    INVOICE = "invoice"  # an open invoice, shifted by its customer's payment delay
    TAX = "tax"  # a tax obligation with a known due date
    TRANSFER = "transfer"  # a scheduled move between own accounts (both legs)
    FINANCING = "financing"  # a drawdown on a financing line
    ONE_OFF = "one_off"  # added by hand in a what-if


@dataclass(frozen=True, slots=True)
class KnownItem:
    """One dated expected movement on one account (negative = money out).

    ``probability`` is the chance it happens inside the horizon at all (a late payer's invoice may
    not); ``jitter_days`` how many days either side it may land; ``amount_sd_minor`` how much its
    amount varies (a utility bill, not a rent).
    """

    item_id: str
    account_id: str
    due_date: date
    amount_minor: int
    kind: ItemKind
    label: str = ""
    category: str = ""
    counterparty: str = ""
    probability: float = 1.0
    jitter_days: int = 0
    amount_sd_minor: int = 0
    source: str = ""


@dataclass(frozen=True, slots=True)
class AccountSeries:
    """What the residual model learns from for one account.

    ``residual_minor[i]`` is the net flow on ``start + i`` days that no known item explains
    (recurring-series lines and invoice payments removed, because those are projected as items);
    ``opening_minor`` is the latest known balance, at the end of ``as_of``.
    ``fx_to_base`` converts the account currency into the business's base currency (1.0 when
    equal); ``operating`` marks the account(s) whose balance decides a shortfall.
    """

    account_id: str
    currency: str
    start: date
    residual_minor: np.ndarray  # 1-D float, one value per day from ``start`` to the origin
    opening_minor: int
    fx_to_base: float = 1.0
    operating: bool = False
    # (first horizon day, minor per day, customer): new invoices after the open ones
    run_rate_items: tuple[tuple[int, float, str], ...] = ()


@dataclass(frozen=True, slots=True)
class ForecastInput:
    """Everything one business's forecast needs; built by ``inputs.build_input`` or by hand."""

    business_id: str
    base_currency: str
    as_of: date
    accounts: tuple[AccountSeries, ...]
    items: tuple[KnownItem, ...] = ()
    buffer_minor: int = 0
    horizon_days: int = 91
    history_source: str = "transactions"


@dataclass(frozen=True, slots=True)
class DailyBand:
    """p10/p50/p90 end-of-day balance (integer minor units) on one day."""

    day: date
    p10_minor: int
    p50_minor: int
    p90_minor: int


@dataclass(frozen=True, slots=True)
class WeekRisk:
    """The chance the operating balance dips below the buffer in one week, and how deep."""

    week_start: date
    week_end: date
    shortfall_probability: float  # calibrated
    raw_probability: float  # share of simulated paths, before calibration
    expected_min_balance_minor: int
    expected_min_day: date
    confidence: float = 0.0
    source: str = SOURCE


@dataclass(frozen=True, slots=True)
class Driver:
    """One reason the balance falls: an item, a missing inflow, or a seasonal pattern."""

    kind: str  # "outflow" | "missing_inflow" | "seasonal" | "trend" | "run_rate"
    label: str
    amount_minor: int  # signed effect on the balance by the gap day (negative = lowers it)
    due_date: date | None = None
    item_id: str = ""
    evidence: dict[str, str | int | float] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class AccountForecast:
    account_id: str
    currency: str
    bands: tuple[DailyBand, ...]


@dataclass(frozen=True, slots=True)
class Forecast:
    """A business's forecast: consolidated (base currency) and per account, plus weekly risk.

    ``paths_operating`` can keep the simulated operating-balance paths (float minor, shape
    ``(n_paths, horizon)``) for callers that need path properties beyond the weekly risk.
    """

    business_id: str
    base_currency: str
    as_of: date
    horizon_days: int
    consolidated: tuple[DailyBand, ...]
    accounts: tuple[AccountForecast, ...]
    weeks: tuple[WeekRisk, ...]
    inflow_mean_minor: tuple[int, ...]  # expected consolidated inflows per day
    outflow_mean_minor: tuple[int, ...]  # expected consolidated outflows per day (≤ 0)
    history_days: int
    source: str = SOURCE
    evidence: dict[str, str | int | float] = field(default_factory=dict)
    paths_operating: np.ndarray | None = None  # only with ``forecast(..., keep_paths=True)``
    mean_operating: np.ndarray | None = None  # expected operating balance per day (float minor)
