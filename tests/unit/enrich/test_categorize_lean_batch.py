"""Up to ``LEAN_ROWS`` lines go through the categorizer's lean path (``score_one`` per row, no
sklearn call); a grouped real-time write holds a handful of lines, so that path now decides most
real-time categories. It must decide exactly as the sklearn batch path does."""

from __future__ import annotations

from typing import Any

import pytest
from tests.unit.enrich.conftest import make_tx

from ledgerlens.core.ledger import Transaction
from ledgerlens.enrich.categorize import Categorizer
from ledgerlens.enrich.categorize.features import business_contexts, business_profiles
from ledgerlens.enrich.categorize.service import LEAN_ROWS

# lines no rule decides (the model does), of several kinds, with amounts in minor units
_POOL = [
    ("SHELL 0231 LEICES CD 1417 14JAN24", -6512, {"mcc": "5541", "currency": "GBP"}),
    ("Kartenzahlung girocard ADOBE *CREATIVE CLOUD//Internet/DE 26.07.2026", -5999,
     {"mcc": "5734"}),
    ("Naam: VATTENFALL Omschrijving: Termijnbedrag 03/2026 Machtiging ID: M1", -41230,
     {"counterparty_name": "VATTENFALL"}),
    ("VIR SEPA RECU /DE EBAY /MOTIF PAYOUT 000590", 90000, {"counterparty_name": "EBAY"}),
    ("Bürobedarf Müller  GmbH   Łódź", -1234, {}),
    ("CB SHELL 02/04 NANTES CARTE X2834", -5000, {"mcc": "5541"}),
    ("STRIPE PAYMENTS UK LTD PAYOUT", 154300, {"counterparty_name": "STRIPE"}),
    ("TESCO STORES 3344 LONDON", -2350, {"mcc": "5411", "currency": "GBP"}),
    ("ZZZZZZ QQQQ", -100, {}),
    ("AMAZON WEB SERVICES EMEA", -8812, {"counterparty_name": "AWS EMEA SARL"}),
    ("PRET A MANGER 0044", -745, {"mcc": "5812", "currency": "GBP"}),
    ("Überweisung Miete Büro März", -120000, {"counterparty_name": "Hausverwaltung Schmidt"}),
]  # fmt: skip


def _pool() -> list[Transaction]:
    return [make_tx(i, d, amount, **extra) for i, (d, amount, extra) in enumerate(_POOL)]


def _categorize(categorizer: Categorizer, txs: list[Transaction], ctx: dict[str, Any]) -> list[Any]:
    return categorizer.categorize(txs, profiles=ctx["profiles"], contexts=ctx["contexts"])


@pytest.fixture
def batch(categorizer: Categorizer) -> dict[str, Any]:
    """The pool, the stored-like profile and context both runs share (so the features of a
    line do not depend on what else is in its batch), and the pool's sklearn-path results."""
    txs = _pool()
    ctx = {"profiles": business_profiles(txs), "contexts": business_contexts(txs)}
    results = _categorize(categorizer, txs, ctx)
    assert len(txs) > LEAN_ROWS
    # every line is decided by the model (none by a rule), so the whole pool is one batch
    assert {r.source for r in results} == {categorizer.source}
    return {"txs": txs, "ctx": ctx, "results": {r.transaction_id: r for r in results}}


@pytest.mark.parametrize("n", range(2, LEAN_ROWS + 1))
def test_a_lean_batch_decides_as_the_sklearn_batch_does(
    categorizer: Categorizer, batch: dict[str, Any], n: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    txs = batch["txs"]
    picked = [txs[(k * 5) % len(txs)] for k in range(n)]  # a spread, not always the first
    assert len({t.transaction_id for t in picked}) == n

    def no_sklearn(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError(f"{n} rows must take the lean path")

    monkeypatch.setattr(categorizer.model, "score_rows", no_sklearn)
    lean = _categorize(categorizer, picked, batch["ctx"])
    monkeypatch.undo()

    assert [r.transaction_id for r in lean] == [t.transaction_id for t in picked]
    for got in lean:
        want = batch["results"][got.transaction_id]
        assert got.category == want.category, got.transaction_id
        assert got.confidence == pytest.approx(want.confidence, abs=1e-4), got.transaction_id
        assert got.source == want.source and got.abstained == want.abstained
        assert got.reasons == want.reasons, got.transaction_id


def test_the_pool_decides_categories_and_abstentions_both(batch: dict[str, Any]) -> None:
    """The comparison above covers real decisions: several categories, confident lines."""
    results = batch["results"].values()
    assert len({r.category for r in results if r.category}) >= 4
    assert any(r.confidence > 0.5 for r in results)


def test_more_than_lean_rows_take_the_sklearn_path(
    categorizer: Categorizer, batch: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    def no_lean(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("a batch above LEAN_ROWS must go through sklearn")

    monkeypatch.setattr(categorizer.model, "score_one", no_lean)
    txs = batch["txs"][: LEAN_ROWS + 1]
    results = _categorize(categorizer, txs, batch["ctx"])
    assert [r.category for r in results] == [
        batch["results"][t.transaction_id].category for t in txs
    ]
