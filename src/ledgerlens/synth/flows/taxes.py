"""VAT / sales tax, corporate income tax and local business taxes on each country's calendar.

VAT due = output VAT on the period's VAT-able sales minus input VAT on its purchases (exports are
zero-rated, so exporters often get refunds: a ``tax.vat`` credit some weeks after the return).
US sales tax has no input credit. Corporate tax is paid on the prior-year profit the tax office
knows (here: the simulated run-rate); loss-makers pay nothing.
"""

from __future__ import annotations

from datetime import date

from ledgerlens.synth.calendars import (
    TaxDue,
    corporate_tax_schedule,
    other_tax_schedule,
    vat_schedule,
)
from ledgerlens.synth.flows.context import Ctx
from ledgerlens.synth.model import SimTxn

__all__ = ["corporate_taxes", "run_rate_profit", "vat"]

_CORP_RATE = {"GB": 0.25, "DE": 0.158, "NL": 0.19, "FR": 0.25, "US": 0.21}
_PER_YEAR = {"GB": 1, "DE": 4, "NL": 12, "FR": 4, "US": 4}


def _period_sum(ctx: Ctx, arr: object, start: date, end: date) -> float:
    import numpy as np

    a = np.asarray(arr)
    i0, i1 = ctx.index_of(start), ctx.index_of(end) + 1
    days = i1 - i0
    lo, hi = max(i0, 0), min(i1, ctx.n_days)
    if hi <= lo:
        return float(a[: min(ctx.n_days, 90)].mean() * days)
    s = float(a[lo:hi].sum())
    return s * days / (hi - lo)  # a period reaching before day 0: scale the part we know


def _book(
    ctx: Ctx,
    due: TaxDue,
    amount: int,
    kind_key: str,
    ref: str,
    series: str,
    roll_back: bool,
    cat: str,
) -> None:
    c = ctx.culture
    d = ctx.index_of(due.due)
    b = ctx.open_back(d) if roll_back else ctx.open_fwd(d)
    if b < 0 or amount == 0:
        return
    who = c.tax_authority(kind_key)
    if amount > 0:  # refund from the tax office
        text, kind = c.credit_in(who, ref, b, 540), "transfer_in"
    elif c.country in ("DE", "FR"):
        text, kind = (
            c.direct_debit(who, ref, f"T{ctx.index:07d}{kind_key[:1].upper()}"),
            "direct_debit",
        )
    else:
        text, kind = c.credit_out(who, ref, b, 540), "transfer_out"
    ctx.rows.append(SimTxn(b, 540, 0, amount, text, who, "", "", "", "", kind, cat, series=series))


def vat(ctx: Ctx, variant: int) -> None:
    a, c = ctx.arch, ctx.culture
    if a.vat_exempt or (c.country == "US" and not a.sales_tax_us):
        return
    assert ctx.vat_sales is not None and ctx.vat_purchases is not None
    r = c.vat_rate_bps / 10000
    series = ctx.series()
    for due in vat_schedule(c.country, ctx.start, c.dates[ctx.n_days - 1], variant):
        sales = _period_sum(ctx, ctx.vat_sales, due.period_start, due.period_end)
        buys = (
            0.0
            if c.country == "US"
            else _period_sum(ctx, ctx.vat_purchases, due.period_start, due.period_end)
        )
        net = int((sales - buys) * r / (1 + r))
        ref = f"VAT {due.period_start.month:02d}/{due.period_start.year}-{due.period_end.month:02d}/{due.period_end.year}"  # noqa: E501
        if net > 0:
            _book(ctx, due, -net, "vat", ref, series, c.vat_roll_back, "tax.vat")
        elif net < 0:  # refund arrives some weeks after the return
            late = TaxDue(
                date.fromordinal(due.due.toordinal() + 21), due.period_start, due.period_end
            )
            _book(ctx, late, -net, "vat", ref, "", False, "tax.vat")


def run_rate_profit(ctx: Ctx) -> float:
    """Annualized operating profit of the business account (minor units)."""
    total = 0
    for r in ctx.rows:
        g = r.category[:4]
        if g in ("inco", "cogs", "opex") and r.account == 0:
            total += r.amount_minor
    return total / ctx.n_days * 365


def corporate_taxes(ctx: Ctx) -> None:
    c = ctx.culture
    profit = run_rate_profit(ctx)
    last = c.dates[ctx.n_days - 1]
    if profit > 0:
        per = int(profit * _CORP_RATE[c.country] / _PER_YEAR[c.country])
        series = ctx.series()
        for due in corporate_tax_schedule(c.country, ctx.start, last):
            ref = f"CT {due.period_start.year} {due.due.month:02d}"
            _book(
                ctx,
                due,
                -per,
                "corp",
                ref,
                series,
                c.country in ("GB", "NL"),
                "tax.corporate_income",
            )
    series = ctx.series()
    for due in other_tax_schedule(c.country, ctx.start, last):
        if c.country == "GB":
            amt = int(ctx.revenue_month * 0.012)
        elif c.country == "DE":
            amt = int(max(profit, 0) * 0.14 / 4)
        else:
            amt = int(ctx.revenue_month * 0.06)
        if amt > 0:
            _book(
                ctx,
                due,
                -amt,
                "other",
                f"TAX {due.due.year}/{due.due.month:02d}",
                series,
                False,
                "tax.other",
            )
