"""Card spending: employees' purchases at real-looking merchants, SaaS subscriptions, ads, ATM cash.

Each business shops at a few regular merchants per spend group (the same fuel station, the same
cash-and-carry), with MCCs from the curated list in ``synth/data/merchants.json``. Purchases in a
foreign currency are converted by the card scheme at the day's ECB rate; the line keeps the
original ("ORIG USD 12.99 RATE 0.9213") and UK banks add their non-sterling fee line.
"""

from __future__ import annotations

import math

import numpy as np

from ledgerlens.synth.flows.context import Ctx
from ledgerlens.synth.fx import rate_text
from ledgerlens.synth.model import SimTxn
from ledgerlens.synth.parties import load_merchants, load_names

__all__ = ["atm_cash", "card_spend", "card_target", "subscriptions"]

_USE_CATEGORY = {
    "fuel": "opex.vehicle_fuel",
    "office": "opex.office_supplies",
    "meals": "opex.meals_entertainment",
    "hotel": "opex.travel",
    "transport": "opex.travel",
    "hardware": "opex.repairs_maintenance",
    "electronics": "opex.equipment",
    "groceries": "opex.other",
    "postage": "cogs.shipping_logistics",
    "vehicle_repair": "opex.repairs_maintenance",
    "training": "opex.training_education",
    "medical": "cogs.inventory_materials",
    "ads": "opex.marketing_advertising",
}
_OVERRIDES = {
    ("construction", "hardware"): "cogs.inventory_materials",
    ("cafe", "groceries"): "cogs.inventory_materials",
    ("tourism", "groceries"): "cogs.inventory_materials",
}
# name, mcc, monthly price (major units), billing currency ("" = local), per seat
_SAAS = (
    ("GOOGLE *WORKSPACE", "5734", 14.0, "", True),
    ("MICROSOFT*365 BUSINESS", "5734", 12.5, "", True),
    ("SLACK TECHNOLOGIES", "5734", 8.75, "USD", True),
    ("ZOOM.US", "4816", 15.99, "USD", False),
    ("ADOBE *CREATIVE CLOUD", "5734", 62.99, "", False),
    ("DROPBOX*BUSINESS", "5734", 18.0, "USD", True),
    ("CANVA* PRO", "5734", 12.99, "USD", False),
    ("NOTION LABS INC", "5734", 10.0, "USD", True),
    ("ATLASSIAN", "5734", 8.6, "USD", True),
    ("GITHUB, INC.", "5734", 21.0, "USD", True),
    ("AWS EMEA", "4816", 180.0, "USD", False),
    ("HUBSPOT INC", "5734", 90.0, "USD", False),
    ("MAILCHIMP", "5734", 29.99, "USD", False),
    ("FIGMA", "5734", 15.0, "USD", True),
    ("1PASSWORD", "5734", 7.99, "USD", True),
)
_BOOKKEEPING = {
    "GB": ("XERO UK", 33.0),
    "DE": ("LEXWARE OFFICE", 24.9),
    "NL": ("EXACT ONLINE", 29.0),
    "FR": ("PENNYLANE", 49.0),
    "US": ("INTUIT *QBOOKS ONLINE", 38.0),
}


def card_target(ctx: Ctx) -> int:
    """Card lines land on the credit-card account when there is one, else the current account."""
    return ctx.acc_card if ctx.acc_card >= 0 else 0


def _merchants(ctx: Ctx, use: str) -> list[dict[str, object]]:
    cc = ctx.culture.country
    pool = [m for m in load_merchants()["merchants"] if m["use"] == use]
    local = [m for m in pool if m["countries"] == "*" or cc in str(m["countries"]).split()]
    pool = local or pool
    k = min(len(pool), int(ctx.rng.integers(2, 5)))
    return [pool[i] for i in sorted(ctx.rng.choice(len(pool), size=k, replace=False).tolist())]


def _book_card(
    ctx: Ctx,
    acc: int,
    day: int,
    tod: int,
    minor: int,
    ccy: str,
    merchant: str,
    mcc: str,
    card: tuple[str, str, str],
    cat: str,
    *,
    series: str = "",
    anomaly: str = "",
    store: str = "",
    city: str = "",
) -> None:
    """Book one card purchase (``minor`` in ``ccy``), converting foreign amounts."""
    c = ctx.culture
    b = ctx.open_fwd(day + (1 if tod > 1000 else 0))
    if b < 0:
        return
    text = c.card(merchant, store, city or ctx.city, card[1], day, tod)
    amount = minor
    if ccy != ctx.base:
        ppm = ctx.fx.rate_ppm(ccy, ctx.base, day)
        amount = ctx.fx.convert(minor, ccy, ctx.base, day)
        text += c.fx_note(ccy, f"{minor / 100:.2f}", rate_text(ppm))
        if c.country == "GB":
            fee = amount * 275 // 10000
            if fee > 0:
                ctx.rows.append(
                    SimTxn(
                        b,
                        tod,
                        acc,
                        -fee,
                        f"NON-GBP TRANS FEE 2.75% CD {card[1]}",
                        "",
                        "",
                        "",
                        card[0],
                        card[2],
                        "fee",
                        "opex.bank_fees",
                        value_day=day,
                    )
                )
    ctx.add_vat(b, amount, False)
    ctx.rows.append(
        SimTxn(
            b,
            tod,
            acc,
            -amount,
            text,
            merchant,
            "",
            mcc,
            card[0],
            card[2],
            "card",
            cat,
            series=series,
            anomaly=anomaly,
            value_day=day,
        )
    )


