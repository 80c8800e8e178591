"""Movements between a business's own accounts, its lenders and its owner.

Both legs of every internal movement are booked (same pair id): card-statement settlements,
savings sweeps, FX conversions at the day's ECB rate. Loans pay out and are repaid as annuities;
the owner draws money out of a profitable business and puts some in when needed.
"""

from __future__ import annotations

import numpy as np

from ledgerlens.synth.flows.context import Ctx
from ledgerlens.synth.flows.taxes import run_rate_profit
from ledgerlens.synth.fx import rate_text
from ledgerlens.synth.model import SimTxn

__all__ = ["card_settlement", "fx_conversions", "loans", "owner_flows", "savings"]


def _daily(ctx: Ctx, account: int) -> np.ndarray:
    out = np.zeros(ctx.n_days, dtype=np.int64)
    rows = [(r.day, r.amount_minor) for r in ctx.rows if r.account == account]
    if rows:
        d, a = zip(*rows, strict=True)
        np.add.at(out, np.asarray(d, dtype=np.int64), np.asarray(a, dtype=np.int64))
    return out


def _iban(identifier: str) -> str:
    """The account's IBAN, or "" for US account numbers and card accounts (not IBANs)."""
    return identifier if identifier[:2].isalpha() and identifier[2:4].isdigit() else ""


def _tail(identifier: str) -> str:
    return f"****{identifier[-4:]}"


def card_settlement(ctx: Ctx) -> None:
    if ctx.acc_card < 0:
        return
    rng, c = ctx.rng, ctx.culture
    cum = np.cumsum(_daily(ctx, ctx.acc_card))
    close_dom, lag = int(rng.integers(1, 28)), int(rng.integers(12, 21))
    issuer = f"{ctx.accounts[ctx.acc_card].bank_name.upper()} CARD"
    series = ctx.series()
    settled = 0
    mandate = f"CC{ctx.index:08d}"
    for m in ctx.months:
        close = m.day(close_dom)
        if not 0 <= close < ctx.n_days:
            continue
        owed = -(int(cum[close]) + settled)
        pay = ctx.open_fwd(close + lag)
        if owed <= 0 or pay < 0:
            continue
        pair = ctx.pair()
        ref = f"STATEMENT {m.month:02d}/{m.year}"
        ctx.rows.append(
            SimTxn(
                pay,
                350,
                0,
                -owed,
                c.direct_debit(issuer, ref, mandate),
                issuer,
                _iban(ctx.accounts[ctx.acc_card].identifier),
                "",
                "",
                "",
                "direct_debit",
                "transfer.card_settlement",
                pair=pair,
                series=series,
            )
        )
        ctx.rows.append(
            SimTxn(
                pay,
                350,
                ctx.acc_card,
                owed,
                f"PAYMENT RECEIVED THANK YOU {ref}",
                ctx.name,
                _iban(ctx.accounts[0].identifier),
                "",
                "",
                "",
                "internal_in",
                "transfer.card_settlement",
                pair=pair,
            )
        )
        settled += owed


def _internal(
    ctx: Ctx, day: int, src: int, dst: int, amount: int, ref: str, series: str = ""
) -> None:
    c, pair = ctx.culture, ctx.pair()
    a_src, a_dst = ctx.accounts[src], ctx.accounts[dst]
    ctx.rows.append(
        SimTxn(
            day,
            900,
            src,
            -amount,
            c.internal(True, _tail(a_dst.identifier), ref),
            ctx.name,
            _iban(a_dst.identifier),
            "",
            "",
            "",
            "internal",
            "transfer.internal",
            pair=pair,
            series=series,
        )
    )
    ctx.rows.append(
        SimTxn(
            day,
            900,
            dst,
            amount,
            c.internal(False, _tail(a_src.identifier), ref),
            ctx.name,
            _iban(a_src.identifier),
            "",
            "",
            "",
            "internal_in",
            "transfer.internal",
            pair=pair,
        )
    )


def savings(ctx: Ctx) -> None:
    """Monthly sweep to savings, occasional withdrawals, month-end interest on the balance."""
    s = ctx.acc_savings
    if s < 0:
        return
    rng, c = ctx.rng, ctx.culture
    opening = int(ctx.revenue_month * rng.uniform(0.3, 3.0))
    ctx.preset_opening[s] = opening
    sweep = int(ctx.revenue_month * rng.uniform(0.02, 0.08) / 100) * 100
    rate = float(rng.uniform(0.01, 0.035))
    series = ctx.series()
    balance = opening
    moves: dict[int, int] = {}
    for mi, b in ctx.monthly(28, back=True):
        _internal(ctx, b, 0, s, sweep, "SAVINGS", series)
        moves[b] = moves.get(b, 0) + sweep
        if mi % 6 == 5 and rng.random() < 0.5:
            w = ctx.open_fwd(b + int(rng.integers(3, 20)))
            amt = int(balance * rng.uniform(0.2, 0.5) / 100) * 100
            if w >= 0 and amt > 0:
                _internal(ctx, w, s, 0, amt, "TOP UP")
                moves[w] = moves.get(w, 0) - amt
                balance -= amt
        balance += sweep
    bal = opening
    month_end = {min(m.first + m.length - 1, ctx.n_days - 1): i for i, m in enumerate(ctx.months)}
    for d in range(ctx.n_days):
        bal += moves.get(d, 0)
        if d in month_end and d != ctx.n_days - 1:
            interest = int(bal * rate / 12)
            b = ctx.open_fwd(d + 1)
            if b >= 0 and interest > 0:
                ctx.rows.append(
                    SimTxn(
                        b,
                        5,
                        s,
                        interest,
                        c.interest(),
                        "",
                        "",
                        "",
                        "",
                        "",
                        "interest",
                        "income.interest",
                    )
                )
                moves[b] = moves.get(b, 0) + interest


