"""People: the owner, named employees with their cards, pay cycles, payroll taxes and benefits.

Pay runs follow each culture's habit (US biweekly Fridays, UK 28th or last working day, NL the
25th, DE/FR month end); hourly trades vary with overtime; seasonal businesses hire for summer.
Payroll taxes are paid on each country's statutory day (see ``calendars.payroll_tax_schedule``);
German social contributions are due on the third-last banking day of the month itself.
"""

from __future__ import annotations

import numpy as np

from ledgerlens.synth.calendars import payroll_tax_schedule
from ledgerlens.synth.flows.context import Ctx
from ledgerlens.synth.model import SimTxn
from ledgerlens.synth.parties import iban, masked_card, person_name

__all__ = ["pay_employees", "payroll_taxes", "setup_people"]

_HOURLY = ("cafe", "tourism", "construction", "logistics", "retail")
_BENEFITS = {
    "GB": "NEST PENSIONS",
    "DE": "",
    "NL": "PENSIOENFONDS PGB",
    "FR": "MALAKOFF HUMANIS",
    "US": "BLUE CROSS BLUE SHIELD",
}
_SOCIAL = ("AOK", "TECHNIKER KRANKENKASSE", "BARMER", "DAK-GESUNDHEIT")


def setup_people(ctx: Ctx, owner: str) -> None:
    """Employees (id, name, monthly net pay minor, IBAN) and the cards they carry."""
    rng, c, a = ctx.rng, ctx.culture, ctx.arch
    bid = ctx.business_id
    lo, hi = a.salary_eur
    for k in range(1, ctx.staff + 1):
        net = int(rng.uniform(lo, hi) * 100 * c.price_factor)
        ctx.employees.append(
            (f"e_{bid}_{k:02d}", person_name(rng, c.country), net, iban(rng, c.country))
        )
    card_id, last4 = masked_card(rng)
    ctx.cards.append((card_id, last4, f"e_{bid}_00"))
    n_cards = min(len(ctx.employees), int(rng.integers(0, 4)))
    for emp in ctx.employees[:n_cards]:
        card_id, last4 = masked_card(rng)
        ctx.cards.append((card_id, last4, emp[0]))
    del owner  # the owner is paid by drawings, not payroll


def _pay_days(ctx: Ctx, biweekly: bool) -> list[tuple[int, int]]:
    """(month index, banking day) of each pay run."""
    if biweekly:
        first_friday = (4 - int(ctx.dow[0])) % 7 + 7 * int(ctx.rng.integers(0, 2))
        out = []
        for d in range(first_friday, ctx.n_days, 14):
            b = ctx.open_back(d)
            if b >= 0:
                out.append((int(ctx.month_of_day[d]), b))
        return out
    country = ctx.culture.country
    if country == "GB":
        return ctx.monthly(28 if ctx.rng.random() < 0.5 else 31, back=True)
    if country == "NL":
        return ctx.monthly(25, back=True)
    return ctx.monthly(31, back=True)


