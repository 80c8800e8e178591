"""The synthetic world as forecast backtest cases: inputs at an origin and what really happened.

Two ways to build a business's known items, reported side by side because they answer
different questions:

- ``truth``: the world's own ``future_items.csv`` at the history end (open invoices and the
  scheduled payments of every recurring series, the large agreed payment behind a foreseeable
  gap included) and, at earlier origins, the truth series' next occurrences; recurring lines
  are identified by the truth ``recurring_series_id``. This measures the forecaster given
  perfect enrichment.
- ``enriched``: what LedgerLens itself derives from the canonical CSV alone — recurring series
  from ``enrich.recurring.detect_recurring``; no open invoices (the CSV has none). This is what
  a bank gets today.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import numpy as np

from ledgerlens.analyze.cashflow.inputs import build_input, pick_operating
from ledgerlens.analyze.cashflow.known_items import (
    OpenInvoice,
    ScheduledPayment,
    estimate_customer_delays,
    invoice_items,
    invoice_run_rates,
    scheduled_items,
    series_items,
)
from ledgerlens.analyze.cashflow.model import ForecastInput
from ledgerlens.core.money import currency_exponent, to_minor
from ledgerlens.ml.synth_data import BusinessData, iter_business_data

__all__ = ["BacktestCase", "fx_to_base", "iter_cases", "load_world_truth"]


@dataclass(frozen=True, slots=True)
class WorldTruth:
    daily: dict[str, dict[str, dict[date, int]]]  # business → account → day → balance
    future_items: dict[str, list[dict[str, str]]]
    weekly: dict[str, list[tuple[date, bool, int]]]  # business → (week_start, shortfall, min)
    history_end: date
    gap_kind: dict[str, str]  # business → "foreseeable" | "unforeseeable" | "none"


@dataclass(frozen=True, slots=True)
class BacktestCase:
    """One business at one origin: the input, the truth balances after it, the truth weeks."""

    business_id: str
    split: str
    archetype: str
    origin: date
    inp: ForecastInput
    actual_consolidated: np.ndarray  # (H,) base-currency minor, truth
    history_consolidated: np.ndarray  # (T,) base-currency minor up to the origin
    weeks_truth: tuple[tuple[date, bool], ...]  # only at the history end
    gap_kind: str = ""


def load_world_truth(world_dir: Path) -> WorldTruth:
    truth = Path(world_dir) / "truth"
    daily: dict[str, dict[str, dict[date, int]]] = {}
    ccy: dict[str, str] = {}
    with (Path(world_dir) / "accounts.csv").open(encoding="utf-8", newline="") as fh:
        for row in csv.DictReader(fh):
            ccy[row["account_id"]] = row["currency"]
    with (truth / "daily_balances.csv").open(encoding="utf-8", newline="") as fh:
        for row in csv.DictReader(fh):
            acc = daily.setdefault(row["business_id"], {}).setdefault(row["account_id"], {})
            acc[date.fromisoformat(row["date"])] = to_minor(row["balance"], ccy[row["account_id"]])
    items: dict[str, list[dict[str, str]]] = {}
    with (truth / "future_items.csv").open(encoding="utf-8", newline="") as fh:
        for row in csv.DictReader(fh):
            items.setdefault(row["business_id"], []).append(row)
    weekly: dict[str, list[tuple[date, bool, int]]] = {}
    with (truth / "weekly_shortfall.csv").open(encoding="utf-8", newline="") as fh:
        for row in csv.DictReader(fh):
            weekly.setdefault(row["business_id"], []).append(
                (date.fromisoformat(row["week_start"]), row["shortfall"] == "1", 0)
            )
    gap: dict[str, str] = {}
    with (truth / "businesses_truth.csv").open(encoding="utf-8", newline="") as fh:
        for row in csv.DictReader(fh):
            kind = "foreseeable" if row["gap_foreseeable"] == "1" else "unforeseeable"
            gap[row["business_id"]] = kind if row["cash_gap"] == "1" else "none"
    manifest = json.loads((truth / "manifest.json").read_text(encoding="utf-8"))
    return WorldTruth(daily, items, weekly, date.fromisoformat(manifest["history_end"]), gap)


_RATES: dict[tuple[str, str, date], float] = {}


def fx_to_base(currencies: set[str], base: str, on: date) -> dict[str, float]:
    """Minor-unit conversion factors into the base currency (ECB rate of ``on`` or before)."""
    out: dict[str, float] = {}
    for c in currencies:
        if c == base:
            out[c] = 1.0
            continue
        key = (c, base, on)
        if key not in _RATES:
            found = _ecb().rate(c, base, on)
            scale = 10.0 ** (currency_exponent(base) - currency_exponent(c))
            _RATES[key] = (found[0] if found else 1.0) * scale
        out[c] = _RATES[key]
    return out


_ECB: list[object] = []


def _ecb():  # type: ignore[no-untyped-def]
    from ledgerlens.enrich.transfers import EcbRates

    if not _ECB:
        _ECB.append(EcbRates.load())
    return _ECB[0]


def _truth_items(data: BusinessData, truth: WorldTruth, origin: date, horizon: int):  # type: ignore[no-untyped-def]
    """Known items and explained lines from the world's truth at ``origin``."""
    explained = set(data.truth.recurring_series)
    end = origin + timedelta(days=horizon)
    if origin == truth.history_end:
        sched, invoices = [], []
        for row in truth.future_items.get(data.business_id, []):
            amount = to_minor(row["amount"], row["currency"])
            due = date.fromisoformat(row["due_date"])
            if row["kind"] == "open_invoice":
                invoices.append(
                    OpenInvoice(
                        row["account_id"], row["counterparty_name"], due, amount, row["reference"]
                    )
                )
            else:
                sched.append(
                    ScheduledPayment(
                        row["account_id"],
                        due,
                        amount,
                        row["counterparty_name"],
                        row["category"],
                        row["counterparty_name"],
                    )
                )
    else:  # earlier origin: the truth series' real next occurrences; invoices unknown
        sched = [
            ScheduledPayment(
                t.account_id,
                t.booking_date,
                t.amount_minor,
                t.counterparty_name,
                data.truth.category.get(t.transaction_id, ""),
                t.counterparty_name,
            )
            for t in data.transactions
            if t.transaction_id in explained and origin < t.booking_date <= end
        ]
        invoices = []
    delays = estimate_customer_delays((), invoices, origin)
    items = scheduled_items(sched, origin) + invoice_items(invoices, origin, delays)
    customers = {i.customer for i in invoices}
    rates, inv_lines = invoice_run_rates(data.transactions, customers, items, origin)
    return items, explained | inv_lines, rates


