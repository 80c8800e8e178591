"""Golden files of every insight kind's message in English and German.

Inputs are fixed by hand (a forecast input whose week of 14 March 2033 is short, anomaly
verdicts, a price step, a tax estimate …), so a change in wording, formatting (Babel) or in
the figures a message cites shows up as a diff against ``tests/golden/messages/<lang>.json``.
Regenerate on purpose with ``LEDGERLENS_UPDATE_GOLDEN=1``.
"""

from __future__ import annotations

import json
import os
from datetime import UTC, date, datetime
from pathlib import Path

import numpy as np
import pytest

from ledgerlens.analyze.anomalies import AnomalyResult
from ledgerlens.analyze.cashflow import (
    AccountSeries,
    CustomerDelay,
    ForecastInput,
    ItemKind,
    KnownItem,
    forecast,
)
from ledgerlens.core.ledger import Transaction
from ledgerlens.enrich.recurring import RecurringSeries
from ledgerlens.enrich.recurring.model import PriceChange
from ledgerlens.explain import events, good_news, insights
from ledgerlens.explain.model import Insight
from ledgerlens.explain.render import renderer
from ledgerlens.explain.tax_calendar import TaxDue

GOLDEN = Path(__file__).parent / "messages"
NOW = datetime(2033, 3, 1, 6, 0, tzinfo=UTC)
BID = "biz-golden"


def shortfall_input() -> ForecastInput:
    """Six months of quiet history; rent and VAT fall in the week of 14 March, Acme pays late."""
    res = np.random.default_rng(7).normal(0, 3000, 183)
    main = AccountSeries("acc-main", "EUR", date(2032, 8, 31), res, 1_200_000, operating=True)
    savings = AccountSeries("acc-sav", "EUR", date(2032, 8, 31), np.zeros(183), 800_000)
    items = (
        KnownItem(
            "rent#0",
            "acc-main",
            date(2033, 3, 15),
            -650_000,
            ItemKind.RECURRING,
            "Hausverwaltung Müller",
            "opex.rent_lease",
            "Hausverwaltung Müller",
            jitter_days=1,
        ),
        KnownItem(
            "tax:vat",
            "acc-main",
            date(2033, 3, 16),
            -900_000,
            ItemKind.TAX,
            "VAT return",
            "tax.vat",
            "",
        ),
        KnownItem(
            "inv:A-1043",
            "acc-main",
            date(2033, 3, 22),
            1_500_000,
            ItemKind.INVOICE,
            "invoice A-1043 from Acme Ltd",
            "income.sales",
            "Acme Ltd",
            probability=0.97,
            jitter_days=4,
        ),
    )
    return ForecastInput(BID, "EUR", date(2033, 3, 1), (main, savings), items, horizon_days=91)


def _tx(tid: str, day: date, amount: int, name: str, **kw: str) -> Transaction:
    return Transaction(tid, BID, "acc-main", day, day, amount, "EUR", name, name, **kw)