def pay_employees(ctx: Ctx) -> None:
    rng, c, a = ctx.rng, ctx.culture, ctx.arch
    biweekly = (c.country == "US" and rng.random() < 0.85) or (
        c.country == "GB" and a.code in _HOURLY and rng.random() < 0.25
    )
    runs = _pay_days(ctx, biweekly)
    n_months = len(ctx.months)
    ctx.payroll_by_month = np.zeros(n_months, dtype=np.int64)
    staff = list(ctx.employees)
    extra = []
    if a.code == "tourism":  # summer hires
        for k in range(int(rng.integers(2, 6))):
            net = int(rng.uniform(*a.salary_eur) * 100 * c.price_factor * 0.8)
            extra.append(
                (
                    f"e_{ctx.business_id}_s{k}",
                    person_name(rng, c.country),
                    net,
                    iban(rng, c.country),
                )
            )
    leaver = int(rng.integers(0, len(staff))) if staff and rng.random() < 0.4 else -1
    leave_month = int(rng.integers(2, n_months + 1))
    hourly = a.code in _HOURLY
    factor = 12 / 26 if biweekly else 1.0
    word = (
        "SALARY"
        if c.country in ("GB", "US")
        else {"DE": "Lohn", "NL": "Salaris", "FR": "SALAIRE"}[c.country]
    )
    series = {e[0]: ctx.series() for e in staff + extra}
    for mi, b in runs:
        m = ctx.months[mi]
        raise_ = 1.0 + 0.03 * ((mi + (12 - m.month)) // 12) if mi else 1.0
        active = [e for k, e in enumerate(staff) if not (k == leaver and mi >= leave_month)]
        if 5 <= m.month <= 9:
            active += extra
        for emp_id, name, net, emp_iban in active:
            amt = net * factor * raise_
            if hourly:
                amt *= rng.uniform(0.85, 1.15)
            amt = int(amt)
            ctx.payroll_by_month[mi] += amt
            ref = f"{word} {m.month:02d}/{m.year}"
            ctx.rows.append(
                SimTxn(
                    b,
                    480,
                    0,
                    -amt,
                    c.salary(name, ref),
                    name,
                    emp_iban,
                    "",
                    "",
                    emp_id,
                    "salary",
                    "opex.payroll",
                    series=series[emp_id],
                )
            )


def payroll_taxes(ctx: Ctx) -> None:
    """Withheld tax + contributions on each country's day, from the months' payroll."""
    if ctx.payroll_by_month is None or not ctx.payroll_by_month.any():
        return
    rng, c = ctx.rng, ctx.culture
    first, last = ctx.start, c.dates[ctx.n_days - 1]
    ym = {(m.year, m.month): i for i, m in enumerate(ctx.months)}
    avg = int(ctx.payroll_by_month[: max(1, len(ctx.months) - 1)].mean())
    rate = c.payroll_tax_bps / 10000
    who = c.tax_authority("payroll")
    series = ctx.series()
    share = 0.4 if c.country == "DE" else 1.0  # DE: Lohnsteuer here, social security below
    for due in payroll_tax_schedule(c.country, first, last):
        mi = ym.get((due.period_start.year, due.period_start.month))
        base = int(ctx.payroll_by_month[mi]) if mi is not None else avg
        amt = int(base * rate * share)
        d = ctx.index_of(due.due)
        b = ctx.open_back(d) if c.payroll_roll_back else ctx.open_fwd(d)
        if b < 0 or amt <= 0:
            continue
        ref = f"PAYROLL TAX {due.period_start.month:02d}/{due.period_start.year}"
        kind = "direct_debit" if c.country == "DE" else "transfer_out"
        text = (
            c.direct_debit(who, ref, f"LSt{ctx.index:06d}")
            if kind == "direct_debit"
            else c.credit_out(who, ref, b, 600)
        )
        ctx.rows.append(
            SimTxn(
                b,
                600,
                0,
                -amt,
                text,
                who,
                "",
                "",
                "",
                "",
                kind,
                "opex.payroll_taxes_benefits",
                series=series,
            )
        )
    benefits = _BENEFITS[c.country]
    if c.country == "DE":
        benefits = _SOCIAL[int(rng.integers(len(_SOCIAL)))]
    b_series = ctx.series()
    for mi, m in enumerate(ctx.months):
        # DE social security: third-last banking day of the month itself
        end = min(m.first + m.length - 1, ctx.n_days - 1)
        if end < 0 or m.first + m.length - 1 >= ctx.n_days:
            continue
        b = ctx.open_back(end)
        if c.country == "DE":
            for _ in range(2):
                b = ctx.open_back(b - 1)
            amt = int(ctx.payroll_by_month[mi] * rate * 0.6)
        else:
            amt = int(ctx.payroll_by_month[mi] * 0.06)
        if b < 0 or amt <= 0:
            continue
        ref = (
            f"BEITRAG {m.month:02d}/{m.year}"
            if c.country == "DE"
            else f"CONTRIB {m.month:02d}/{m.year}"
        )
        ctx.rows.append(
            SimTxn(
                b,
                500,
                0,
                -amt,
                c.direct_debit(benefits, ref, f"B{ctx.index:07d}"),
                benefits,
                "",
                "",
                "",
                "",
                "direct_debit",
                "opex.payroll_taxes_benefits",
                series=b_series,
            )
        )
