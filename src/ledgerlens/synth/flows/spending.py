"""Money out to suppliers, subcontractors, carriers and the fixed overheads of a business.

Supplier payments follow the business's sales with a lag (stock bought for what sells); the
overheads are recurring series (rent, energy with its winter peak, telecom, insurance, the
accountant, bank fees) whose price changes once in a while, as real contracts do.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ledgerlens.synth.flows.context import Ctx
from ledgerlens.synth.model import SimTxn
from ledgerlens.synth.parties import company_name, iban, person_name

__all__ = ["overheads", "subcontractors", "suppliers"]

_SUPPLIER_TRADES = {
    "cafe": ("Coffee Roasters", "Food Service", "Dairy", "Bakery", "Beverages", "Fresh Produce"),
    "retail": ("Wholesale", "Trading", "Distribution", "Imports", "Supplies"),
    "ecommerce_exporter": ("Manufacturing", "Packaging", "Trading", "Textiles"),
    "construction": ("Building Supplies", "Timber", "Concrete", "Electrical", "Plant Hire"),
    "tourism": ("Linen Services", "Catering", "Cleaning", "Food Service"),
    "wholesale": ("Foods", "Manufacturing", "Imports", "Brands", "Packaging"),
    "medical": ("Dental Supplies", "Medical Supplies", "Laboratory"),
    "logistics": ("Parts", "Tyres", "Fleet Services"),
}
# how often each kind of business pays a supplier (fresh food every few days, stock monthly)
_SUPPLY_DAYS = {
    "cafe": (2, 3, 3, 7),
    "tourism": (3, 7, 7, 14),
    "retail": (7, 7, 14, 30),
    "wholesale": (3, 7, 7, 14),
    "construction": (7, 14, 14, 30),
}
_CARRIERS = {
    "GB": ("DHL PARCEL UK", "ROYAL MAIL GROUP", "DPD UK", "UPS LTD"),
    "DE": ("DHL PAKET", "DPD DEUTSCHLAND", "HERMES GERMANY", "UPS DEUTSCHLAND"),
    "NL": ("POSTNL", "DHL PARCEL NL", "DPD NEDERLAND", "UPS NEDERLAND"),
    "FR": ("COLISSIMO", "CHRONOPOST", "DPD FRANCE", "UPS FRANCE"),
    "US": ("FEDEX", "UPS", "USPS", "DHL EXPRESS US"),
}
_OVERHEADS: dict[str, Any] = {
    "energy": {
        "GB": ("OCTOPUS ENERGY", "BRITISH GAS", "EDF ENERGY"),
        "DE": ("VATTENFALL", "E.ON ENERGIE", "STADTWERKE"),
        "NL": ("VATTENFALL", "ENECO", "ESSENT"),
        "FR": ("EDF", "ENGIE", "TOTALENERGIES ELEC"),
        "US": ("DUKE ENERGY", "XCEL ENERGY", "PG&E"),
    },
    "water": {
        "GB": ("THAMES WATER",),
        "DE": ("BERLINER WASSERBETRIEBE",),
        "NL": ("WATERNET",),
        "FR": ("VEOLIA EAU",),
        "US": ("CITY WATER DEPT",),
    },
    "telecom": {
        "GB": ("BT BUSINESS", "VODAFONE UK", "VIRGIN MEDIA BUS"),
        "DE": ("TELEKOM DEUTSCHLAND", "VODAFONE GMBH", "O2 BUSINESS"),
        "NL": ("KPN B.V.", "VODAFONEZIGGO", "T-MOBILE NL"),
        "FR": ("ORANGE", "SFR", "BOUYGUES TELECOM"),
        "US": ("AT&T", "VERIZON WIRELESS", "COMCAST BUSINESS"),
    },
    "insurance": {
        "GB": ("HISCOX", "AXA INSURANCE", "AVIVA"),
        "DE": ("ALLIANZ VERSICHERUNG", "AXA KONZERN", "HDI"),
        "NL": ("CENTRAAL BEHEER", "NATIONALE-NEDERLANDEN", "ALLIANZ NEDERLAND"),
        "FR": ("AXA FRANCE", "MAAF", "MMA IARD"),
        "US": ("NEXT INSURANCE", "THE HARTFORD", "STATE FARM"),
    },
    "accountant": {
        "GB": "Accountants",
        "DE": "Steuerberatung",
        "NL": "Administratiekantoor",
        "FR": "Expertise Comptable",
        "US": "CPA",
    },
}
_BANK_FEE_LABEL = {
    "GB": "SERVICE CHARGES",
    "DE": "Kontoführung",
    "NL": "Zakelijk Betalingsverkeer",
    "FR": "Frais tenue de compte",
    "US": "Monthly service",
}


def _lagged_revenue(ctx: Ctx, lag: int) -> np.ndarray:
    """Revenue-driven spend per day, ``lag`` days after the sales it stocks up for."""
    base = ctx.revenue_month / 30.44 * ctx.activity
    return np.concatenate([np.full(lag, base[:30].mean()), base[: ctx.n_days - lag]])


def suppliers(ctx: Ctx) -> None:
    a, rng, c = ctx.arch, ctx.rng, ctx.culture
    budget_share = a.cogs * (0.75 if a.card_uses.get("groceries", 0) > 5 else 0.9)
    if budget_share <= 0:
        return
    trades = _SUPPLIER_TRADES.get(a.code, ("Supplies",))
    n = int(rng.integers(2, 2 + len(trades)))
    spend = _lagged_revenue(ctx, int(rng.integers(5, 25))) * budget_share
    weights = rng.dirichlet(np.ones(n) * 2)
    for i in range(n):
        name = company_name(rng, c.country, trades[i % len(trades)])
        cp_iban = iban(rng, c.country)
        period = int(rng.choice(_SUPPLY_DAYS.get(a.code, (7, 7, 14, 30))))
        dd = rng.random() < 0.3
        series = ctx.series() if dd else ""
        mandate = f"M{int(rng.integers(10**8, 10**9))}"
        seq = int(rng.integers(1000, 9000))
        start = int(rng.integers(0, period))
        for d in range(start, ctx.n_days, period):
            b = ctx.open_fwd(d)
            amount = int(
                spend[max(0, d - period) : d + 1].sum() * weights[i] * rng.lognormal(0, 0.1)
            )
            if b < 0 or amount <= 0:
                continue
            seq += 1
            ref = f"INV {seq}"
            ctx.add_vat(b, amount, False)
            if dd:
                text = c.direct_debit(name, ref, mandate)
                kind = "direct_debit"
            else:
                text, kind = c.credit_out(name, ref, b, ctx.tod()), "transfer_out"
            ctx.rows.append(
                SimTxn(
                    b,
                    ctx.tod(),
                    0,
                    -amount,
                    text,
                    name,
                    cp_iban,
                    "",
                    "",
                    "",
                    kind,
                    "cogs.inventory_materials",
                    series=series,
                )
            )
    if a.shipping > 0:
        carrier = _CARRIERS[c.country][int(rng.integers(4))]
        series = ctx.series()
        for mi, b in ctx.monthly(int(rng.integers(2, 10))):
            amount = int(ctx.month_revenue(max(mi - 1, 0)) * a.shipping * rng.lognormal(0, 0.1))
            ctx.add_vat(b, amount, False)
            ctx.rows.append(
                SimTxn(
                    b,
                    ctx.tod(),
                    0,
                    -amount,
                    c.direct_debit(carrier, f"ACCOUNT {mi:03d}", f"CR{ctx.index:07d}"),
                    carrier,
                    "",
                    "",
                    "",
                    "",
                    "direct_debit",
                    "cogs.shipping_logistics",
                    series=series,
                )
            )


def subcontractors(ctx: Ctx) -> None:
    a, rng, c = ctx.arch, ctx.rng, ctx.culture
    if a.subcontractors <= 0:
        return
    n = int(rng.integers(1, 5))
    weights = rng.dirichlet(np.ones(n))
    for i in range(n):
        name = person_name(rng, c.country) if rng.random() < 0.6 else company_name(rng, c.country)
        cp_iban = iban(rng, c.country)
        dom = int(rng.integers(1, 28))
        for mi, b in ctx.monthly(dom):
            if rng.random() < 0.15:
                continue
            amount = int(
                ctx.month_revenue(mi) * a.subcontractors * weights[i] * rng.lognormal(0, 0.25)
            )
            ctx.add_vat(b, amount, False)
            ref = f"INV {mi + 1:02d}/{ctx.months[mi].year}"
            ctx.rows.append(
                SimTxn(
                    b,
                    ctx.tod(),
                    0,
                    -amount,
                    c.credit_out(name, ref, b, ctx.tod()),
                    name,
                    cp_iban,
                    "",
                    "",
                    "",
                    "transfer_out",
                    "cogs.subcontractors",
                )
            )


def _recurring(
    ctx: Ctx,
    name: str,
    cp_iban: str,
    amount: int,
    dom: int,
    cat: str,
    kind: str,
    *,
    every: int = 1,
    step_up: float = 0.0,
    seasonal: float = 0.0,
    months: tuple[int, ...] = (),
) -> None:
    """A monthly (or every-n-months) series with one price change and optional winter peak."""
    rng, c = ctx.rng, ctx.culture
    series = ctx.series()
    change = int(rng.integers(3, max(4, len(ctx.months))))
    ref = f"{int(rng.integers(10**6, 10**7))}"
    for mi, b in ctx.monthly(dom):
        m = ctx.months[mi]
        if months and m.month not in months:
            continue
        if not months and mi % every:
            continue
        amt = amount * (1 + step_up) if mi >= change else amount
        if seasonal:
            amt *= 1 + seasonal * np.cos((m.month - 1) / 12 * 2 * np.pi)
        amt = int(amt)
        if kind == "direct_debit":
            text = c.direct_debit(name, ref, f"MD{ref}")
        elif kind == "fee":
            text = c.fee(name, f"{m.month:02d}/{m.year}")
        else:
            text = c.standing_order(name, ref)
        if cat != "opex.bank_fees":
            ctx.add_vat(b, amt, False)
        ctx.rows.append(
            SimTxn(
                b,
                200 + int(rng.integers(0, 300)),
                0,
                -amt,
                text,
                name if kind != "fee" else "",
                cp_iban,
                "",
                "",
                "",
                kind,
                cat,
                series=series,
            )
        )


def overheads(ctx: Ctx) -> None:
    a, rng, c = ctx.arch, ctx.rng, ctx.culture
    rev, cc = ctx.revenue_month, c.country

    def pick(kind: str) -> str:
        opts: list[str] = _OVERHEADS[kind][cc]
        return opts[int(rng.integers(len(opts)))]

    landlord = company_name(rng, cc, "Properties") if rng.random() < 0.7 else person_name(rng, cc)
    rent = int(rev * a.rent_share * rng.uniform(0.7, 1.3))
    if cc == "GB" and rng.random() < 0.4:  # English quarter days, rent in advance
        for mm, dd in ((3, 25), (6, 24), (9, 29), (12, 25)):
            _quarter_rent(ctx, landlord, rent * 3, mm, dd)
    else:
        _recurring(
            ctx,
            landlord,
            iban(rng, cc),
            rent,
            1,
            "opex.rent_lease",
            "standing_order",
            step_up=float(rng.uniform(0.02, 0.05)),
        )
    energy = int(rev * rng.uniform(0.01, 0.04) * (2 if a.code in ("cafe", "tourism") else 1))
    _recurring(
        ctx,
        pick("energy"),
        "",
        energy,
        int(rng.integers(1, 28)),
        "opex.utilities",
        "direct_debit",
        step_up=float(rng.uniform(-0.05, 0.15)),
        seasonal=0.3,
    )
    _recurring(
        ctx,
        pick("water"),
        "",
        int(energy * 0.6),
        15,
        "opex.utilities",
        "direct_debit",
        months=(1, 4, 7, 10),
    )
    _recurring(
        ctx,
        pick("telecom"),
        "",
        int(rng.uniform(60, 260) * 100 * c.price_factor),
        int(rng.integers(1, 28)),
        "opex.telecom_internet",
        "direct_debit",
    )
    ins = int(rev * rng.uniform(0.005, 0.02))
    if rng.random() < 0.3:
        _recurring(
            ctx,
            pick("insurance"),
            "",
            ins * 12,
            int(rng.integers(1, 28)),
            "opex.insurance",
            "direct_debit",
            months=(int(rng.integers(1, 13)),),
            step_up=float(rng.uniform(0.0, 0.1)),
        )
    else:
        _recurring(
            ctx,
            pick("insurance"),
            "",
            ins,
            int(rng.integers(1, 28)),
            "opex.insurance",
            "direct_debit",
            step_up=float(rng.uniform(0.0, 0.1)),
        )
    accountant = company_name(rng, cc, _OVERHEADS["accountant"][cc])
    _recurring(
        ctx,
        accountant,
        iban(rng, cc),
        int(rng.uniform(150, 600) * 100 * c.price_factor),
        int(rng.integers(1, 28)),
        "opex.professional_services",
        "standing_order",
    )
    _recurring(
        ctx,
        _BANK_FEE_LABEL[cc],
        "",
        int(rng.uniform(8, 45) * 100 * c.price_factor),
        1,
        "opex.bank_fees",
        "fee",
        step_up=float(rng.uniform(0.0, 0.2)),
    )


def _quarter_rent(ctx: Ctx, landlord: str, amount: int, month: int, dom: int) -> None:
    c = ctx.culture
    series = f"r_{ctx.business_id}_rentq"
    for m in ctx.months:
        if m.month != month:
            continue
        b = ctx.open_back(m.day(dom))
        if b < 0:
            continue
        ctx.add_vat(b, amount, False)
        ctx.rows.append(
            SimTxn(
                b,
                250,
                0,
                -amount,
                c.standing_order(landlord, "QTR RENT"),
                landlord,
                "",
                "",
                "",
                "",
                "standing_order",
                "opex.rent_lease",
                series=series,
            )
        )
