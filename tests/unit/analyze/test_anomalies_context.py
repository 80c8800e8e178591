"""The scoring context scores a real-time line as the batch detector does (docs/anomalies.md).

Every new line is scored incrementally against the context and, for reference, the batch path
re-judges the whole history plus the lines so far (``detect_anomalies``). Features and rules
must agree exactly; with the model on, the context reads the percentile against the history's
fitted model instead of refitting, so only the model's boost may differ.
"""

from __future__ import annotations

from dataclasses import fields

import numpy as np
import pytest
from tests.unit.analyze.anomaly_builders import Book, ordinary_business

from ledgerlens.analyze.anomalies import ScoringContext, build_features, detect_anomalies
from ledgerlens.analyze.anomalies.fuse import DEFAULT_BUDGET, AnomalyResult
from ledgerlens.core.ledger import Transaction

HISTORY_DAYS = 240


def _new_lines(book: Book) -> list[Transaction]:
    """After the history: ordinary days plus one of each pattern the rules look for."""
    start = len(book.lines)
    rent = "SEPA CT Hausverwaltung Miete"
    d = HISTORY_DAYS
    book.add(d, 120_000, "CARD SETTLEMENT VISA", "VISA")
    book.add(d, -31_000, "SEPA CT Weber Imports KG INV 1", "Weber Imports KG",
             iban="DE00123456789012340")  # fmt: skip
    book.add(d + 1, -31_000, "SEPA CT Weber Imports KG INV 1", "Weber Imports KG",
             iban="DE00123456789012340")  # duplicate payment  # fmt: skip
    book.add(d + 1, -900_000, "SEPA CT Brandneu Consulting", "Brandneu Consulting")  # new payee
    book.add(d + 2, -1_000_000, rent, "Hausverwaltung Meyer")  # 4x the usual rent
    for k in range(5):  # card testing: five tiny charges, one card, one merchant, one day
        book.add(d + 3, -100 - k, "Kartenzahlung SHADY SHOP//Riga/LV", "SHADY SHOP",
                 mcc="5999", card="**** 1111", employee="e1")  # fmt: skip
    for _ in range(2):  # a purchase split under the 500.00 policy limit
        book.add(d + 4, -45_000, "Kartenzahlung MEDIAMARKT//Berlin/DE 12:10", "MEDIAMARKT",
                 mcc="5732", card="**** 2222", employee="e2")  # fmt: skip
    book.add(d + 5, -3_500, "Kartenzahlung ARAL//Hamburg/DE 02:40 Karte", "ARAL", mcc="5541",
             card="**** 2222", employee="e2")  # night, new place  # fmt: skip
    book.add(d + 6, -50_000, "BARGELD GAA", "GAA", mcc="6011", card="**** 1111", employee="e1")
    book.add(d + 6, -70_000, "Umbuchung Tagesgeld", "Own", account="a1")  # internal legs
    book.add(d + 7, 70_000, "Umbuchung Tagesgeld", "Own", account="a2")
    book.add(d + 7, -12_345, "CASINO ROYAL", "CASINO ROYAL", mcc="7995", card="**** 1111",
             employee="e1")  # fmt: skip
    return book.lines[start:]


def _batch(lines: list[Transaction], new_ids: set[str], cats: dict[str, str],
           **kw: object) -> dict[str, AnomalyResult]:  # fmt: skip
    """What the real-time batch path stores: the new lines and alerts in their incidents."""
    report = detect_anomalies(lines, categories=cats, **kw)  # type: ignore[arg-type]
    incidents = {r.incident_id for r in report.results if r.transaction_id in new_ids}
    return {
        r.transaction_id: r
        for r in report.results
        if r.transaction_id in new_ids or (r.is_anomaly and r.incident_id in incidents)
    }


def _assert_same_features(ctx: ScoringContext, seen: list[Transaction], cats: dict[str, str],
                          rows: list[int]) -> None:  # fmt: skip
    batch = build_features(seen, cats)
    refs = {int(r) for name in ("duplicate_of", "burst_first")
            for r in getattr(batch, name)[rows] if r >= 0}  # fmt: skip
    rows = sorted(set(rows) | refs)
    mine = ctx.features_of([seen[i].transaction_id for i in rows])
    for fld in fields(batch):
        b = getattr(batch, fld.name)
        if not isinstance(b, np.ndarray):
            continue
        a = getattr(mine, fld.name)
        if fld.name in ("duplicate_of", "burst_first"):  # row references: compare the ids
            ids = [mine.transaction_ids[int(x)] if x >= 0 else "" for x in a]
            assert ids == [batch.transaction_ids[int(x)] if x >= 0 else "" for x in b[rows]]
            continue
        assert np.array_equal(a, b[rows]), fld.name