def card_spend(ctx: Ctx) -> None:
    a, rng = ctx.arch, ctx.rng
    acc = card_target(ctx)
    scale = min(3.5, 0.8 + 0.15 * ctx.staff)
    cities = load_names()[ctx.culture.country]["cities"]
    for use, per_month in a.card_uses.items():
        merchants = _merchants(ctx, use)
        if not merchants:
            continue
        cat = _OVERRIDES.get((a.code, use), _USE_CATEGORY[use])
        amount_scale = a.card_scale.get(use, 1.0)
        stores = [f"{int(rng.integers(100, 9999))}" for _ in merchants]
        n = int(rng.poisson(per_month * scale * ctx.n_days / 30.44))
        days = np.sort(rng.integers(0, ctx.n_days, size=n))
        days = days[(ctx.dow[days] != 6) | (rng.random(n) < 0.3)] if n else days
        n = len(days)
        which = rng.integers(0, len(merchants), size=n)
        card_ix = rng.integers(0, len(ctx.cards), size=n)
        u = rng.random(n)
        tods = rng.integers(420, 1260, size=n)
        away = rng.random(n) < 0.15
        city_ix = rng.integers(0, len(cities), size=n)
        ads_budget = 0.0
        if use == "ads":
            ads_budget = a.marketing * ctx.revenue_month / max(per_month * scale, 0.5)
        for d, w, ci, uu, t, aw, cy in zip(
            days.tolist(),
            which.tolist(),
            card_ix.tolist(),
            u.tolist(),
            tods.tolist(),
            away.tolist(),
            city_ix.tolist(),
            strict=True,
        ):
            m = merchants[w]
            lo, hi = float(m["lo"]), float(m["hi"])
            if use == "ads":
                major = ads_budget / 100 * ctx.activity[d] * (0.5 + uu)
            else:
                major = math.exp(math.log(lo) + uu * (math.log(hi) - math.log(lo))) * amount_scale
            ccy = str(m.get("currency", "")) or ctx.base
            _book_card(
                ctx,
                acc,
                d,
                t,
                int(major * 100),
                ccy,
                str(m["name"]),
                str(m["mcc"]),
                ctx.cards[ci],
                cat,
                store=stores[w],
                city=cities[cy] if aw else ctx.city,
            )


def subscriptions(ctx: Ctx) -> None:
    rng, c = ctx.rng, ctx.culture
    acc = card_target(ctx)
    k = int(rng.integers(ctx.arch.saas[0], ctx.arch.saas[1] + 1))
    picks = sorted(rng.choice(len(_SAAS), size=min(k, len(_SAAS)), replace=False).tolist())
    tools = [_SAAS[i] for i in picks]
    name, price = _BOOKKEEPING[c.country]
    tools.append((name, "5734", price, "", False))
    if ctx.arch.code in ("retail", "ecommerce_exporter"):
        tools.append(("SHOPIFY* SUBSCRIPTION", "5734", 79.0, "USD", False))
    owner = ctx.cards[0]
    for name, mcc, price, ccy, per_seat in tools:
        seats = max(1, ctx.staff // 2) if per_seat else 1
        bill_ccy = ccy or ctx.base
        minor = int(price * 100 * seats * (1.0 if ccy else c.price_factor))
        dom = int(rng.integers(1, 29))
        rise_at = int(rng.integers(2, max(3, len(ctx.months))))
        rise = 1 + float(rng.choice((0.0, 0.1, 0.15, 0.2, 0.25)))
        series = ctx.series()
        for mi, m in enumerate(ctx.months):
            d = m.day(dom)
            if not 0 <= d < ctx.n_days:
                continue
            amt = int(minor * rise) if mi >= rise_at else minor
            if name == "AWS EMEA":
                amt = int(amt * rng.lognormal(0, 0.2))
            _book_card(
                ctx,
                acc,
                d,
                60 + int(rng.integers(0, 300)),
                amt,
                bill_ccy,
                name,
                mcc,
                owner,
                "opex.software_subscriptions",
                series=series,
                city="INTERNET",
            )


def atm_cash(ctx: Ctx) -> None:
    if ctx.arch.code not in ("cafe", "retail", "tourism", "construction"):
        return
    rng, c = ctx.rng, ctx.culture
    n = int(rng.poisson(2.0 * ctx.n_days / 30.44))
    for d in np.sort(rng.integers(0, ctx.n_days, size=n)).tolist():
        b = ctx.open_fwd(d)
        card = ctx.cards[int(rng.integers(len(ctx.cards)))]
        amt = int(rng.choice((100, 200, 250, 300, 400, 500))) * 100
        if b < 0:
            continue
        ctx.rows.append(
            SimTxn(
                b,
                ctx.tod(),
                0,
                -amt,
                c.cash_out(ctx.city, card[1], d),
                "",
                "",
                "6011",
                card[0],
                card[2],
                "cash_out",
                "transfer.cash",
                value_day=d,
            )
        )
