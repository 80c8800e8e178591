"""The scoring context's incremental state stays what a from-scratch computation gives.

``ScoringContext`` keeps per-group sorted values, month totals, sorted outflows, duplicate
chains and the budget's incident ranking up to date line by line instead of recomputing them
over the whole history on every call. These tests drive it through what can make such state
drift — lines booked in the middle of the history, an old line that becomes an internal leg
or is recategorized as a transfer, categories arriving after a build without them, card lines
whose materiality flips as the typical month moves, mixed currencies, a full budget with ties —
and compare every feature with ``build_features`` over everything seen, and every alert
decision with ``fuse.within_budget`` over the context's scores.
"""

from __future__ import annotations

import random
from dataclasses import replace

import numpy as np
from tests.unit.analyze.anomaly_builders import Book, ordinary_business
from tests.unit.analyze.test_anomalies_context import _assert_same_features, _batch

from ledgerlens.analyze.anomalies import ScoringContext
from ledgerlens.analyze.anomalies.context import SortedValues, med_mad, median_sorted
from ledgerlens.analyze.anomalies.fuse import AnomalyResult, incident_candidates, within_budget
from ledgerlens.core.ledger import Transaction

DAYS = 100


def _cats(lines: list[Transaction]) -> dict[str, str]:
    cats = {}
    for t in lines:
        if "Umbuchung" in t.description:
            cats[t.transaction_id] = "transfer.internal"
        elif t.amount_minor < 0 and not t.card_id:
            cats[t.transaction_id] = "cogs.inventory_materials"
    return cats


def _budget_invariant(ctx: ScoringContext) -> None:
    """The incremental ranking raises exactly what ``within_budget`` raises over the scores."""
    want = within_budget(incident_candidates(ctx._scores, ctx.budget.threshold), ctx.n, ctx.budget)
    assert ctx._raised(range(ctx.n)) == want