def samples(lang: str) -> dict[str, Insight]:
    r = renderer(lang)
    inp = shortfall_input()
    fc = forecast(inp)
    ctx = insights.CashContext(
        inp,
        fc,
        r,
        NOW,
        {"Acme Ltd": CustomerDelay(12.0, 4.0, 5)},
        {"acc-sav": 800_000},
        {"acc-sav": "Savings"},
    )
    out: dict[str, Insight | None] = {"cash_shortfall": insights.cash_shortfall(ctx)}
    txs = {
        t.transaction_id: t
        for t in [
            _tx("t1", date(2033, 2, 20), -1_250_000, "Nordwind Consulting GmbH"),
            _tx("t2", date(2033, 2, 21), -48_900, "Office Direct"),
            _tx("t3", date(2033, 2, 23), -48_900, "Office Direct"),
            _tx("t4", date(2033, 2, 25), -76_797, "SPIELBANK", card_id="card-7", employee_id="e-3"),
        ]
    }
    out["unusual_transaction"] = events.anomaly_insight(
        [
            AnomalyResult(
                "t1",
                0.91,
                True,
                "new_payee_large",
                ("A large first payment.",),
                "rule:anomaly.new_payee_large",
                0.8,
                rule_ids=("anomaly.new_payee_large",),
            )
        ],
        txs,
        r,
        NOW,
    )
    out["duplicate_payment"] = events.anomaly_insight(
        [
            AnomalyResult(
                "t3",
                0.9,
                True,
                "duplicate_payment",
                ("Paid twice.",),
                "rule:anomaly.duplicate_payment",
                0.9,
                (("earlier payment", "t2"),),
                rule_ids=("anomaly.duplicate_payment",),
            )
        ],
        txs,
        r,
        NOW,
    )
    out["card_policy_breach"] = events.anomaly_insight(
        [
            AnomalyResult(
                "t4",
                0.85,
                True,
                "card_misuse",
                ("Casino.",),
                "rule:misuse.personal_merchant",
                0.85,
                rule_ids=("misuse.personal_merchant", "anomaly.unusual_hour"),
            )
        ],
        txs,
        r,
        NOW,
    )
    series = RecurringSeries(
        "s-adobe",
        "acc-main",
        "ADOBE *CREATIVE CLOUD",
        "outflow",
        "monthly",
        30.4,
        ("p1", "p2", "p3"),
        date(2032, 9, 5),
        date(2033, 2, 5),
        date(2033, 3, 5),
        -7_567,
        -7_567,
        -7_567,
        "EUR",
        True,
        0.93,
        (PriceChange(date(2033, 2, 5), "p3", -6_299, -7_567, 20.13),),
    )
    out["subscription_price_rise"] = events.price_rise(BID, series, r, NOW, date(2033, 3, 1))
    out["late_paying_customer"] = events.late_payer(
        BID, "Acme Ltd", CustomerDelay(12.0, 4.0, 5), 1_500_000, "EUR", r, NOW
    )
    tax = TaxDue(
        "DE",
        "ustva_monthly",
        "Umsatzsteuer-Vorauszahlung" if lang == "de" else "VAT advance return",
        "tax.vat",
        date(2033, 2, 1),
        date(2033, 2, 28),
        date(2033, 3, 10),
        date(2033, 3, 10),
        412_345,
        "EUR",
        0.7,
        {"output_vat_minor": 612_345, "input_vat_minor": 200_000},
    )
    out["tax_due"] = events.tax_due(BID, tax, r, NOW)
    out["fx_tip"] = events.fx_tip(
        BID, events.FxTipInput("USD", "EUR", 8_450_000, 1.5, 126_750, 6), r, NOW
    )
    out["product_offer"] = events.product_offer(
        BID,
        events.OfferInput(
            "off-1",
            "Overdraft 10,000 EUR" if lang == "en" else "Dispokredit 10.000 EUR",
            "Your income is steady." if lang == "en" else "Ihre Einnahmen sind stabil.",
            "8.9 % p.a." if lang == "en" else "8,9 % p. a.",
            "rules:offers@2026.12",
            0.8,
            1_000_000,
            "EUR",
        ),
        r,
        NOW,
    )
    out["best_month"] = good_news.best_month(
        BID,
        {
            date(2032, m, 1): v
            for m, v in [(9, 2_000_000), (10, 2_100_000), (11, 1_900_000), (12, 2_050_000)]
        }
        | {date(2033, 1, 1): 1_950_000, date(2033, 2, 1): 2_600_000},
        "EUR",
        r,
        NOW,
    )
    previous = out["cash_shortfall"]
    assert previous is not None
    fc_safe = forecast(
        ForecastInput(BID, "EUR", inp.as_of, inp.accounts, inp.items[2:], horizon_days=91)
    )
    ctx_safe = insights.CashContext(inp, fc_safe, r, NOW, {}, {})
    avoided = good_news.gap_avoided(ctx_safe, [previous])
    out["gap_avoided"] = avoided[0] if avoided else None
    assert all(v is not None for v in out.values()), [k for k, v in out.items() if v is None]
    return out  # type: ignore[return-value]


def _view(i: Insight) -> dict[str, object]:
    return {
        "title": i.title,
        "message": i.message,
        "actions": [{"label": a.label, "effect": a.effect} for a in i.actions],
    }


@pytest.mark.parametrize("lang", ["en", "de"])
def test_messages_match_golden_files(lang: str) -> None:
    got = {k: _view(v) for k, v in sorted(samples(lang).items())}
    path = GOLDEN / f"{lang}.json"
    if os.environ.get("LEDGERLENS_UPDATE_GOLDEN"):
        path.write_text(json.dumps(got, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    want = json.loads(path.read_text(encoding="utf-8"))
    assert got == want


def test_cash_gap_message_reads_like_the_issue() -> None:
    i = samples("en")["cash_shortfall"]
    assert i.message == (
        "Based on the past six months of activity, your balance may fall below zero in the week "
        "of 14 March (probability 94 %). The VAT payment and your rent fall due that week while "
        "invoices from Acme Ltd are usually paid 12 days late."
    )
    kinds = [a.kind for a in i.actions]
    assert kinds == ["schedule_transfer", "move_payment", "view_financing"]
    for a in i.actions:  # every action shows its re-forecast effect, and each one helps
        assert a.effect["probability_after"] < a.effect["probability_before"]
    assert i.chart["points"] and i.chart["currency"] == "EUR"