def _enriched_items(data: BusinessData, origin: date, horizon: int):  # type: ignore[no-untyped-def]
    from ledgerlens.enrich.recurring import detect_recurring

    hist = [t for t in data.transactions if t.booking_date <= origin]
    series = detect_recurring(hist, as_of=origin, country=data.country)
    items, explained = series_items(series, origin, horizon)
    return items, explained, {}


def iter_cases(
    world_dir: Path,
    *,
    origins_back_days: tuple[int, ...] = (0, 28, 56, 84),
    horizon_days: int = 91,
    mode: str = "truth",
    splits: tuple[str, ...] = ("train", "validation", "test"),
    truth: WorldTruth | None = None,
) -> Iterator[BacktestCase]:
    """Backtest cases for every business (in the given splits) and every origin."""
    truth = truth or load_world_truth(world_dir)
    for data in iter_business_data(world_dir):
        if data.split not in splits:
            continue
        bal = truth.daily[data.business_id]
        for back in origins_back_days:
            origin = truth.history_end - timedelta(days=back)
            if mode == "truth":
                items, explained, rates = _truth_items(data, truth, origin, horizon_days)
            else:
                items, explained, rates = _enriched_items(data, origin, horizon_days)
            visible = [t for t in data.transactions if t.booking_date <= origin]
            currencies = {a.currency for a in data.accounts}
            fx = fx_to_base(currencies, data.base_currency, origin)
            inp = build_input(
                data.business_id,
                data.base_currency,
                data.accounts,
                visible,
                origin,
                items=items,
                explained_ids=explained,
                run_rates=rates,
                fx_to_base=fx,
                horizon_days=horizon_days,
                operating_account_id=pick_operating(data.accounts, data.base_currency),
                history_source=mode,
            )
            days = [origin + timedelta(days=h) for h in range(1, horizon_days + 1)]
            start = inp.accounts[0].start
            hdays = [start + timedelta(days=i) for i in range((origin - start).days + 1)]
            actual = np.zeros(horizon_days)
            hist = np.zeros(len(hdays))
            for a in data.accounts:
                series = bal[a.account_id]
                f = fx[a.currency]
                actual += f * np.array([series.get(d, np.nan) for d in days], dtype=float)
                hist += f * np.array([series.get(d, np.nan) for d in hdays], dtype=float)
            weeks: tuple[tuple[date, bool], ...] = ()
            if back == 0:
                weeks = tuple((w, s) for w, s, _ in truth.weekly.get(data.business_id, []))
            yield BacktestCase(
                data.business_id,
                data.split,
                data.archetype,
                origin,
                inp,
                actual,
                hist,
                weeks,
                truth.gap_kind.get(data.business_id, ""),
            )
