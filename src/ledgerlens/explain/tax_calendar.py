"""Tax obligations as data: when the next payments fall due and roughly how much they will be.

Each country's rules are a JSON file in ``explain/data/tax_calendar/`` (UK VAT quarters, DE
monthly/quarterly VAT advance returns, FR TVA, US estimated taxes). Due dates are shifted off
weekends and public holidays with ``holidays``: forward where the law moves the deadline
(DE, FR, US), backward where a deadline must be *met* (a UK VAT payment clears by the banking
day before). Amounts are estimated from the business's categorized flows of the period:

- ``vat_flows``: output VAT on sales minus input VAT on purchases (gross amounts × rate/(1+rate)),
  a period still running scaled to its full length;
- ``history``: the mean of the last four payments in the tax categories.

An estimate is a rough figure and says so (confidence ≤ 0.7); the evidence lists its parts.
"""

from __future__ import annotations

import calendar
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from functools import lru_cache
from importlib import resources
from typing import Any

from ledgerlens.core.ledger import Transaction

__all__ = ["TaxDue", "countries", "due_dates", "estimate_due", "roll_to_banking_day"]

SOURCE = "rule:tax_calendar@2026.12"
_SALES = ("income.sales", "income.marketplace_payout")
_NO_VAT = (
    "opex.payroll",
    "opex.payroll_taxes_benefits",
    "opex.insurance",
    "opex.rent_lease",
    "opex.bank_fees",
    "cogs.payment_processing_fees",
)


@dataclass(frozen=True, slots=True)
class TaxDue:
    """One upcoming payment: what, for which period, when, and the estimate with its parts."""

    country: str
    obligation: str
    name: str
    category: str
    period_start: date
    period_end: date
    due_date: date
    unshifted_due: date
    amount_minor: int  # estimated payment, positive = money out (negative = a refund)
    currency: str
    confidence: float
    evidence: dict[str, str | int | float] = field(default_factory=dict)
    source: str = SOURCE


@lru_cache(maxsize=16)
def _rules(country: str) -> dict[str, Any]:
    f = resources.files("ledgerlens.explain").joinpath(
        "data", "tax_calendar", f"{country.lower()}.json"
    )
    if not f.is_file():
        return {}
    return json.loads(f.read_text(encoding="utf-8"))  # type: ignore[no-any-return]


def countries() -> tuple[str, ...]:
    return ("DE", "FR", "GB", "US")


@lru_cache(maxsize=64)
def _holidays(country: str, year: int) -> frozenset[date]:
    import holidays

    try:
        return frozenset(holidays.country_holidays(country, years=[year]).keys())
    except NotImplementedError:
        return frozenset()


def roll_to_banking_day(day: date, country: str, backward: bool = False) -> date:
    step = timedelta(days=-1 if backward else 1)
    while day.weekday() >= 5 or day in _holidays(country, day.year):
        day += step
    return day


def _month_end(y: int, m: int) -> date:
    return date(y, m, calendar.monthrange(y, m)[1])


def _add_months(y: int, m: int, k: int) -> tuple[int, int]:
    t = y * 12 + m - 1 + k
    return t // 12, t % 12 + 1


def _periods(rule: Mapping[str, Any], around: date) -> list[tuple[date, date, date]]:
    """(period start, period end, unshifted due) for periods ending near ``around``."""
    out: list[tuple[date, date, date]] = []
    kind = rule["period"]
    if kind == "fixed":
        for year in (around.year - 1, around.year, around.year + 1):
            for fd in rule["fixed_dates"]:
                py = year - fd["year_offset"]
                start = date(py, fd["covers"][0], 1)
                end = _month_end(py, fd["covers"][1])
                out.append((start, end, date(year, fd["month"], fd["day"])))
        return out
    step = 1 if kind == "monthly" else 3
    due = rule["due"]
    for k in range(-8, 8):
        y, m = _add_months(around.year, around.month, k)
        if step == 3 and m not in rule["quarter_end_months"]:
            continue
        end = _month_end(y, m)
        sy, sm = _add_months(y, m, -(step - 1))
        dy, dm = _add_months(y, m, due["months_after_end"])
        if "day" in due:
            unshifted = date(dy, dm, min(due["day"], calendar.monthrange(dy, dm)[1]))
        else:
            unshifted = _month_end(dy, dm) + timedelta(days=due["days_after_month_end"])
        out.append((date(sy, sm, 1), end, unshifted))
    return out


