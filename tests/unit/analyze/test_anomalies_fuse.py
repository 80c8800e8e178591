"""Fusion, budget, feedback and the model: one score, at most 1 %, "expected" is learned."""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
import pytest

import ledgerlens.analyze.anomalies as anomalies
from ledgerlens.analyze.anomalies import (
    AlertBudget,
    ExpectedFeedback,
    InMemoryFeedbackStore,
    TailOutlierDetector,
    build_features,
    detect_all,
    detect_anomalies,
    fuse_scores,
    pattern_key,
)
from ledgerlens.analyze.anomalies.rules import RuleHit

from .anomaly_builders import ordinary_business

NOW = datetime(2026, 12, 1, tzinfo=UTC)


def _with_duplicates(n: int):  # type: ignore[no-untyped-def]
    book = ordinary_business()
    dups = []
    for k in range(n):
        name = f"Supplier {chr(65 + k)} GmbH"
        for day in (20, 80):  # known payee, so only the duplicate is unusual
            book.add(day + k, -100_000 - k, f"SEPA CT {name} INV {day}", name)
        book.add(150 + 3 * k, -731_400 - k, f"SEPA CT {name} INV 77{k}", name)
        dups.append(book.add(151 + 3 * k, -731_400 - k, f"SEPA CT {name} INV 77{k}", name))
    return book, dups


def test_public_surface_is_curated() -> None:
    for name in anomalies.__all__:
        assert hasattr(anomalies, name) and not name.startswith("_")


def test_budget_caps_alerts_at_one_percent_best_first() -> None:
    book, dups = _with_duplicates(12)
    report = detect_anomalies(book.lines)
    cap = len(book.lines) // 100
    assert report.max_alerts == cap
    assert len({a.incident_id for a in report.alerts}) == cap
    scored_dups = [r for r in report.results if r.kind == "duplicate_payment"]
    assert len(scored_dups) == 12  # all scored and explained, only the budget is raised
    wide = detect_anomalies(book.lines, budget=AlertBudget(rate=0.05))
    assert {a.transaction_id for a in wide.alerts} >= {d.transaction_id for d in dups}


def test_incident_counts_once_against_the_budget() -> None:
    book = ordinary_business(days=120)  # ~ 300 lines: a budget of 3 alerts
    for k in range(8):
        book.add(60, -(70 + k), "DIGI-STORE24", "DIGI-STORE24", mcc="5816", card="**** 2222")
    report = detect_anomalies(book.lines)
    assert report.max_alerts < 8
    assert len(report.alerts) == 8 and len({a.incident_id for a in report.alerts}) == 1


def test_model_alone_never_raises_but_adds_a_reason() -> None:
    book = ordinary_business()
    f = build_features(book.lines)
    pct = np.zeros(f.n)
    pct[10] = 1.0
    contrib = np.zeros((f.n, 11))
    contrib[10, 0] = 5.0
    results = fuse_scores(f, [], pct, contrib)
    assert len(results) == 1 and not results[0].is_anomaly
    assert results[0].score == pytest.approx(0.3)
    assert results[0].source.startswith("model:anomaly-ecod@")
    assert "Statistically unusual" in results[0].reasons[0]
    hit = RuleHit(10, "anomaly.x", "duplicate_payment", 0.45, "weak")
    boosted = fuse_scores(f, [hit], pct, contrib)[0]
    assert boosted.score > 0.5 and not boosted.is_anomaly  # rules must reach the threshold
    strong = fuse_scores(f, [RuleHit(10, "anomaly.x", "duplicate_payment", 0.6, "x")], pct, contrib)
    assert strong[0].is_anomaly and strong[0].score > 0.6


def test_expected_feedback_suppresses_similar_alerts_only() -> None:
    book, dups = _with_duplicates(2)
    before = detect_anomalies(book.lines).by_transaction()
    a, b = (before[d.transaction_id] for d in dups)
    assert a.is_anomaly and b.is_anomaly
    store = InMemoryFeedbackStore()
    f = build_features(book.lines)
    key = f.payee_keys[int(f.payee[book.lines.index(dups[0])])]
    assert a.feedback_key == pattern_key(a.kind, key) != b.feedback_key
    store.add(ExpectedFeedback("b1", a.transaction_id, a.kind, a.feedback_key, 731_400, NOW))
    store.add(ExpectedFeedback("other", "t", a.kind, pattern_key(a.kind, key), 731_400, NOW))
    assert len(store.for_business("b1")) == 1
    after = detect_anomalies(book.lines, feedback=store.for_business("b1")).by_transaction()
    assert not after[a.transaction_id].is_anomaly
    assert after[a.transaction_id].suppressed_by == a.transaction_id
    assert after[a.transaction_id].score < a.score
    assert after[b.transaction_id].is_anomaly  # another payee: still raised
    # far beyond what was confirmed: raised again
    book.add(250, -9_000_000, "SEPA CT Supplier A GmbH INV 999", "Supplier A GmbH")
    book.add(251, -9_000_000, "SEPA CT Supplier A GmbH INV 999", "Supplier A GmbH")
    again = detect_anomalies(book.lines, feedback=store.for_business("b1"))
    assert any(r.kind == "duplicate_payment" and r.is_anomaly and r.suppressed_by == ""
               for r in again.results)  # fmt: skip


def test_tolerance_grows_with_confirmations() -> None:
    fb = [ExpectedFeedback("b1", f"t{k}", "amount_spike", pattern_key("amount_spike", "p"),
                           1000, NOW) for k in range(3)]  # fmt: skip
    once = anomalies.ExpectedPatterns.learn(fb[:1])
    thrice = anomalies.ExpectedPatterns.learn(fb)
    assert once.match("amount_spike", "p", 1500) and not once.match("amount_spike", "p", 1700)
    assert thrice.match("amount_spike", "p", 1900)
    assert not thrice.match("amount_spike", "p", 3100)
    assert not thrice.match("duplicate_payment", "p", 100)


def test_detect_all_scores_each_business_alone() -> None:
    book, _ = _with_duplicates(1)
    other = [type(t)(**{**{s: getattr(t, s) for s in t.__slots__}, "business_id": "b2",
                        "transaction_id": "x" + t.transaction_id}) for t in book.lines]  # fmt: skip
    reports = list(detect_all(book.lines + other))
    assert [r.business_id for r in reports] == ["b1", "b2"]
    assert len(reports[0].alerts) == len(reports[1].alerts) >= 1
    with pytest.raises(ValueError):
        detect_anomalies(book.lines + other)


def test_tail_detector_follows_the_estimator_contract() -> None:
    rng = np.random.default_rng(0)
    X = rng.normal(size=(500, 3))
    X[7] = [8.0, -8.0, 8.0]
    model = TailOutlierDetector(contamination=0.02)
    assert model.fit(X) is model
    assert model.get_params() == {"contamination": 0.02}
    assert model.set_params(contamination=0.05).contamination == 0.05
    with pytest.raises(ValueError):
        model.set_params(colour=1)
    scores = model.score_samples(X)
    assert int(np.argmin(scores)) == 7
    assert model.predict(X)[7] == -1 and (model.predict(X) == 1).mean() > 0.9
    pct = model.anomaly_score(X)
    assert pct[7] == pct.max() and pct.min() >= 0 and pct.max() <= 1
    assert np.allclose(
        TailOutlierDetector().fit_anomaly_score(X), TailOutlierDetector().fit(X).anomaly_score(X)
    )
    with pytest.raises(ValueError):
        TailOutlierDetector().fit(np.zeros((0, 2)))
