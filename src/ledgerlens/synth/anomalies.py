"""Injected anomalies with their kind, so that detectors can be trained and judged honestly.

Kinds: a supplier paid twice (sometimes refunded weeks later), a recurring bill that spikes, a
large payment to a never-seen payee, an employee card used at a casino or luxury store at night,
and a card-testing burst (many tiny online charges within minutes). Only the anomalous lines
carry ``anomaly``; a refund of a duplicate is a normal ``income.refund_received`` line.
"""

from __future__ import annotations

from ledgerlens.synth.flows.cards import card_target
from ledgerlens.synth.flows.context import Ctx
from ledgerlens.synth.model import SimTxn
from ledgerlens.synth.parties import company_name, iban, load_merchants

__all__ = ["ANOMALY_KINDS", "inject_anomalies"]

ANOMALY_KINDS = (
    "duplicate_payment",
    "amount_spike",
    "new_payee_large",
    "card_misuse",
    "card_testing",
)
_SPIKE_CATS = (
    "opex.utilities",
    "opex.telecom_internet",
    "opex.software_subscriptions",
    "cogs.shipping_logistics",
    "opex.insurance",
)


def inject_anomalies(ctx: Ctx) -> None:
    rng = ctx.rng
    n = int(rng.poisson(1.8))
    for _ in range(n):
        kind = ANOMALY_KINDS[int(rng.integers(len(ANOMALY_KINDS)))]
        {
            "duplicate_payment": _duplicate,
            "amount_spike": _spike,
            "new_payee_large": _new_payee,
            "card_misuse": _misuse,
            "card_testing": _card_testing,
        }[kind](ctx)


def _history_rows(ctx: Ctx, pred: object) -> list[int]:
    limit = ctx.hist_days - 7
    return [i for i, r in enumerate(ctx.rows) if 14 <= r.day < limit and pred(r)]  # type: ignore[operator]


def _duplicate(ctx: Ctx) -> None:
    cands = _history_rows(ctx, lambda r: r.kind == "transfer_out" and r.category.startswith("cogs"))
    if not cands:
        return
    r = ctx.rows[cands[int(ctx.rng.integers(len(cands)))]]
    day = ctx.open_fwd(r.day + int(ctx.rng.integers(0, 3)))
    ctx.rows.append(r._replace(day=day, tod=r.tod + 7, anomaly="duplicate_payment", series=""))
    if ctx.rng.random() < 0.5:
        back = ctx.open_fwd(day + int(ctx.rng.integers(10, 35)))
        if back >= 0:
            ctx.rows.append(
                SimTxn(
                    back,
                    600,
                    0,
                    -r.amount_minor,
                    ctx.culture.credit_in(r.counterparty_name, "REFUND DUPLICATE", back, 600),
                    r.counterparty_name,
                    r.counterparty_iban,
                    "",
                    "",
                    "",
                    "transfer_in",
                    "income.refund_received",
                )
            )


def _spike(ctx: Ctx) -> None:
    cands = _history_rows(ctx, lambda r: r.series != "" and r.category in _SPIKE_CATS)
    if not cands:
        return
    i = cands[int(ctx.rng.integers(len(cands)))]
    r = ctx.rows[i]
    factor = float(ctx.rng.uniform(3.0, 8.0))
    ctx.rows[i] = r._replace(amount_minor=int(r.amount_minor * factor), anomaly="amount_spike")


def _new_payee(ctx: Ctx) -> None:
    rng, c = ctx.rng, ctx.culture
    day = ctx.open_fwd(int(rng.integers(30, ctx.hist_days - 7)))
    name = company_name(rng, c.country, "Consulting")
    amt = int(ctx.revenue_month * rng.uniform(0.3, 1.0))
    ref = f"INV {int(rng.integers(100, 999))}"
    ctx.rows.append(
        SimTxn(
            day,
            ctx.tod(),
            0,
            -amt,
            c.credit_out(name, ref, day, 700),
            name,
            iban(rng, c.country),
            "",
            "",
            "",
            "transfer_out",
            "opex.other",
            anomaly="new_payee_large",
        )
    )


def _employee_card(ctx: Ctx) -> tuple[str, str, str]:
    staff_cards = ctx.cards[1:] or ctx.cards
    return staff_cards[int(ctx.rng.integers(len(staff_cards)))]


def _misuse(ctx: Ctx) -> None:
    rng, c = ctx.rng, ctx.culture
    pool = [
        m
        for m in load_merchants()["misuse"]
        if m["countries"] == "*" or c.country in m["countries"].split()
    ]
    m = pool[int(rng.integers(len(pool)))]
    day = int(rng.integers(30, ctx.hist_days - 7))
    day += (5 - int(ctx.dow[day])) % 7  # a Saturday
    if day >= ctx.hist_days - 3:
        return
    tod = int(rng.integers(1320, 1439))
    card = _employee_card(ctx)
    amt = int(rng.uniform(m["lo"], m["hi"]) * 100)
    b = ctx.open_fwd(day + 1)
    acc = card_target(ctx)
    ctx.rows.append(
        SimTxn(
            b,
            tod,
            acc,
            -amt,
            c.card(m["name"], "", ctx.city, card[1], day, tod),
            m["name"],
            "",
            m["mcc"],
            card[0],
            card[2],
            "card",
            "opex.other",
            anomaly="card_misuse",
            value_day=day,
        )
    )


def _card_testing(ctx: Ctx) -> None:
    rng, c = ctx.rng, ctx.culture
    names = load_merchants()["card_testing"]
    name = names[int(rng.integers(len(names)))]
    day = int(rng.integers(30, ctx.hist_days - 7))
    b = ctx.open_fwd(day + 1)
    card = ctx.cards[int(rng.integers(len(ctx.cards)))]
    acc = card_target(ctx)
    tod = int(rng.integers(60, 300))
    for k in range(int(rng.integers(5, 13))):
        amt = int(rng.integers(50, 300))
        ctx.rows.append(
            SimTxn(
                b,
                tod + k,
                acc,
                -amt,
                c.card(name, "", "INTERNET", card[1], day, tod + k),
                name,
                "",
                "5816",
                card[0],
                card[2],
                "card",
                "opex.other",
                anomaly="card_testing",
                value_day=day,
            )
        )