def _categories(lines: list[Transaction]) -> dict[str, str]:
    cats = {}
    for t in lines:
        if "Umbuchung" in t.description:
            cats[t.transaction_id] = "transfer.internal"
        elif "STADTWERKE" in t.description:
            cats[t.transaction_id] = "opex.utilities"
        elif t.amount_minor < 0 and not t.card_id:
            cats[t.transaction_id] = "cogs.inventory_materials"
    return cats


@pytest.mark.parametrize("use_model", [False, True])
def test_incremental_scores_equal_batch(use_model: bool) -> None:
    book = ordinary_business(days=HISTORY_DAYS, seed=11)
    history = list(book.lines)
    new = _new_lines(book)
    cats = _categories(book.lines)
    limits = {"**** 2222": 50_000}
    hist_cats = {k: v for k, v in cats.items() if k in {t.transaction_id for t in history}}
    ctx = ScoringContext.build(history, categories=hist_cats, limits=limits, use_model=use_model)
    seen = list(history)
    raised = 0
    for line in new:
        seen.append(line)
        got = ctx.score([line], {line.transaction_id: cats[line.transaction_id]}
                        if line.transaction_id in cats else {})  # fmt: skip
        assert got is not None
        want = _batch(seen, {line.transaction_id}, cats, limits=limits, use_model=use_model)
        mine = {r.transaction_id: r for r in got}
        if not use_model:
            assert mine == want
        else:  # the context reads the history's fitted model: only the model's boost moves,
            # and a line the model alone finds unusual may be kept by one side only (never raised)
            for tid in set(mine) ^ set(want):
                only = mine.get(tid) or want[tid]
                assert only.rule_ids == () and not only.is_anomaly
            for tid in set(mine) & set(want):
                r, w = mine[tid], want[tid]
                assert (r.kind, r.is_anomaly, r.rule_ids, r.incident_id, r.evidence) == (
                    w.kind,
                    w.is_anomaly,
                    w.rule_ids,
                    w.incident_id,
                    w.evidence,
                )
                assert abs(r.score - w.score) <= DEFAULT_BUDGET.model_weight + 1e-9
        raised += sum(r.is_anomaly for r in got)
        # every engineered column of the new line, exactly as the batch computes it
        _assert_same_features(ctx, seen, cats, [len(seen) - 1])
    _assert_same_features(ctx, seen, cats, list(range(len(seen))))  # and of every line now
    assert raised >= 5  # the patterns above do raise alerts: the comparison is not vacuous


def test_duplicate_reference_is_found_incrementally() -> None:
    book = ordinary_business(days=HISTORY_DAYS, seed=3)
    ctx = ScoringContext.build(list(book.lines), use_model=False)
    first = book.add(HISTORY_DAYS, -77_700, "SEPA CT Neu GmbH RE 55", "Neu GmbH")
    second = book.add(HISTORY_DAYS + 1, -77_700, "SEPA CT Neu GmbH RE 55", "Neu GmbH")
    assert ctx.score([first]) is not None
    out = ctx.score([second])
    assert out is not None
    (verdict,) = [r for r in out if r.transaction_id == second.transaction_id]
    assert verdict.kind == "duplicate_payment"
    assert ("earlier payment", first.transaction_id) in verdict.evidence


def test_lines_outside_the_context_ask_for_a_rebuild() -> None:
    book = ordinary_business(days=60, seed=5)
    ctx = ScoringContext.build(list(book.lines), use_model=False)
    early = book.add(-10, -1_000, "SEPA CT Weber", "Weber Imports KG")
    late = book.add(200, -1_000, "SEPA CT Weber", "Weber Imports KG")
    assert ctx.score([early]) is None
    assert ctx.score([late]) is None
    again = ctx.score([book.lines[-3]])  # a line it already holds is not appended twice
    assert again is not None and ctx.n == len(book.lines) - 2


def test_context_holds_one_business() -> None:
    book = ordinary_business(days=30)
    with pytest.raises(ValueError, match="one business"):
        ScoringContext.build([])
    ctx = ScoringContext.build(list(book.lines))
    other = Transaction("x1", "b2", "a1", book.lines[-1].booking_date, None, -1, "EUR", "X")
    with pytest.raises(ValueError, match="another business"):
        ctx.score([other])
