"""Money in: card takings, cash deposits, marketplace payouts and invoiced customers.

Card takings settle per sale day (T+1 banking day, Amex apart for some shops); invoices follow
each customer's own habit — most pay near the due date, a few are chronically late and, in some
businesses, one customer simply stops paying (its invoices stay open: future truth).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ledgerlens.synth.flows.context import Ctx, Invoice
from ledgerlens.synth.fx import apply_rate, rate_text
from ledgerlens.synth.model import SimTxn
from ledgerlens.synth.parties import company_name, iban, typo

__all__ = ["card_takings", "cash_deposits", "invoices", "marketplace", "windfalls"]

_ACQUIRERS = {
    "GB": ("WORLDPAY", "BARCLAYCARD MERCH", "SUMUP PAYMENTS", "SQUARE UK", "ZETTLE"),
    "DE": ("SUMUP", "ADYEN N.V.", "NEXI GERMANY", "PAYONE GMBH"),
    "NL": ("ADYEN N.V.", "CCV NEDERLAND", "WORLDLINE", "SUMUP"),
    "FR": ("REMISE CB", "WORLDLINE FR", "SUMUP", "LYRA NETWORK"),
    "US": ("SQUARE INC", "CLOVER", "STRIPE", "TOAST INC"),
}
_PLATFORMS: dict[str, Any] = {
    "cafe": {
        "GB": ("DELIVEROO", "UBER EATS", "JUST EAT"),
        "DE": ("LIEFERANDO", "WOLT", "UBER EATS"),
        "NL": ("THUISBEZORGD", "UBER EATS"),
        "FR": ("UBER EATS", "DELIVEROO"),
        "US": ("DOORDASH", "UBER EATS", "GRUBHUB"),
    },
    "tourism": ("BOOKING.COM", "AIRBNB PAYMENTS", "EXPEDIA", "GETYOURGUIDE"),
    "retail": ("AMAZON PAYMENTS", "EBAY", "ETSY", "SHOPIFY PAYMENTS"),
    "ecommerce_exporter": ("AMAZON PAYMENTS", "SHOPIFY PAYMENTS", "ETSY", "EBAY"),
}
_PAYOUT_DAYS = {
    "AMAZON PAYMENTS": 14,
    "SHOPIFY PAYMENTS": 1,
    "ETSY": 7,
    "EBAY": 1,
    "AIRBNB PAYMENTS": 2,
    "BOOKING.COM": 7,
    "EXPEDIA": 14,
    "GETYOURGUIDE": 14,
}
_INVOICE_PREFIX = {"GB": "INV", "DE": "RE", "NL": "F", "FR": "FA", "US": "INV"}
_INVOICE_WORD = {"GB": "INVOICE", "DE": "Rechnung", "NL": "Factuur", "FR": "FACTURE", "US": "INV"}
_TRADES = {
    "it_consultancy": ("Software", "Systems", "Digital", "Insurance", "Bank", "Retail"),
    "marketing_agency": ("Foods", "Fashion", "Hotels", "Motors", "Brands", "Studios"),
    "construction": ("Homes", "Properties", "Developments", "Estates", "Housing"),
    "wholesale": ("Foods", "Markets", "Stores", "Catering", "Trading"),
    "logistics": ("Retail", "Manufacturing", "Trading", "Foods", "Parts"),
    "medical": ("Health Insurance", "Health Fund", "Care"),
    "ecommerce_exporter": ("Trading", "Retail", "Stores"),
}


def _daily_sales(ctx: Ctx, share: float) -> np.ndarray:
    wk = np.asarray(ctx.arch.weekday)
    per_day = ctx.revenue_month / 30.44 * share / wk.mean()
    noise = ctx.rng.lognormal(0.0, 0.12, ctx.n_days)
    sales: np.ndarray = per_day * ctx.activity * wk[ctx.dow] * noise
    return sales


def card_takings(ctx: Ctx) -> None:
    share = ctx.arch.card_takings
    if share <= 0:
        return
    rng, c = ctx.rng, ctx.culture
    acquirer = _ACQUIRERS[c.country][int(rng.integers(len(_ACQUIRERS[c.country])))]
    merchant_id = f"{int(rng.integers(10**6, 10**7))}"
    # acquirers settle per card scheme: debit/credit schemes apart, Amex on its own
    schemes = [("", 1.0)]
    if rng.random() < 0.6:
        schemes = [(" VISA", 0.55), (" MC", 0.37)]
    if rng.random() < 0.35:
        schemes = [(n, w * 0.9) for n, w in schemes] + [(" AMEX", 0.1)]
    net = rng.random() < 0.5  # net settlement: fees deducted; else billed monthly
    fee_bps = int(rng.integers(90, 190))
    gross = np.rint(_daily_sales(ctx, share)).astype(np.int64)
    book = ctx.open_days(np.arange(ctx.n_days) + 1)
    append, dates = ctx.rows.append, c.dates
    fee_by_month = np.zeros(len(ctx.months), dtype=np.int64)
    for d, g, b in zip(range(ctx.n_days), gross.tolist(), book.tolist(), strict=True):
        if g <= 0 or b < 0:
            continue
        ctx.add_vat(d, g, True)
        fee = g * fee_bps // 10000
        fee_by_month[ctx.month_of_day[d]] += fee
        dt = dates[d]
        ref = f"{merchant_id} {dt.day:02d}{dt.month:02d}"
        for k, (scheme, weight) in enumerate(schemes):
            part = int(g * weight)
            amt = part - part * fee_bps // 10000 if net else part
            who = "AMEX" if scheme == " AMEX" else acquirer + scheme
            append(
                SimTxn(
                    b,
                    30 + k,
                    0,
                    amt,
                    c.batch_in(who, ref),
                    who,
                    "",
                    "",
                    "",
                    "",
                    "batch_in",
                    "income.sales",
                )
            )
    if not net:
        series = ctx.series()
        for mi, b in ctx.monthly(3):
            if mi == 0 or fee_by_month[mi - 1] <= 0:
                continue
            ref = f"FEES {ctx.months[mi - 1].month:02d}/{ctx.months[mi - 1].year}"
            append(
                SimTxn(
                    b,
                    400,
                    0,
                    -int(fee_by_month[mi - 1]),
                    c.direct_debit(acquirer, ref, f"MD{merchant_id}"),
                    acquirer,
                    "",
                    "",
                    "",
                    "",
                    "direct_debit",
                    "cogs.payment_processing_fees",
                    series=series,
                )
            )


def cash_deposits(ctx: Ctx) -> None:
    share = ctx.arch.cash_takings
    if share <= 0:
        return
    cash = _daily_sales(ctx, share)
    every = int(ctx.rng.choice((2, 3, 7)))  # the till is banked every few days
    banked = np.add.reduceat(cash, np.arange(0, ctx.n_days, every))
    branch = f"{ctx.city.title()} {int(ctx.rng.integers(100, 999))}"
    text = ctx.culture.cash_in(branch)
    for w, amount in enumerate(banked.tolist()):
        b = ctx.open_fwd(w * every + every + int(ctx.rng.integers(0, 2)))
        amt = round(amount / 500.0) * 500  # counted notes: round to 5 units
        if b < 0 or amt <= 0:
            continue
        ctx.add_vat(w * every, amt, True)
        ctx.rows.append(
            SimTxn(
                b, ctx.tod(600, 900), 0, amt, text, "", "", "", "", "", "cash_in", "income.sales"
            )
        )


def marketplace(ctx: Ctx) -> None:
    share = ctx.arch.marketplace
    if share <= 0:
        return
    rng, c, code = ctx.rng, ctx.culture, ctx.arch.code
    pool = _PLATFORMS.get(code, _PLATFORMS["retail"])
    if isinstance(pool, dict):
        pool = pool[c.country]
    k = min(len(pool), int(rng.integers(1, 4)))
    chosen = [pool[i] for i in sorted(rng.choice(len(pool), size=k, replace=False).tolist())]
    weights = rng.dirichlet(np.ones(k))
    sales = _daily_sales(ctx, share)
    for j, platform in enumerate(chosen):
        foreign = ctx.arch.foreign_sales and j == 0 and ctx.foreign_ccy != ctx.base
        ccy = ctx.foreign_ccy if foreign else ctx.base
        account = ctx.acc_fx if foreign and ctx.acc_fx >= 0 else 0
        period = _PAYOUT_DAYS.get(platform, 7)
        fee_bps = int(rng.integers(800, 1500))
        offset = int(rng.integers(0, period))
        for w0 in range(offset, ctx.n_days, period):
            gross = float(sales[max(0, w0 - period) : w0].sum()) * float(weights[j])
            if gross <= 0:
                continue
            if not foreign:
                ctx.add_vat(w0, int(gross), True)
            b = ctx.open_fwd(w0 + 2)
            if b < 0:
                continue
            net_base = int(gross * (10000 - fee_bps) / 10000)
            ref = f"PAYOUT {b:05d}{j}"
            text = c.batch_in(platform, ref)
            amt = net_base
            if foreign:
                amt = ctx.fx.convert(net_base, ctx.base, ccy, b)
                if account == 0:  # no currency account: the bank converts at a margin
                    ctx.foreign_receipts += 1
                    ppm = ctx.fx.rate_ppm(ccy, ctx.base, b) * 985 // 1000
                    text += c.fx_note(ccy, f"{amt / 100:.2f}", rate_text(ppm))
                    amt = apply_rate(amt, ppm)
            ctx.rows.append(
                SimTxn(
                    b,
                    ctx.tod(300, 700),
                    account,
                    amt,
                    text,
                    platform,
                    "",
                    "",
                    "",
                    "",
                    "batch_in",
                    "income.marketplace_payout",
                )
            )


def _customer_delays(ctx: Ctx, n: int) -> list[tuple[float, float]]:
    """(mean delay days after due, spread) per customer: punctual, normal or chronic late."""
    out = []
    for _ in range(n):
        u = ctx.rng.random()
        if u < 0.45:
            out.append((-1.0, 2.0))
        elif u < 0.8:
            out.append((6.0, 5.0))
        else:
            out.append((float(ctx.rng.integers(20, 55)), 10.0))
    return out


def invoices(ctx: Ctx, vanish_day: int) -> None:
    """Invoice B2B customers and book their payments; ``vanish_day`` < n_days = one customer
    stops paying from that day on (the biggest, if the business's fate says so)."""
    share = ctx.arch.invoices
    if share <= 0:
        return
    rng, c, a = ctx.rng, ctx.culture, ctx.arch
    n = int(rng.integers(a.customers[0], a.customers[1] + 1))
    trades = _TRADES.get(a.code, ("Trading",))
    customers = []
    for i in range(n):
        foreign = a.foreign_sales and i % 3 == 2 and ctx.foreign_ccy != ctx.base
        country = {"USD": "US", "GBP": "GB", "EUR": "DE"}[ctx.foreign_ccy] if foreign else c.country
        name = company_name(rng, country, trades[int(rng.integers(len(trades)))])
        customers.append((name, iban(rng, country), foreign))
    weights = np.sort(rng.dirichlet(np.ones(n) * 1.5))[::-1]
    delays = _customer_delays(ctx, n)
    terms = [a.terms[int(rng.integers(len(a.terms)))] for _ in range(n)]
    monthly = ctx.revenue_month * share
    prefix, word = _INVOICE_PREFIX[c.country], _INVOICE_WORD[c.country]
    seq = int(rng.integers(1, 400))
    issues: list[tuple[int, int, float]] = []  # (customer, issue_day, base amount minor)
    if a.invoice_style == "retainer":
        dom = 1 if rng.random() < 0.5 else 28
        for mi, b in ctx.monthly(dom, back=dom == 28):
            level = ctx.month_revenue(mi) / ctx.revenue_month
            for i in range(n):
                if rng.random() < 0.08:
                    continue
                issues.append((i, b, monthly * weights[i] * level * rng.lognormal(0, 0.08)))
    elif a.invoice_style == "orders":
        for i in range(n):
            period = int(rng.choice((3, 7, 7, 14, 30)))
            per_order = monthly * weights[i] * period / 30.44
            for d in range(int(rng.integers(0, period)), ctx.n_days, period):
                b = ctx.open_fwd(d)
                if b >= 0:
                    issues.append((i, b, per_order * ctx.activity[d] * rng.lognormal(0, 0.25)))
    else:  # project: deposit, monthly stages, final
        d = int(rng.integers(0, 20))
        while d < ctx.n_days:
            i = int(rng.choice(n, p=weights))
            months = int(rng.integers(1, 6))
            value = monthly * months * rng.lognormal(0, 0.3) * ctx.activity[d]
            stages = [0.25] + [0.65 / months] * months + [0.10]
            for s, frac in enumerate(stages):
                b = ctx.open_fwd(d + s * 30 + (30 if s == len(stages) - 1 else 0))
                if b >= 0:
                    issues.append((i, b, value * frac))
            d += int(30 * months / max(1.0, n / 3) * rng.uniform(0.4, 0.8)) + 5
    issues.sort(key=lambda t: (t[1], t[0]))
    for i, day, amount in issues:
        name, cp_iban, foreign = customers[i]
        seq += 1
        number = f"{prefix}-{ctx.start.year + day // 365}-{seq:04d}"
        ccy = ctx.foreign_ccy if foreign else ctx.base
        account = ctx.acc_fx if foreign and ctx.acc_fx >= 0 else 0
        amt = int(amount)
        if foreign:
            amt = ctx.fx.convert(amt, ctx.base, ccy, day)
        elif not a.vat_exempt and (c.country != "US" or a.sales_tax_us):
            ctx.add_vat(day, amt, True)
        if amt <= 0:
            continue
        due = day + terms[i]
        mean, spread = delays[i]
        pay = due + round(rng.normal(mean, spread))
        paid = None if (i == 0 and pay >= vanish_day) else ctx.open_fwd(max(pay, day + 1))
        paid = None if paid is not None and paid < 0 else paid
        ctx.invoices.append(Invoice(name, number, day, due, amt, ccy, account, paid))
        if paid is None:
            continue
        ref = f"{word} {number}"
        if rng.random() < 0.06:
            ref = typo(ref, rng)
        text = c.credit_in(name, ref, paid, ctx.tod())
        book_amt = amt
        if foreign and account == 0:
            ctx.foreign_receipts += 1
            ppm = ctx.fx.rate_ppm(ccy, ctx.base, paid) * 985 // 1000
            text += c.fx_note(ccy, f"{amt / 100:.2f}", rate_text(ppm))
            book_amt = apply_rate(amt, ppm)
        ctx.rows.append(
            SimTxn(
                paid,
                ctx.tod(),
                account,
                book_amt,
                text,
                name,
                cp_iban,
                "",
                "",
                "",
                "transfer_in",
                "income.sales",
            )
        )


def windfalls(ctx: Ctx) -> None:
    """Rare money in: a grant, an insurance claim, a supplier refund."""
    rng, c = ctx.rng, ctx.culture
    grantors = {
        "GB": "INNOVATE UK GRANT",
        "DE": "KFW ZUSCHUSS",
        "NL": "RVO SUBSIDIE",
        "FR": "BPIFRANCE SUBVENTION",
        "US": "SBA GRANT",
    }
    if rng.random() < 0.12:
        b = ctx.open_fwd(int(rng.integers(0, ctx.hist_days)))
        amt = int(ctx.revenue_month * rng.uniform(0.1, 0.6))
        who = grantors[c.country]
        ctx.rows.append(
            SimTxn(
                b,
                ctx.tod(),
                0,
                amt,
                c.batch_in(who, f"AWARD {b:06d}"),
                who,
                "",
                "",
                "",
                "",
                "batch_in",
                "income.grant_subsidy",
            )
        )
    for d in rng.integers(0, ctx.n_days, size=int(rng.poisson(ctx.n_days / 120))).tolist():
        b = ctx.open_fwd(d)
        if b < 0:
            continue
        amt = int(ctx.revenue_month * rng.uniform(0.002, 0.03))
        kind, cat = ("transfer_in", "income.refund_received")
        who = company_name(rng, c.country)
        if rng.random() < 0.2:
            cat, who = "income.other", "INSURANCE CLAIM"
        ctx.rows.append(
            SimTxn(
                b,
                ctx.tod(),
                0,
                amt,
                c.credit_in(who, f"REFUND {d:05d}", b, 600),
                who,
                "",
                "",
                "",
                "",
                kind,
                cat,
            )
        )
