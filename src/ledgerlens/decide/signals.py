"""Business signals for decisions: what the business really earns, spends and holds.

Limits, offers and recommendations are priced on these figures, not on what a form says. They
come from the stored transactions (with the enrich stage's categories when present) and, when
given, the cash-flow forecast. Pure; amounts in base-currency minor units per month.
"""

from __future__ import annotations

import itertools
import re
from collections import defaultdict
from collections.abc import Mapping, Sequence
from datetime import date

from ledgerlens.analyze.cashflow.inputs import opening_balances
from ledgerlens.analyze.cashflow.model import Forecast
from ledgerlens.core.ledger import Account, Transaction
from ledgerlens.core.money import format_minor
from ledgerlens.decide.model import BusinessSignals
from ledgerlens.enrich.transfers import FxRates

__all__ = ["business_signals", "foreign_original", "is_card_takings", "is_marketplace"]

# acquirers and schemes that settle card takings (the words banks print on the credit line)
_CARD = re.compile(
    r"\b(WORLDPAY|BARCLAYCARD|SUMUP|SQUARE|ZETTLE|ADYEN|NEXI|PAYONE|CCV|WORLDLINE|REMISE CB|"
    r"LYRA|CLOVER|STRIPE|TOAST|AMEX|VISA|MASTERCARD|GLOBAL PAYMENTS|ELAVON)\b",
    re.I,
)
_MARKET = re.compile(
    r"\b(AMAZON|SHOPIFY|EBAY|ETSY|AIRBNB|BOOKING\.?COM|EXPEDIA|DELIVEROO|UBER ?EATS|JUST ?EAT|"
    r"LIEFERANDO|THUISBEZORGD|DOORDASH|GRUBHUB|VRBO|ZALANDO|BOL\.COM)\b",
    re.I,
)
# what banks print when they converted: " ORIG USD 79.00 RATE 0.750408"
_ORIG = re.compile(r"\bORIG ([A-Z]{3}) (-?\d+(?:\.\d+)?) RATE (\d+(?:\.\d+)?)")
_OPERATING_OUT = ("cogs.", "opex.", "tax.")
_SKIP = ("transfer.", "financing.")
_SEASON_MONTHS = 9  # fewer months cannot tell a season from noise
_LOW_MONTH = 0.7  # a month below 70 % of the average month is a low month


def is_card_takings(t: Transaction) -> bool:
    return t.amount_minor > 0 and bool(_CARD.search(f"{t.counterparty_name} {t.description}"))


def is_marketplace(t: Transaction, category: str = "") -> bool:
    if category == "income.marketplace_payout":
        return True
    return t.amount_minor > 0 and bool(_MARKET.search(f"{t.counterparty_name} {t.description}"))


def foreign_original(t: Transaction) -> tuple[str, str, float] | None:
    """(original currency, original amount text, the bank's rate) when the bank converted the
    line, from the structured fields or the bank's printed note; ``None`` otherwise."""
    m = _ORIG.search(t.description)
    if m and m.group(1) != t.currency:
        return m.group(1), m.group(2), float(m.group(3))
    if t.original_currency and t.original_currency != t.currency and t.original_amount_minor:
        rate = abs(t.amount_minor / t.original_amount_minor)
        return (
            t.original_currency,
            format_minor(abs(t.original_amount_minor), t.original_currency),
            rate,
        )
    return None


def _month_key(d: date) -> int:
    return d.year * 12 + d.month - 1


def _average_balance(
    hist: Sequence[Transaction], acc: Mapping[str, Account], base: str, start_key: int
) -> int | None:
    """Mean end-of-day balance of the base-currency current accounts over the window (days
    weighted equally, quiet days carrying the last balance); None without running balances."""
    total = 0.0
    found = False
    for aid, a in acc.items():
        if a.currency != base or str(a.account_type) != "current":
            continue
        eod: dict[date, int] = {}
        for t in hist:  # file order: the last line of a day holds its closing balance
            if t.account_id == aid and t.balance_after_minor is not None:
                eod[t.booking_date] = t.balance_after_minor
        days = sorted(d for d in eod if _month_key(d) >= start_key)
        if len(days) < 2:
            continue
        found = True
        span = 0
        acc_sum = 0.0
        for d0, d1 in itertools.pairwise(days):
            n = (d1 - d0).days
            acc_sum += eod[d0] * n
            span += n
        total += acc_sum / max(span, 1)
    return int(total) if found else None