def fx_conversions(ctx: Ctx) -> None:
    f = ctx.acc_fx
    if f < 0:
        return
    rng, c = ctx.rng, ctx.culture
    daily = _daily(ctx, f)
    ccy = ctx.accounts[f].currency
    balance = 0
    next_day = int(rng.integers(10, 25))
    for d in range(ctx.n_days):
        balance += int(daily[d])
        if d < next_day or not ctx.cal.is_open[d]:
            continue
        next_day = d + int(rng.integers(10, 30))
        amount = int(balance * rng.uniform(0.6, 0.95) / 10000) * 10000
        if amount <= 0:
            continue
        ppm = ctx.fx.rate_ppm(ccy, ctx.base, d)
        got = ctx.fx.convert(amount, ccy, ctx.base, d)
        pair, ref = ctx.pair(), f"FX{d:05d}{ctx.index % 1000:03d}"
        text = c.fx(ccy, ctx.base, f"{amount / 100:.2f}", rate_text(ppm), ref)
        ctx.rows.append(
            SimTxn(
                d,
                950,
                f,
                -amount,
                text,
                ctx.name,
                _iban(ctx.accounts[0].identifier),
                "",
                "",
                "",
                "fx",
                "transfer.fx_conversion",
                pair=pair,
            )
        )
        ctx.rows.append(
            SimTxn(
                d,
                950,
                0,
                got,
                text,
                ctx.name,
                _iban(ctx.accounts[f].identifier),
                "",
                "",
                "",
                "fx",
                "transfer.fx_conversion",
                pair=pair,
            )
        )
        balance -= amount


def loans(ctx: Ctx) -> None:
    rng, c = ctx.rng, ctx.culture
    if rng.random() >= ctx.arch.loan_p:
        return
    lender = f"{ctx.accounts[0].bank_name.upper()} LOAN"
    principal = int(ctx.revenue_month * rng.uniform(0.8, 5.0) / 10000) * 10000
    months = int(rng.choice((24, 36, 48, 60, 84)))
    r = float(rng.uniform(0.04, 0.095)) / 12
    payment = int(principal * r / (1 - (1 + r) ** -months))
    ref = f"LN{int(rng.integers(10**7, 10**8))}"
    first_month = 0
    if rng.random() < 0.4:  # a new loan during the history
        d = ctx.open_fwd(int(rng.integers(20, max(21, ctx.hist_days - 60))))
        if d >= 0:
            ctx.rows.append(
                SimTxn(
                    d,
                    700,
                    0,
                    principal,
                    c.loan(lender, ref, True),
                    lender,
                    "",
                    "",
                    "",
                    "",
                    "loan_in",
                    "financing.loan_proceeds",
                )
            )
            first_month = int(ctx.month_of_day[d]) + 1
    series = ctx.series()
    dom = int(rng.integers(1, 28))
    for mi, b in ctx.monthly(dom):
        if mi < first_month:
            continue
        ctx.rows.append(
            SimTxn(
                b,
                300,
                0,
                -payment,
                c.loan(lender, ref, False),
                lender,
                "",
                "",
                "",
                "",
                "loan_out",
                "financing.loan_repayment",
                series=series,
            )
        )


def owner_flows(ctx: Ctx) -> None:
    """Drawings from what the business earns; a capital injection now and then."""
    rng, c = ctx.rng, ctx.culture
    name, personal = ctx.owner
    profit = run_rate_profit(ctx)
    monthly = max(profit / 12 * rng.uniform(0.2, 0.6), ctx.revenue_month * 0.02)
    dom = int(rng.integers(20, 29))
    series = ctx.series()
    for _mi, b in ctx.monthly(dom):
        amt = int(monthly * rng.uniform(0.8, 1.2) / 100) * 100
        ctx.rows.append(
            SimTxn(
                b,
                1000,
                0,
                -amt,
                c.credit_out(name, "DRAWINGS", b, 1000),
                name,
                personal,
                "",
                "",
                "",
                "transfer_out",
                "financing.owner_drawings",
                series=series,
            )
        )
    for d in rng.integers(0, ctx.n_days, size=int(rng.poisson(ctx.n_days / 365))).tolist():
        b = ctx.open_fwd(d)
        if b >= 0:
            amt = int(ctx.revenue_month * rng.uniform(0.1, 0.5) / 100) * 100
            ctx.rows.append(
                SimTxn(
                    b,
                    1000,
                    0,
                    amt,
                    c.credit_in(name, "CAPITAL", b, 1000),
                    name,
                    personal,
                    "",
                    "",
                    "",
                    "transfer_in",
                    "financing.owner_contribution",
                )
            )
