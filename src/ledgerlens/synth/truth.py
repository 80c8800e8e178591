"""Ground truth the models are judged on: cash gaps, known future items, distress, products.

The cash gap is engineered, not hoped for. Flows do not depend on the balance, so the opening
balance can be chosen after the simulation: businesses without a gap get a buffer above their
lowest point; businesses fated to a gap (one in each block of four consecutive businesses) stay
positive through the history and go below zero inside the hidden 13 weeks — either through what
the history already shows plus a *known* scheduled payment (foreseeable), or through an
unexpected expense and a customer who stops paying (not foreseeable).
"""

from __future__ import annotations

import math

import numpy as np

from ledgerlens.synth.flows.context import Ctx
from ledgerlens.synth.model import FutureItem, SimTxn
from ledgerlens.synth.parties import company_name, iban

__all__ = ["FUTURE_DAYS", "calibrate_openings", "distress_outcome", "future_items", "products"]

FUTURE_DAYS = 91  # 13 weeks of hidden future after the history


def _daily(ctx: Ctx, account: int) -> np.ndarray:
    out = np.zeros(ctx.n_days, dtype=np.int64)
    rows = [(r.day, r.amount_minor) for r in ctx.rows if r.account == account]
    if rows:
        d, a = zip(*rows, strict=True)
        np.add.at(out, np.asarray(d, dtype=np.int64), np.asarray(a, dtype=np.int64))
    return out


def monthly_outflow(ctx: Ctx) -> float:
    out = sum(
        -r.amount_minor
        for r in ctx.rows
        if r.account == 0 and r.amount_minor < 0 and r.day < ctx.hist_days
    )
    return out / max(ctx.hist_days, 1) * 30.44


def calibrate_openings(ctx: Ctx, gap: bool, foreseeable: bool) -> list[int]:
    """Opening balance per account; may add the future shock row that makes a gap happen."""
    rng, h = ctx.rng, ctx.hist_days
    m_out = max(monthly_outflow(ctx), 100_00)
    cum = np.cumsum(_daily(ctx, 0))
    if not gap:
        buffer = m_out * float(rng.lognormal(math.log(0.9), 0.7))
        opening = int(-cum.min() + buffer)
    else:
        opening = int(-cum[:h].min() + m_out * float(rng.uniform(0.25, 0.7)))
        if opening + cum[h:].min() >= 0:
            s = ctx.open_fwd(h + int(rng.integers(7, 50)))
            extra = m_out * float(rng.uniform(0.1, 0.5))
            amount = int(opening + cum[s:].min() + extra)
            _shock(ctx, s, amount, foreseeable)
    openings = [0] * len(ctx.accounts)
    openings[0] = max(opening, 0)
    for k in range(1, len(ctx.accounts)):
        if k in ctx.preset_opening:
            openings[k] = ctx.preset_opening[k]
        elif k == ctx.acc_fx:
            fx_cum = np.cumsum(_daily(ctx, k))
            openings[k] = int(max(0, -fx_cum.min()) + ctx.revenue_month * 0.05)
    return openings


def _shock(ctx: Ctx, day: int, amount: int, foreseeable: bool) -> None:
    rng, c = ctx.rng, ctx.culture
    ctx.shock_day = day
    if foreseeable:  # a payment agreed before the history ended: listed in the future items
        name = company_name(rng, c.country, "Equipment")
        ref, cat = f"ORDER {int(rng.integers(1000, 9999))}", "opex.equipment"
        series = f"r_{ctx.business_id}_known"
    else:  # an unexpected bill
        name = company_name(rng, c.country, "Repairs")
        ref, cat, series = (
            f"EMERGENCY {int(rng.integers(100, 999))}",
            "opex.repairs_maintenance",
            "",
        )
    ctx.rows.append(
        SimTxn(
            day,
            800,
            0,
            -amount,
            c.credit_out(name, ref, day, 800),
            name,
            iban(rng, c.country),
            "",
            "",
            "",
            "transfer_out",
            cat,
            series=series,
        )
    )


def future_items(ctx: Ctx, rows: list[SimTxn]) -> list[FutureItem]:
    """What a bank knows at history end: open invoices and scheduled recurring payments."""
    h, dates, acc = ctx.hist_days, ctx.culture.dates, ctx.accounts
    out: list[FutureItem] = []
    for inv in ctx.invoices:
        if inv.issue_day < h and (inv.paid_day is None or inv.paid_day >= h):
            out.append(
                FutureItem(
                    ctx.business_id,
                    acc[inv.account].account_id,
                    "open_invoice",
                    dates[min(inv.due_day, len(dates) - 1)],
                    inv.amount_minor,
                    inv.currency,
                    inv.customer,
                    inv.number,
                    "income.sales",
                )
            )
    for r in rows:
        if r.day >= h and r.series:
            a = acc[r.account]
            out.append(
                FutureItem(
                    ctx.business_id,
                    a.account_id,
                    "scheduled_payment",
                    dates[r.day],
                    r.amount_minor,
                    a.currency,
                    r.counterparty_name,
                    r.description[:60],
                    r.category,
                    r.series,
                )
            )
    out.sort(key=lambda f: (f.due_date, f.account_id, f.kind, f.reference, f.amount_minor))
    return out


def distress_outcome(
    ctx: Ctx, gap: bool, growth: float, late_share: float, balance_months: float
) -> tuple[bool, float]:
    """A latent-risk draw: distress within 12 months of history end (documented, not simulated)."""
    z = -1.9 + 1.6 * gap - 40.0 * growth + 1.5 * late_share - 0.35 * min(balance_months, 6.0)
    z += 0.5 * (ctx.arch.loan_p > 0.4)
    p = 1 / (1 + math.exp(-z))
    return bool(ctx.rng.random() < p), round(p, 4)


def products(
    ctx: Ctx, gap: bool, has_anomaly: set[str], balance_months: float, foreign_flows: bool
) -> list[tuple[str, str]]:
    """Which bank products this business needs, with the reason (for recommender evaluation)."""
    out: list[tuple[str, str]] = []
    a = ctx.arch
    if foreign_flows and ctx.acc_fx < 0:
        out.append(("fx_account", "foreign-currency receipts converted at the bank's margin"))
    if gap and a.code in ("tourism", "construction"):
        out.append(("seasonal_credit_line", "seasonal low season meets a cash gap"))
    elif gap:
        out.append(("overdraft", "a cash gap within the next 13 weeks"))
    if gap and a.invoices >= 0.5:
        out.append(("invoice_finance", "open invoices fund the gap if advanced"))
    if ctx.acc_savings < 0 and balance_months > 3:
        out.append(("savings_account", "idle cash above three months of outflows"))
    if has_anomaly & {"card_misuse", "card_testing"}:
        out.append(("card_controls", "card misuse or card testing seen"))
    if ctx.staff >= 5 and ctx.acc_card < 0:
        out.append(("expense_cards", "several employees spend from the current account"))
    return out