def business_signals(
    business_id: str,
    base_currency: str,
    accounts: Sequence[Account],
    transactions: Sequence[Transaction],
    *,
    categories: Mapping[str, str] | None = None,
    forecast: Forecast | None = None,
    fx_rates: FxRates | None = None,
    as_of: date | None = None,
    window_months: int = 12,
) -> BusinessSignals:
    """Monthly averages over the last ``window_months`` full months up to ``as_of`` (default:
    the last booking day). ``categories`` maps transaction id → taxonomy leaf; without it every
    inflow counts as operating and every outflow too (a rougher, still conservative basis)."""
    categories = categories or {}
    hist = [t for t in transactions if as_of is None or t.booking_date <= as_of]
    if not hist:
        return BusinessSignals(business_id, base_currency, 0, 0, 0, 0, 0)
    as_of = as_of or max(t.booking_date for t in hist)
    first = min(t.booking_date for t in hist)
    acc = {a.account_id: a for a in accounts}
    end_key = _month_key(as_of)
    # a month counts once it is (nearly) complete: the as_of month only from its 28th
    last_full = end_key if as_of.day >= 28 else end_key - 1
    # the first month of a history is a ramp-up (invoices issued in it are paid the next one)
    first_full = _month_key(first) + 1
    start_key = max(first_full, last_full - window_months + 1)
    n_months = max(last_full - start_key + 1, 0)
    rates: dict[str, float] = {}

    def to_base(t: Transaction) -> int:
        if t.currency == base_currency:
            return t.amount_minor
        if t.currency not in rates:
            hit = fx_rates.rate(t.currency, base_currency, as_of) if fx_rates else None
            rates[t.currency] = hit[0] if hit else 1.0
        return round(t.amount_minor * rates[t.currency])

    month_in: dict[int, int] = defaultdict(int)
    totals: dict[str, int] = defaultdict(int)
    employees: set[str] = set()
    spenders: set[str] = set()
    seen_cats: set[str] = set()
    for t in hist:
        cat = categories.get(t.transaction_id, "")
        seen_cats.add(cat)
        if t.employee_id and not t.card_id and t.amount_minor < 0 and cat in ("", "opex.payroll"):
            employees.add(t.employee_id)
        if t.card_id and t.amount_minor < 0:
            totals["card_n"] += 1
            totals["card_fx_n"] += foreign_original(t) is not None
            if t.employee_id:
                spenders.add(t.employee_id)
        k = _month_key(t.booking_date)
        if not start_key <= k <= last_full or cat.startswith(_SKIP[0]):
            continue
        a = acc.get(t.account_id)
        if a is not None and str(a.account_type) == "credit_card" and t.amount_minor > 0:
            continue  # card repayments land here; they are transfers, categorized or not
        v = to_base(t)
        foreign = t.currency != base_currency or foreign_original(t) is not None
        if cat == "financing.loan_repayment":
            totals["debt"] -= v
            continue
        if cat.startswith(_SKIP[1]):
            continue
        if v > 0:
            month_in[k] += v
            totals["in"] += v
            totals["in_fx"] += v if foreign else 0
            if is_card_takings(t):
                totals["card"] += v
            elif is_marketplace(t, cat):
                totals["market"] += v
            elif t.counterparty_name and cat in ("", "income.sales"):
                totals["invoice"] += v
        elif not cat or cat.startswith(_OPERATING_OUT):
            totals["out"] -= v
        if foreign:
            totals["foreign"] += abs(v)
        totals["all"] += abs(v)
    per = max(n_months, 1)
    months = [month_in.get(k, 0) for k in range(start_key, last_full + 1)]
    mean_in = sum(months) / len(months) if months else 0.0
    ratio = 1.0
    low: tuple[int, ...] = ()
    if len(months) >= _SEASON_MONTHS and mean_in > 0:
        # three-month means: a season lasts; one lumpy invoice month does not make one
        rolling = [sum(months[i : i + 3]) / 3 for i in range(len(months) - 2)]
        ratio = min(rolling) / mean_in
        low = tuple(
            sorted(
                {
                    (k % 12) + 1
                    for k, m in zip(range(start_key, last_full + 1), months, strict=True)
                    if m < _LOW_MONTH * mean_in
                }
            )
        )
    balances = opening_balances(list(accounts), hist, as_of)
    balance = sum(
        bal
        for aid, (bal, _) in balances.items()
        if aid in acc
        and acc[aid].currency == base_currency
        and str(acc[aid].account_type) in ("current", "savings")
    )
    avg = _average_balance(hist, acc, base_currency, start_key)
    types = {str(a.account_type) for a in accounts}
    fmin, fprob, fver = None, 0.0, ""
    if forecast is not None and forecast.weeks:
        fmin = min(w.expected_min_balance_minor for w in forecast.weeks)
        fprob = max(w.shortfall_probability for w in forecast.weeks)
        fver = forecast.source
    return BusinessSignals(
        business_id=business_id,
        base_currency=base_currency,
        history_months=(end_key - _month_key(first)) + (1 if as_of.day >= 28 else 0),
        monthly_inflow_minor=totals["in"] // per,
        monthly_outflow_minor=totals["out"] // per,
        card_takings_minor=totals["card"] // per,
        invoice_inflow_minor=totals["invoice"] // per,
        marketplace_inflow_minor=totals["market"] // per,
        balance_minor=balance,
        average_balance_minor=avg,
        seasonality_ratio=ratio,
        low_months=low,
        debt_service_minor=totals["debt"] // per,
        foreign_flow_minor=totals["foreign"] // per,
        foreign_share=totals["foreign"] / totals["all"] if totals["all"] else 0.0,
        foreign_inflow_share=totals["in_fx"] / totals["in"] if totals["in"] else 0.0,
        foreign_card_share=totals["card_fx_n"] / totals["card_n"] if totals["card_n"] else 0.0,
        employees=len(employees),
        employee_card_spenders=len(spenders),
        has_savings="savings" in types,
        has_currency_account="currency" in types
        or any(a.currency != base_currency for a in accounts),
        has_credit_card="credit_card" in types,
        has_card_acquiring=totals["card"] > 0,
        has_payroll="opex.payroll" in seen_cats or bool(employees),
        has_insurance="opex.insurance" in seen_cats,
        forecast_min_balance_minor=fmin,
        forecast_shortfall_probability=fprob,
        forecast_version=fver,
    )
