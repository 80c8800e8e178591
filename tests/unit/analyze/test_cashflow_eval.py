"""Backtest metrics and the known-item / input builders, on numbers worked out by hand."""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import pytest

from ledgerlens.analyze.cashflow import build_input, opening_balances, series_items
from ledgerlens.core.ledger import Account, AccountType, Statement, Transaction
from ledgerlens.enrich.recurring import Cadence, RecurringSeries
from ledgerlens.ml.forecast_eval import (
    MARK_END,
    MARK_START,
    ece,
    mase,
    shortfall_metrics,
    update_doc_block,
)

AS_OF = date(2026, 11, 30)


def test_mase_scales_by_the_weekly_naive_error() -> None:
    history = np.array([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10], float)  # lag-7 error is 7 each step
    actual = np.full(28, 20.0)
    assert mase(actual, np.full(28, 13.0), history) == pytest.approx(1.0)
    assert mase(actual, actual, history) == 0.0
    assert np.isnan(mase(actual, actual, np.ones(20)))  # a flat history has no scale


def test_ece_is_zero_when_frequencies_match_and_large_when_overconfident() -> None:
    p = np.array([0.25] * 4 + [0.75] * 4)
    y = np.array([1, 0, 0, 0, 1, 1, 1, 0])
    assert ece(p, y) == pytest.approx(0.0)
    assert ece(np.ones(4), np.zeros(4)) == pytest.approx(1.0)


def test_shortfall_metrics_count_weeks_two_to_eight_only() -> None:
    weeks = [
        (1, 0.9, 0.9, True, "a", "foreseeable"),  # week 1: outside the 2-8 window
        (2, 0.8, 0.8, True, "a", "foreseeable"),  # hit
        (3, 0.2, 0.2, True, "b", "unforeseeable"),  # miss
        (4, 0.7, 0.7, False, "c", "none"),  # false alarm
        (9, 0.9, 0.9, True, "d", "foreseeable"),  # outside
    ]
    m = shortfall_metrics(weeks)
    assert m["recall_at_0.5"] == 0.5 and m["precision_at_0.5"] == 0.5
    assert m["recall_foreseeable"] == 1.0 and m["recall_unforeseeable"] == 0.0
    # one of the two short weeks in the window comes from a foreseeable gap
    assert m["recall_ceiling"] == 0.5
    assert m["weeks_2_8"] == 3 and m["short_weeks"] == 4
    assert m["median_lead_days"] == 0.0 + np.median([0, 56])


def test_doc_block_is_replaced_in_place(tmp_path) -> None:
    doc = tmp_path / "EVALUATION.md"
    doc.write_text(f"# E\n\nkeep\n{MARK_START}\nold\n{MARK_END}\ntail\n")
    update_doc_block(doc, "new")
    text = doc.read_text()
    assert "old" not in text and "new" in text and text.startswith("# E\n\nkeep") and "tail" in text
    update_doc_block(doc, "newer")
    assert doc.read_text().count(MARK_START) == 1


def _tx(
    i: int, day: date, amount: int, balance: int | None, account: str = "a1", name: str = ""
) -> Transaction:
    return Transaction(
        f"t{i}",
        "b1",
        account,
        day,
        day,
        amount,
        "EUR",
        "x",
        counterparty_name=name,
        balance_after_minor=balance,
    )


def test_opening_balance_is_the_latest_known_balance_plus_later_lines() -> None:
    accounts = [Account("a1", "b1", "IBAN1", "EUR"), Account("a2", "b1", "IBAN2", "EUR")]
    txs = [
        _tx(1, AS_OF - timedelta(days=3), 100, 1_100),
        _tx(2, AS_OF - timedelta(days=1), -50, None),  # no running balance on this line
        _tx(3, AS_OF + timedelta(days=1), -999, 51),  # after the origin: ignored
        _tx(4, AS_OF - timedelta(days=2), 70, None, "a2"),
    ]
    st = Statement("s", "b1", "a2", "EUR", 0, 500, 0, 0, None, AS_OF - timedelta(days=5), "x", "")
    got = opening_balances(accounts, txs, AS_OF, [st])
    assert got["a1"] == (1_050, AS_OF - timedelta(days=3))
    assert got["a2"] == (570, AS_OF - timedelta(days=5))


def test_build_input_removes_explained_lines_from_the_residual() -> None:
    accounts = [Account("a1", "b1", "I", "EUR", AccountType.CURRENT)]
    txs = [_tx(i, AS_OF - timedelta(days=9 - i), -10 * (i + 1), 1_000 - i) for i in range(10)]
    inp = build_input("b1", "EUR", accounts, txs, AS_OF, explained_ids={"t9"})
    acc = inp.accounts[0]
    assert acc.start == AS_OF - timedelta(days=9)
    assert list(acc.residual_minor) == [-10.0 * (i + 1) for i in range(9)] + [0.0]
    assert acc.opening_minor == 991 and acc.operating


def test_recurring_series_are_projected_month_by_month() -> None:
    s = RecurringSeries(
        series_id="r1",
        account_id="a1",
        counterparty="Landlord",
        direction="outflow",
        cadence=Cadence.MONTHLY,
        period_days=30.44,
        member_ids=("t1", "t2"),
        first_date=date(2026, 9, 5),
        last_date=date(2026, 11, 5),
        next_date=date(2026, 12, 5),
        expected_amount_minor=-1_500_00,
        amount_low_minor=-1_500_00,
        amount_high_minor=-1_500_00,
        currency="EUR",
        active=True,
        confidence=0.95,
    )
    items, explained = series_items([s], AS_OF, 91)
    assert [i.due_date for i in items] == [date(2026, 12, 5), date(2027, 1, 5), date(2027, 2, 5)]
    assert explained == {"t1", "t2"}
    assert all(i.amount_minor == -1_500_00 and i.amount_sd_minor == 0 for i in items)
    lapsed = RecurringSeries(**{**{f: getattr(s, f) for f in s.__slots__}, "active": False})
    assert series_items([lapsed], AS_OF, 91)[0] == []
