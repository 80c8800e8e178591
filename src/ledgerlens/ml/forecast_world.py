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

Origins: some weeks *before* the history end (``origins_back_days``: the balance forecast's
MASE and coverage) and, for the weekly shortfall, the history end and weekly origins *into*
the hidden 13 weeks (``origins_ahead_days``) — the forecast runs again every week as new lines
arrive, as it does in production. An origin ahead sees the hidden lines up to that day (never
after); its weeks are the truth weeks that start after it, so weeks 2–8 ahead of an origin
five weeks in are the truth's weeks 7–13. An unforeseeable gap (the biggest customer stops
paying, demand drops, a surprise bill) cannot be seen before its causes begin; the weeks after
that are scored as foreseeable, an upper bound on what the data shows by then.
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
from ledgerlens.core.ledger import Transaction
from ledgerlens.core.money import currency_exponent, to_minor
from ledgerlens.ml.synth_data import BusinessData, iter_business_data, load_future, with_future

__all__ = [
    "SHORTFALL_ORIGINS_AHEAD",
    "BacktestCase",
    "fx_to_base",
    "gap_kind_at",
    "iter_cases",
    "load_world_truth",
    "unpaid_invoices",
]

# weekly origins into the hidden future at which the shortfall is scored (weeks 2–8 ahead of
# the last one, day 35, still end inside the 13 truth weeks)
SHORTFALL_ORIGINS_AHEAD: tuple[int, ...] = (7, 14, 21, 28, 35)


@dataclass(frozen=True, slots=True)
class WorldTruth:
    daily: dict[str, dict[str, dict[date, int]]]  # business → account → day → balance
    future_items: dict[str, list[dict[str, str]]]
    weekly: dict[str, list[tuple[date, bool, int]]]  # business → (week_start, shortfall, min)
    history_end: date
    gap_kind: dict[str, str]  # business → "foreseeable" | "unforeseeable" | "none"
    causes_begin: dict[str, date]  # unforeseeable gaps: the day the last unannounced cause begins


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
    causes: dict[str, date] = {}
    with (truth / "businesses_truth.csv").open(encoding="utf-8", newline="") as fh:
        for row in csv.DictReader(fh):
            kind = "foreseeable" if row["gap_foreseeable"] == "1" else "unforeseeable"
            gap[row["business_id"]] = kind if row["cash_gap"] == "1" else "none"
            if kind == "unforeseeable" and row.get("gap_causes_begin"):
                causes[row["business_id"]] = date.fromisoformat(row["gap_causes_begin"])
    manifest = json.loads((truth / "manifest.json").read_text(encoding="utf-8"))
    end = date.fromisoformat(manifest["history_end"])
    return WorldTruth(daily, items, weekly, end, gap, causes)


def gap_kind_at(truth: WorldTruth, business_id: str, origin: date) -> str:
    """Whether a business's gap could be seen at ``origin``. An unforeseeable gap has
    unannounced causes (the biggest customer stops paying at the history end, demand drops,
    perhaps a surprise bill); once the last of them has begun it counts as foreseeable — an
    upper bound, since a demand drop takes weeks to show in the data."""
    kind = truth.gap_kind.get(business_id, "")
    hit = truth.causes_begin.get(business_id)
    if kind == "unforeseeable" and hit is not None and hit <= origin:
        return "foreseeable"
    return kind


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


def unpaid_invoices(rows: list[dict[str, str]], visible: list[Transaction]) -> list[OpenInvoice]:
    """The history end's open invoices (``future_items.csv`` rows) that no visible receipt has
    paid yet — matched by the invoice number quoted in the description or bank reference, as a
    bank reconciles them."""
    quoted = " ".join(f"{t.description} {t.bank_reference}" for t in visible if t.amount_minor > 0)
    return [
        OpenInvoice(
            r["account_id"],
            r["counterparty_name"],
            date.fromisoformat(r["due_date"]),
            to_minor(r["amount"], r["currency"]),
            r["reference"],
        )
        for r in rows
        if r["kind"] == "open_invoice" and not (r["reference"] and r["reference"] in quoted)
    ]


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
    else:  # other origins: the truth series' real next occurrences
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
        if origin > truth.history_end:  # what the bank knew then and is still unpaid
            visible = [t for t in data.transactions if t.booking_date <= origin]
            rows = truth.future_items.get(data.business_id, [])
            invoices = unpaid_invoices(rows, visible)
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
    origins_ahead_days: tuple[int, ...] = (),
    horizon_days: int = 91,
    mode: str = "truth",
    splits: tuple[str, ...] = ("train", "validation", "test"),
    truth: WorldTruth | None = None,
) -> Iterator[BacktestCase]:
    """Backtest cases for every business (in the given splits) and every origin."""
    truth = truth or load_world_truth(world_dir)
    if any(d <= 0 or d % 7 for d in origins_ahead_days):
        raise ValueError("origins ahead of the history end must be whole weeks after it")
    future = load_future(world_dir)
    offsets = [-b for b in origins_back_days] + [d for d in origins_ahead_days]
    for data in iter_business_data(world_dir):
        if data.split not in splits:
            continue
        data = with_future(data, future.get(data.business_id))
        bal = truth.daily[data.business_id]
        for offset in offsets:
            origin = truth.history_end + timedelta(days=offset)
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
            if offset >= 0:  # the truth weeks that start after the origin
                weeks = tuple(
                    (w, s) for w, s, _ in truth.weekly.get(data.business_id, []) if w > origin
                )
            yield BacktestCase(
                data.business_id,
                data.split,
                data.archetype,
                origin,
                inp,
                actual,
                hist,
                weeks,
                gap_kind_at(truth, data.business_id, origin),
            )
