"""The forecast and what-if as the app shows them: load one business, forecast, explain, chart.

Routes stay thin: they authorize and translate; this module reads the business from storage
(blocking: call it in the thread pool) and runs the pure cash-flow kernels. A forecast is
recomputed per request (tens of milliseconds for 18 months of lines) and kept in a small
per-app cache keyed by the ledger's shape (line count, last booking day) and by the business's
open known items (a digest of their content: registering, changing, settling or cancelling an
invoice or a scheduled payment is a new forecast), so a home screen and a what-if preview right
after it simulate once.

Known items (``scope.known_items``: open invoices, scheduled payments from the bank's systems)
enter as ``business_input(scheduled=, invoices=)`` through ``known_items.stored_items``: an
overdue invoice still counts (later and less sure), a scheduled payment due on or before the
as-of day is dropped.
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date

from ledgerlens.analyze.cashflow import (
    Forecast,
    ForecastInput,
    GapExplanation,
    Scenario,
    WeekRisk,
    WhatIf,
    explain_gap,
    forecast,
    what_if,
)
from ledgerlens.core.errors import NotFound
from ledgerlens.core.ledger import Account
from ledgerlens.core.ports import KnownItemRecord, UnitOfWork

__all__ = [
    "GAP_THRESHOLD",
    "BusinessForecast",
    "CacheKey",
    "ForecastCache",
    "gap_week",
    "items_digest",
    "load_forecast",
    "run_what_if",
]

#: A week is "the shortfall week" the app highlights when its calibrated risk reaches this.
GAP_THRESHOLD = 0.25


@dataclass(frozen=True, slots=True)
class BusinessForecast:
    """One business's forecast with what the app needs beside it."""

    inp: ForecastInput
    fc: Forecast
    accounts: tuple[Account, ...]
    gap: WeekRisk | None
    explanation: GapExplanation | None


def gap_week(fc: Forecast, threshold: float = GAP_THRESHOLD) -> WeekRisk | None:
    """The first week whose shortfall probability reaches ``threshold`` (None: no gap)."""
    return next((w for w in fc.weeks if w.shortfall_probability >= threshold), None)


#: (business, line count, last booking day, digest of the open known items)
CacheKey = tuple[str, int, date, str]


def items_digest(items: Sequence[KnownItemRecord]) -> str:
    """A digest of the open known items' content (order-free): part of the cache key."""
    h = hashlib.sha256()
    for it in sorted(items, key=lambda i: i.item_id):
        fields = (it.item_id, it.kind, it.account_id, it.due_date.isoformat(),
                  str(it.amount_minor), it.currency, it.counterparty, it.reference, it.label,
                  it.status)  # fmt: skip
        h.update("\x1f".join(fields).encode("utf-8", "surrogatepass") + b"\x1e")
    return f"{len(items)}:{h.hexdigest()[:32]}"


class ForecastCache:
    """A tiny LRU of forecasts keyed by ``CacheKey``."""

    def __init__(self, size: int = 64) -> None:
        self._size = size
        self._items: OrderedDict[CacheKey, BusinessForecast] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: CacheKey) -> BusinessForecast | None:
        with self._lock:
            hit = self._items.get(key)
            if hit is not None:
                self._items.move_to_end(key)
            return hit

    def put(self, key: CacheKey, value: BusinessForecast) -> None:
        with self._lock:
            self._items[key] = value
            self._items.move_to_end(key)
            while len(self._items) > self._size:
                self._items.popitem(last=False)


def load_forecast(
    read_uow: Callable[[], UnitOfWork],
    business_id: str,
    cache: ForecastCache | None = None,
    horizon_days: int = 91,
) -> BusinessForecast:
    """Forecast the business from its stored ledger and its open known items; ``NotFound``
    without business or lines."""
    from ledgerlens.analyze.cashflow.known_items import stored_items
    from ledgerlens.ml.forecast_csv import CsvBusiness, business_input

    with read_uow() as uow:
        business = uow.businesses.get(business_id)
        if business is None:
            raise NotFound("no such business")
        scope = uow.scope(business_id)
        accounts = tuple(scope.accounts.list())
        txs = tuple(scope.transactions.iter_all())
        statements = tuple(scope.statements.list())
        known = scope.known_items.list(status="open")
    if not txs or not accounts:
        raise NotFound("no transactions to forecast from yet")
    as_of = max(t.booking_date for t in txs)
    key = (business_id, len(txs), as_of, items_digest(known))
    hit = cache.get(key) if cache is not None else None
    if hit is not None:
        return hit
    src = CsvBusiness(business_id, business.base_currency, accounts, txs, statements)
    scheduled, invoices = stored_items(known, as_of, txs)
    inp = business_input(
        src,
        as_of,
        horizon_days=horizon_days,
        country=business.country,
        scheduled=scheduled,
        invoices=invoices,
        stored=True,
    )
    fc = forecast(inp)
    gap = gap_week(fc)
    explanation = explain_gap(inp, fc, week=gap) if gap is not None else None
    out = BusinessForecast(inp, fc, accounts, gap, explanation)
    if cache is not None:
        cache.put(key, out)
    return out


def run_what_if(base: BusinessForecast, scenarios: Sequence[Scenario]) -> WhatIf:
    """Re-forecast under the scenarios with the same random draws (``KeyError``: unknown ids)."""
    return what_if(base.inp, scenarios, base=base.fc)
