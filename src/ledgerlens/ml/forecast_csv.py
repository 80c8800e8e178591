"""Batch forecasting without a database: canonical CSV in, forecast and weekly risk CSV out.

Known items come from LedgerLens's own enrichment (``detect_recurring`` on each business's
lines) and, optionally, from an items file in the synthetic world's ``future_items.csv`` layout
(open invoices and scheduled payments a bank or an accounting system knows about). The same
loader feeds the CSV backtest: rolling origins inside the file, judged on its own
``balance_after`` history.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import numpy as np

from ledgerlens.analyze.cashflow.inputs import build_input
from ledgerlens.analyze.cashflow.known_items import (
    OpenInvoice,
    ScheduledPayment,
    estimate_customer_delays,
    invoice_items,
    invoice_run_rates,
    scheduled_items,
    series_items,
    without_covered,
)
from ledgerlens.analyze.cashflow.model import Forecast, ForecastInput
from ledgerlens.core.ledger import Account, Statement, Transaction
from ledgerlens.core.money import format_minor, to_minor
from ledgerlens.ml.forecast_world import BacktestCase, fx_to_base

__all__ = [
    "CsvBusiness",
    "ForecastCsvWriter",
    "backtest_cases",
    "business_input",
    "load_canonical",
    "read_items",
]


@dataclass(frozen=True, slots=True)
class CsvBusiness:
    business_id: str
    base_currency: str
    accounts: tuple[Account, ...]
    transactions: tuple[Transaction, ...]
    statements: tuple[Statement, ...] = ()  # closing balances when lines carry none


def load_canonical(path: Path) -> list[CsvBusiness]:
    """Businesses of a canonical CSV; base currency = the currency with the most lines."""
    from ledgerlens.ingest.formats.canonical_csv import read_canonical_transactions

    accounts: dict[str, dict[str, Account]] = {}
    txs: dict[str, list[Transaction]] = {}
    for t in read_canonical_transactions(path):
        accounts.setdefault(t.business_id, {}).setdefault(
            t.account_id, Account(t.account_id, t.business_id, t.account_id, t.currency)
        )
        txs.setdefault(t.business_id, []).append(t)
    out = []
    for bid in sorted(txs):
        counts: dict[str, int] = {}
        for t in txs[bid]:
            counts[t.currency] = counts.get(t.currency, 0) + 1
        base = max(sorted(counts), key=lambda c: counts[c])
        out.append(CsvBusiness(bid, base, tuple(accounts[bid].values()), tuple(txs[bid])))
    return out


def read_items(path: Path) -> dict[str, tuple[list[ScheduledPayment], list[OpenInvoice]]]:
    """An items file (``future_items.csv`` layout) → scheduled payments and open invoices."""
    out: dict[str, tuple[list[ScheduledPayment], list[OpenInvoice]]] = {}
    with Path(path).open(encoding="utf-8", newline="") as fh:
        for row in csv.DictReader(fh):
            sched, inv = out.setdefault(row["business_id"], ([], []))
            amount = to_minor(row["amount"], row["currency"])
            due = date.fromisoformat(row["due_date"])
            if row["kind"] == "open_invoice":
                inv.append(
                    OpenInvoice(
                        row["account_id"],
                        row["counterparty_name"],
                        due,
                        amount,
                        row.get("reference", ""),
                    )
                )
            else:
                sched.append(
                    ScheduledPayment(
                        row["account_id"],
                        due,
                        amount,
                        row["counterparty_name"],
                        row.get("category", ""),
                        row["counterparty_name"],
                    )
                )
    return out


def _main_current(b: CsvBusiness) -> str:
    """The busiest current account in the base currency (a CSV says nothing about types, so
    every account counts as current there)."""
    current = {a.account_id for a in b.accounts if str(a.account_type) == "current"}
    counts: dict[str, int] = {}
    for t in b.transactions:
        if t.currency == b.base_currency and (not current or t.account_id in current):
            counts[t.account_id] = counts.get(t.account_id, 0) + 1
    return max(sorted(counts), key=lambda a: counts[a]) if counts else b.accounts[0].account_id


def business_input(
    b: CsvBusiness,
    as_of: date | None = None,
    horizon_days: int = 91,
    *,
    country: str = "",
    scheduled: Sequence[ScheduledPayment] = (),
    invoices: Sequence[OpenInvoice] = (),
    buffer_minor: int = 0,
    stored: bool = False,
) -> ForecastInput:
    """Enrichment (recurring series) + given items → the forecast input at ``as_of``.

    ``stored``: ``scheduled`` are items a bank's system registered (``known_items`` store):
    each replaces only the recurring occurrence it stands for (``without_covered``). Without
    it (backtests, where they are the world's agreed payments) a scheduled payment replaces
    its payee's whole detected series and that series' past lines."""
    from ledgerlens.enrich.recurring import detect_recurring

    as_of = as_of or max(t.booking_date for t in b.transactions)
    hist = [t for t in b.transactions if t.booking_date <= as_of]
    series = detect_recurring(hist, as_of=as_of, country=country)
    # a payment the caller already scheduled replaces its detected series and its past lines
    told = {(p.account_id, p.counterparty.casefold()) for p in scheduled if p.counterparty}
    if stored:
        told = set()
    told_lines = {
        t.transaction_id
        for t in hist
        if t.amount_minor < 0 and (t.account_id, t.counterparty_name.casefold()) in told
    }
    series = [
        s
        for s in series
        if not (set(s.member_ids) & told_lines)
        and (s.account_id, s.counterparty.casefold()) not in told
    ]
    items, explained = series_items(series, as_of, horizon_days)
    if stored:
        items = without_covered(items, scheduled)
    explained |= told_lines
    items += scheduled_items(scheduled, as_of)
    items += invoice_items(invoices, as_of, estimate_customer_delays((), invoices, as_of))
    rates, inv_lines = invoice_run_rates(hist, {i.customer for i in invoices}, items, as_of)
    fx = fx_to_base({a.currency for a in b.accounts}, b.base_currency, as_of)
    return build_input(
        b.business_id,
        b.base_currency,
        b.accounts,
        hist,
        as_of,
        items=items,
        explained_ids=explained | inv_lines,
        statements=b.statements,
        run_rates=rates,
        fx_to_base=fx,
        buffer_minor=buffer_minor,
        horizon_days=horizon_days,
        operating_account_id=_main_current(b),
        history_source="enriched",
    )


def _daily_balances(b: CsvBusiness, first: date, last: date) -> dict[str, np.ndarray]:
    """End-of-day balance per account from ``balance_after`` (carried over quiet days)."""
    n = (last - first).days + 1
    out: dict[str, np.ndarray] = {}
    for a in b.accounts:
        rows = [t for t in b.transactions if t.account_id == a.account_id]
        arr = np.full(n, np.nan)
        if rows and rows[0].balance_after_minor is not None:
            prev = rows[0].balance_after_minor - rows[0].amount_minor
            for t in rows:
                i = (t.booking_date - first).days
                if 0 <= i < n and t.balance_after_minor is not None:
                    arr[i] = t.balance_after_minor
            # carry the last balance over days without lines
            cur = prev
            for i in range(n):
                if np.isnan(arr[i]):
                    arr[i] = cur
                cur = arr[i]
        out[a.account_id] = arr
    return out


def backtest_cases(
    businesses: Iterable[CsvBusiness],
    horizon_days: int = 28,
    origins: int = 4,
    step_days: int = 28,
) -> Iterator[BacktestCase]:
    """Rolling origins inside the file: the last ``origins`` origins that leave ``horizon_days``
    of real balances to judge against; weeks are scored on the operating account."""
    for b in businesses:
        first = min(t.booking_date for t in b.transactions)
        last = max(t.booking_date for t in b.transactions)
        daily = _daily_balances(b, first, last)
        for k in range(origins):
            origin = last - timedelta(days=horizon_days + k * step_days)
            if (origin - first).days < 56:
                break
            inp = business_input(b, origin, horizon_days)
            fx = {a.account_id: a.fx_to_base for a in inp.accounts}
            cons = sum(fx[a] * v for a, v in daily.items())
            i0 = (origin - first).days
            actual = np.asarray(cons[i0 + 1 : i0 + 1 + horizon_days], float)
            hist = np.asarray(cons[(inp.accounts[0].start - first).days : i0 + 1], float)
            oper = next(a.account_id for a in inp.accounts if a.operating)
            ob = daily[oper][i0 + 1 : i0 + 1 + horizon_days]
            weeks = tuple(
                (origin + timedelta(days=7 * w + 1), bool(ob[7 * w : 7 * w + 7].min() < 0))
                for w in range(horizon_days // 7)
            )
            yield BacktestCase(b.business_id, "csv", "", origin, inp, actual, hist, weeks)


class ForecastCsvWriter:
    """Streams forecasts to ``forecast.csv`` (and ``weekly.csv``) as they are made, so a batch of
    thousands of businesses never holds more than one forecast in memory."""

    def __init__(self, daily: Path, weekly: Path | None = None) -> None:
        self._files = [Path(daily).open("w", encoding="utf-8", newline="")]  # noqa: SIM115
        self._daily = csv.writer(self._files[0], lineterminator="\n")
        self._daily.writerow(["business_id", "date", "balance_p10", "balance_p50", "balance_p90"])
        self._weekly = None
        if weekly is not None:
            self._files.append(Path(weekly).open("w", encoding="utf-8", newline=""))  # noqa: SIM115
            self._weekly = csv.writer(self._files[1], lineterminator="\n")
            self._weekly.writerow(
                ["business_id", "week_start", "shortfall_probability", "expected_min_balance"]
            )
        self.daily_rows = self.weekly_rows = 0

    def add(self, fc: Forecast) -> None:
        c, bid = fc.base_currency, fc.business_id
        for band in fc.consolidated:
            self._daily.writerow(
                [
                    bid,
                    band.day.isoformat(),
                    format_minor(band.p10_minor, c),
                    format_minor(band.p50_minor, c),
                    format_minor(band.p90_minor, c),
                ]
            )
        self.daily_rows += len(fc.consolidated)
        if self._weekly is not None:
            for wk in fc.weeks:
                self._weekly.writerow(
                    [
                        bid,
                        wk.week_start.isoformat(),
                        f"{wk.shortfall_probability:.4f}",
                        format_minor(wk.expected_min_balance_minor, c),
                    ]
                )
            self.weekly_rows += len(fc.weeks)

    def close(self) -> None:
        for f in self._files:
            f.close()

    def __enter__(self) -> ForecastCsvWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