def due_dates(
    country: str, after: date, until: date, variant: str | None = None
) -> list[tuple[str, dict[str, Any], date, date, date, date]]:
    """Obligations due in ``(after, until]``: (id, rule, start, end, unshifted, shifted)."""
    data = _rules(country)
    if not data:
        return []
    key = variant or data["default"]
    rule = data["obligations"][key]
    out = []
    for start, end, unshifted in _periods(rule, after):
        shifted = roll_to_banking_day(unshifted, country, backward=rule["roll"] == "backward")
        if after < shifted <= until:
            out.append((key, rule, start, end, unshifted, shifted))
    out.sort(key=lambda r: r[5])
    return out


def _vat_estimate(
    rule: Mapping[str, Any],
    txs: Sequence[Transaction],
    cats: Mapping[str, str],
    start: date,
    end: date,
    as_of: date,
) -> tuple[int, float, dict[str, Any]]:
    rate = float(rule["vat_rate"])
    sales = purchases = 0
    for t in txs:
        if not start <= t.booking_date <= min(end, as_of):
            continue
        c = cats.get(t.transaction_id, "")
        if t.amount_minor > 0 and c in _SALES:
            sales += t.amount_minor
        elif t.amount_minor < 0 and c.startswith(("cogs.", "opex.")) and c not in _NO_VAT:
            purchases -= t.amount_minor
    span = (end - start).days + 1
    seen = (min(end, as_of) - start).days + 1
    scale = span / seen if 0 < seen < span else 1.0
    share = rate / (1 + rate)
    output_vat = round(sales * share * scale)
    input_vat = round(purchases * share * scale)
    ev = {
        "sales_minor": sales,
        "purchases_minor": purchases,
        "vat_rate": rate,
        "output_vat_minor": output_vat,
        "input_vat_minor": input_vat,
        "period_share_seen": round(min(1.0, seen / span), 3),
    }
    confidence = 0.7 if scale == 1.0 else 0.5
    return output_vat - input_vat, confidence, ev


def _history_estimate(
    rule: Mapping[str, Any], txs: Sequence[Transaction], cats: Mapping[str, str]
) -> tuple[int, float, dict[str, Any]]:
    wanted = set(rule.get("history_categories", [rule["category"]]))
    paid = sorted(
        (t for t in txs if t.amount_minor < 0 and cats.get(t.transaction_id) in wanted),
        key=lambda t: t.booking_date,
    )[-4:]
    if not paid:
        return 0, 0.2, {"payments_seen": 0}
    mean = round(sum(-t.amount_minor for t in paid) / len(paid))
    return (
        mean,
        0.6,
        {
            "payments_seen": len(paid),
            "mean_payment_minor": mean,
            "transaction_ids": ",".join(t.transaction_id for t in paid),
        },
    )


def estimate_due(
    country: str,
    currency: str,
    transactions: Sequence[Transaction],
    categories: Mapping[str, str],
    as_of: date,
    horizon_days: int = 42,
    *,
    variant: str | None = None,
    language: str = "en",
) -> list[TaxDue]:
    """Upcoming obligations within ``horizon_days`` of ``as_of`` with estimated amounts."""
    out: list[TaxDue] = []
    for key, rule, start, end, unshifted, shifted in due_dates(
        country, as_of, as_of + timedelta(days=horizon_days), variant
    ):
        if rule["estimate"] == "vat_flows":
            amount, conf, ev = _vat_estimate(rule, transactions, categories, start, end, as_of)
        else:
            amount, conf, ev = _history_estimate(rule, transactions, categories)
        ev = {**ev, "rule": key, "shifted_days": (shifted - unshifted).days}
        name = rule["name"].get(language, rule["name"]["en"])
        out.append(
            TaxDue(
                country,
                key,
                name,
                rule["category"],
                start,
                end,
                shifted,
                unshifted,
                amount,
                currency,
                conf,
                ev,
            )
        )
    return out