def _stream(book: Book, rng: random.Random, typical_minor: int) -> list[tuple[Transaction, str]]:
    """New lines (with a category to send, "" for none, "!<id>" to recategorize that old line
    as a transfer) that exercise every piece of incremental state."""
    out: list[tuple[Transaction, str]] = []
    material = int(typical_minor * 0.0051)  # a card line just above 0.5 % of a typical month
    for k in range(110):
        day = rng.randrange(0, DAYS + 20)  # often in the middle of the history
        kind = k % 11
        if kind in (0, 1, 2):  # one long chain of identical counter sales, booked out of order
            out.append((book.add(day, -150, "COUNTER SALE"), ""))
        elif kind == 3:  # …broken now and then by another reference of the same payee/amount
            out.append((book.add(day, -150, "COUNTER SALE REF 9", "COUNTER SALE"), ""))
        elif kind == 4:  # card duplicates whose materiality flips as the typical month moves
            out.append((book.add(day, -material, "Kartenzahlung KIOSK//Berlin/DE", "KIOSK",
                                 mcc="5499", card="**** 3333", employee="e3"), ""))  # fmt: skip
        elif kind == 5:  # big outflows that move the typical month (and the threshold above)
            out.append((book.add(day, -typical_minor // 3, "SEPA CT Gross AG", "Gross AG"),
                        "cogs.inventory_materials"))  # fmt: skip
        elif kind == 6:  # a transfer: the negative leg now, its positive later (old row flips)
            t = book.add(day, -(70_000 + k), "Umbuchung Tagesgeld", "Own", account="a1")
            out.append((t, "transfer.internal" if k % 2 else ""))
            back = book.add(min(day + rng.randrange(0, 4), DAYS + 20), 70_000 + k,
                            "Umbuchung Tagesgeld", "Own", account="a2")  # fmt: skip
            out.append((back, "transfer.internal" if k % 2 else ""))
        elif kind == 7:  # the same payee in another currency (another minor-unit exponent)
            t = book.add(day, -31_000, "SEPA CT Weber Imports KG", "Weber Imports KG",
                         iban="DE00123456789012340")  # fmt: skip
            out.append((_jpy(book, t), ""))
        elif kind == 8:  # an old supplier payment turns out to be a transfer
            old = rng.choice([t for t, _ in out[:-1] if t.amount_minor < 0] or [book.lines[0]])
            out.append((book.add(day, -42_000, "SEPA CT Apex Roasters", "Apex Roasters GmbH"),
                        "!" + old.transaction_id))  # fmt: skip
        elif kind == 9:  # a card line at a new place, at night
            out.append(
                (
                    book.add(
                        day,
                        -3_500,
                        "Kartenzahlung SHELL//Paris/FR 02:40 Karte",
                        "SHELL",
                        mcc="5541",
                        card="**** 2222",
                        employee="e2",
                    ),
                    "",
                )
            )
        else:  # an ordinary sale
            out.append((book.add(day, 90_000, "CARD SETTLEMENT VISA", "VISA"), ""))
    return out


def _jpy(book: Book, t: Transaction) -> Transaction:
    """``t`` in yen (no minor unit), replacing it in the book."""
    j = replace(t, currency="JPY")
    book.lines[book.lines.index(t)] = j
    return j


def test_incremental_state_never_drifts_from_the_batch_features() -> None:
    book = ordinary_business(days=DAYS, seed=13)
    history = list(book.lines)
    probe = ScoringContext.build(history, categories=_cats(history), use_model=False)
    typical = int(probe.typical_month() * 100)
    rng = random.Random(5)
    stream = _stream(book, rng, typical)
    # built WITHOUT categories: the first call that sends one turns "transfer." lines internal
    ctx = ScoringContext.build(history, use_model=False)
    seen = list(history)
    cats: dict[str, str] = {}
    flips = {"leg": 0, "recategorized": 0, "immaterial": 0, "material": 0}
    for t, cat in stream:
        sent: dict[str, str] = {}
        if cat.startswith("!"):
            old = cat[1:]
            sent[old] = cats[old] = "transfer.internal"
            flips["recategorized"] += 1
        elif cat:
            sent[t.transaction_id] = cats[t.transaction_id] = cat
        seen.append(t)
        before = ctx._cols["internal"][: ctx.n].copy()
        got = ctx.score([t], sent)
        assert got is not None
        flips["leg"] += int(np.count_nonzero(ctx._cols["internal"][: len(before)] & ~before))
        if t.card_id and "KIOSK" in t.description:
            share = float(ctx.features_of([t.transaction_id]).month_share[0])
            flips["material" if share >= 0.005 else "immaterial"] += 1
        _assert_same_features(ctx, seen, cats, [len(seen) - 1])
        _budget_invariant(ctx)
        want = _batch(seen, {t.transaction_id}, cats, use_model=False).get(t.transaction_id)
        mine = next((r for r in got if r.transaction_id == t.transaction_id), None)
        assert (mine is None) == (want is None)
        if mine is not None and want is not None:  # the line's own verdict, before the budget
            assert (mine.score, mine.kind, mine.rule_ids, mine.evidence, mine.incident_id) == (
                want.score, want.kind, want.rule_ids, want.evidence, want.incident_id
            )  # fmt: skip
    _assert_same_features(ctx, seen, cats, list(range(len(seen))))
    # the stream did exercise what it is meant to (the comparison is not vacuous)
    assert flips["leg"] >= 5 and flips["recategorized"] >= 5, flips
    assert flips["material"] >= 1 and flips["immaterial"] >= 1, flips
    sale = next(i for i, t in enumerate(seen) if t.description == "COUNTER SALE")
    assert len(ctx._dups[(int(ctx._cols["payee"][sale]), -150)].order) >= 30


def test_budget_full_with_ties_raises_the_earlier_incidents() -> None:
    book = ordinary_business(days=300, seed=21)
    history = list(book.lines)
    ctx = ScoringContext.build(history, use_model=False)
    top = ctx.budget.max_alerts(len(history) + 20)
    assert 3 <= top < 10  # the pairs below overflow the budget
    seen = list(history)
    raised_new: list[bool] = []
    scores = []
    for k in range(10):  # identical duplicate payments: equal scores, one incident per pair
        first = book.add(300 + k, -77_700, f"SEPA CT Neu GmbH RE {k}", "Neu GmbH")
        second = book.add(300 + k + 1, -77_700, f"SEPA CT Neu GmbH RE {k}", "Neu GmbH")
        for t in (first, second):
            seen.append(t)
            got = ctx.score([t])
            assert got is not None
            want = _batch(seen, {t.transaction_id}, {}, use_model=False)
            assert {r.transaction_id: r for r in got} == want
            _budget_invariant(ctx)
        (dup,) = [r for r in got if r.transaction_id == second.transaction_id]
        assert dup.kind == "duplicate_payment"
        raised_new.append(dup.is_anomaly)
        scores.append(dup.score)
    assert len(set(scores)) == 1  # they tie…
    assert raised_new[0] and not raised_new[-1]  # …and the earlier ones keep the budget
    for k in range(5):  # a card-testing burst: its incident is re-ranked with every charge
        t = book.add(311, -100 - k, "Kartenzahlung SHADY SHOP//Riga/LV", "SHADY SHOP",
                     mcc="5999", card="**** 1111", employee="e1")  # fmt: skip
        seen.append(t)
        got = ctx.score([t])
        assert got is not None
        assert {r.transaction_id: r for r in got} == _batch(
            seen, {t.transaction_id}, {}, use_model=False
        )
        _budget_invariant(ctx)
    assert any(r.is_anomaly and r.kind == "card_testing" for r in got)


def test_sorted_state_and_its_medians_match_the_sorting_ones() -> None:
    rng = np.random.default_rng(3)
    for n in (1, 2, 3, 4, 5, 32, 33, 34, 101, 1000):
        for v in (np.round(rng.lognormal(3, 1, n), 2), np.log1p(rng.integers(1, 50, n) * 1.5)):
            v[: n // 3] = v[0]  # ties around the median
            med, mad = med_mad(np.sort(v))
            want = median_sorted(np.sort(v))
            assert (med, mad) == (want, median_sorted(np.sort(np.abs(v - want))))
            assert median_sorted(np.sort(v)) == float(np.median(v))  # the typical month
            s = SortedValues(np.float64)
            for x in v[: n // 2]:
                s.add(float(x), bulk=True)
            s.finalize()
            for x in v[n // 2 :]:
                s.add(float(x))
            assert np.array_equal(s.view(), np.sort(v))
            for x in v[::3]:
                s.remove(float(x))
            assert np.array_equal(s.view(), np.sort(np.delete(v, np.arange(0, n, 3))))


def _score_all(ctx: ScoringContext, seen: list[Transaction], lines: list[Transaction],
               cats: dict[str, str] | None = None) -> None:  # fmt: skip
    for t in lines:
        seen.append(t)
        assert ctx.score([t], cats or {}) is not None
        _budget_invariant(ctx)


def _dup_ids(ctx: ScoringContext, seen: list[Transaction], cats: dict[str, str],
             ids: list[str]) -> list[str]:  # fmt: skip
    """Which earlier line each of ``ids`` duplicates, as the batch computes it ("" for none),
    after checking the context computes the same for every line."""
    _assert_same_features(ctx, seen, cats, list(range(len(seen))))
    f = ctx.features_of([t.transaction_id for t in seen])
    dup = {t: f.transaction_ids[int(d)] if d >= 0 else "" for t, d in zip(
        f.transaction_ids, f.duplicate_of, strict=True)}  # fmt: skip
    return [dup[i] for i in ids]


def test_duplicate_chains_follow_lines_that_stop_being_candidates() -> None:
    book = ordinary_business(days=90, seed=4)
    seen = list(book.lines)
    ctx = ScoringContext.build(seen, use_model=False)  # no categories yet
    # 1. card lines that stop being material (the typical month grows) no longer bridge two
    # transfers of the same payee and amount 8 days apart
    x = int(ctx.typical_month() * 100 * 0.0052) + 1
    n1 = book.add(50, -x, "KIOSK 77", "KIOSK")
    k1 = book.add(53, -x, "KIOSK 77", "KIOSK", mcc="5499", card="**** 4444")
    k2 = book.add(56, -x, "KIOSK 77", "KIOSK", mcc="5499", card="**** 4444")
    n2 = book.add(58, -x, "KIOSK 77", "KIOSK")
    _score_all(ctx, seen, [n1, k1, k2, n2])
    assert _dup_ids(ctx, seen, {}, [n2.transaction_id]) == [n1.transaction_id]
    for month in range(4):  # a much larger typical month: the card lines are immaterial now
        _score_all(ctx, seen, [book.add(30 * month + 5, -int(ctx.typical_month() * 300),
                                        "SEPA CT Gross AG", "Gross AG")])  # fmt: skip
    n3 = book.add(59, -x, "KIOSK 77", "KIOSK")
    _score_all(ctx, seen, [n3])
    assert _dup_ids(ctx, seen, {}, [n2.transaction_id, n3.transaction_id]) == [
        "",
        n2.transaction_id,
    ]
    # 2. stored lines that become internal legs leave the chain: c starts a new one
    a, b, c = (book.add(70 + k, -66_000, "Umbuchung Spar", "Own", account="a1") for k in range(3))
    _score_all(ctx, seen, [a, b, c])
    assert _dup_ids(ctx, seen, {}, [c.transaction_id]) == [a.transaction_id]
    _score_all(ctx, seen, [book.add(67, 66_000, "Umbuchung Spar", "Own", account="a2")])
    d = book.add(73, -66_000, "Umbuchung Spar", "Own", account="a1")
    _score_all(ctx, seen, [d])
    assert _dup_ids(ctx, seen, {}, [c.transaction_id, d.transaction_id]) == [
        "",
        c.transaction_id,
    ]
    # 3. categories arriving after a build without them: money-transfer lines (MCC 4829,
    # "transfer.internal") become internal and leave the chain too
    w1, w2 = (book.add(80 + k, -12_300, "WISE 5", "Wise", mcc="4829") for k in range(2))
    y1 = book.add(82, -12_300, "WISE 5", "Wise")
    _score_all(ctx, seen, [w1, w2, y1])
    assert _dup_ids(ctx, seen, {}, [y1.transaction_id]) == [w1.transaction_id]
    z = book.add(83, -5_000, "SEPA CT Weber Imports KG", "Weber Imports KG")
    cats = {z.transaction_id: "cogs.inventory_materials"}
    _score_all(ctx, seen, [z], cats)
    y2 = book.add(84, -12_300, "WISE 5", "Wise")
    _score_all(ctx, seen, [y2], cats)
    assert _dup_ids(ctx, seen, cats, [y1.transaction_id, y2.transaction_id]) == [
        "",
        y1.transaction_id,
    ]


def _own(r: AnomalyResult) -> tuple:
    """A line's own verdict before the budget decides whether it is raised."""
    return (r.score, r.kind, r.rule_ids, r.evidence, r.incident_id)


def test_several_lines_in_one_call_keep_the_state_too() -> None:
    book = ordinary_business(days=DAYS, seed=17)
    history = list(book.lines)
    typical = int(ScoringContext.build(history, use_model=False).typical_month() * 100)
    stream = [t for t, cat in _stream(book, random.Random(9), typical) if not cat]
    ctx = ScoringContext.build(history, use_model=False)
    seen = list(history)
    compared = 0
    for k in range(0, 56, 7):  # e.g. the lines a refreshed context carries over
        chunk = stream[k : k + 7]
        seen += chunk
        got = ctx.score(chunk)
        assert got is not None
        ids = {t.transaction_id for t in chunk}
        want = {i: r for i, r in _batch(seen, ids, {}, use_model=False).items() if i in ids}
        mine = {r.transaction_id: r for r in got if r.transaction_id in ids}
        assert {i: _own(r) for i, r in mine.items()} == {i: _own(r) for i, r in want.items()}
        compared += len(want)
        _budget_invariant(ctx)
        _assert_same_features(ctx, seen, {}, list(range(len(seen) - len(chunk), len(seen))))
    _assert_same_features(ctx, seen, {}, list(range(len(seen))))
    assert compared >= 5, compared  # the new lines did get verdicts to compare
