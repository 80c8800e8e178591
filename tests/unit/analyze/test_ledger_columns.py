"""LedgerColumns: a business's lines read once into columns give the risk score what the
objects give it, so a caller holding the columns skips the object pass."""

from __future__ import annotations

from datetime import timedelta

import numpy as np
import pytest

from ledgerlens.analyze.ledger_columns import LedgerColumns
from ledgerlens.analyze.risk.features import build_features, features_of_columns

from .risk_builders import START, Ledger, steady_business


def _awkward() -> Ledger:
    """Two accounts, a loan by keyword, a customer without a name, a line in USD."""
    led = steady_business(10, growth=0.02, opening_minor=300_000)
    led.add(40, -90_000, name="", text="LOAN PMT 4711")
    led.add(41, 55_000, name="", text="ACME LTD INV 7 PAID")
    led.add(42, -20_000, account="acc2", name="Savings")
    usd = led.add(43, 10_000, name="US client")
    led.lines[-1] = type(usd)(**{**{f: getattr(usd, f) for f in usd.__slots__}, "currency": "USD"})
    return led


def test_features_of_columns_equal_features_of_the_objects() -> None:
    led = _awkward()
    lines = LedgerColumns.of(led.lines)
    cats = {led.lines[5].transaction_id: "financing.loan_repayment"}
    as_of = START + timedelta(days=200)
    both = {"categories": cats, "as_of": as_of}
    for kwargs in ({}, {"categories": cats}, {"as_of": as_of}, both):
        want = build_features(led.lines, **kwargs)
        got = features_of_columns(lines, **kwargs)
        assert got == want
    assert len(lines) == len(led.lines) and lines.business_id == "b1"


def test_take_keeps_every_column_aligned() -> None:
    led = _awkward()
    lines = LedgerColumns.of(led.lines)
    keep = np.arange(len(lines)) % 3 == 0
    part = lines.take(keep)
    assert part.tid == [t.transaction_id for t in led.lines[::3]]
    assert part.text == [t.description for t in led.lines[::3]]
    assert part.amount.tolist() == [t.amount_minor for t in led.lines[::3]]


def test_categories_without_ids_are_refused_rather_than_ignored() -> None:
    lines = LedgerColumns.of(steady_business(6).lines, with_ids=False)
    with pytest.raises(ValueError, match="transaction ids"):
        features_of_columns(lines, categories={"b1_t0": "transfer.internal"})
