"""Layered anomaly detection for one business, and for a batch of many.

    report = detect_anomalies(transactions)                   # one business
    for report in detect_all(transactions): ...              # lines of many businesses

Layers: engineered features (``features``) → rules (``rules``) and employee-card misuse
(``misuse``) → the ECOD model on the features (``model``) → one fused score with reasons and the
alert budget, with the owner's "expected" feedback applied (``fuse``, ``feedback``).
Everything is pure and per business: one tenant's habits never judge another's.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

from ledgerlens.analyze.anomalies.features import (
    DEFAULT_CONFIG,
    AnomalyConfig,
    AnomalyFeatures,
    build_features,
    model_matrix,
)
from ledgerlens.analyze.anomalies.feedback import ExpectedFeedback, ExpectedPatterns
from ledgerlens.analyze.anomalies.fuse import (
    DEFAULT_BUDGET,
    AlertBudget,
    AnomalyResult,
    fuse_scores,
)
from ledgerlens.analyze.anomalies.misuse import detect_misuse
from ledgerlens.analyze.anomalies.model import TailOutlierDetector
from ledgerlens.analyze.anomalies.rules import run_rules
from ledgerlens.core.ledger import Transaction

__all__ = ["MIN_MODEL_LINES", "AnomalyReport", "detect_all", "detect_anomalies"]

MIN_MODEL_LINES = 50  # below this the empirical tails say nothing; rules only


@dataclass(frozen=True, slots=True)
class AnomalyReport:
    """One business's verdicts: results for lines with evidence; the rest scored 0."""

    business_id: str
    n_transactions: int
    results: tuple[AnomalyResult, ...]
    max_alerts: int
    features: AnomalyFeatures | None = field(default=None, repr=False, compare=False)

    @property
    def alerts(self) -> tuple[AnomalyResult, ...]:
        return tuple(r for r in self.results if r.is_anomaly)

    def by_transaction(self) -> dict[str, AnomalyResult]:
        return {r.transaction_id: r for r in self.results}


def detect_anomalies(
    transactions: Sequence[Transaction],
    *,
    categories: Mapping[str, str] | None = None,
    limits: Mapping[str, int] | None = None,
    feedback: Iterable[ExpectedFeedback] = (),
    config: AnomalyConfig = DEFAULT_CONFIG,
    budget: AlertBudget = DEFAULT_BUDGET,
    use_model: bool = True,
    keep_features: bool = False,
) -> AnomalyReport:
    """Score ONE business's lines. ``categories``: enrichment's leaf per transaction id
    (optional); ``limits``: per-purchase limits per card or employee id (minor units)."""
    bids = {t.business_id for t in transactions}
    if len(bids) > 1:
        raise ValueError("detect_anomalies scores one business at a time; use detect_all")
    bid = next(iter(bids), "")
    if not transactions:
        return AnomalyReport(bid, 0, (), budget.max_alerts(0))
    f = build_features(transactions, categories, config)
    hits = run_rules(f, transactions, config) + detect_misuse(f, transactions, limits=limits,
                                                              config=config)  # fmt: skip
    pct = contrib = None
    if use_model and f.n >= MIN_MODEL_LINES:
        X = model_matrix(f)
        model = TailOutlierDetector()
        pct = model.fit_anomaly_score(X)
        top = np.flatnonzero(pct >= budget.model_floor)
        contrib = np.zeros_like(X)
        if len(top):
            contrib[top] = model.feature_contributions(X[top])
    patterns = ExpectedPatterns.learn(fb for fb in feedback if fb.business_id == bid)
    results = fuse_scores(f, hits, pct, contrib, budget=budget, patterns=patterns)
    return AnomalyReport(bid, f.n, tuple(results), budget.max_alerts(f.n),
                         f if keep_features else None)  # fmt: skip


def detect_all(
    transactions: Iterable[Transaction],
    *,
    categories: Mapping[str, str] | None = None,
    limits: Mapping[str, int] | None = None,
    feedback: Iterable[ExpectedFeedback] = (),
    config: AnomalyConfig = DEFAULT_CONFIG,
    budget: AlertBudget = DEFAULT_BUDGET,
) -> Iterator[AnomalyReport]:
    """Group lines by business (first-seen order) and score each business on its own."""
    groups: dict[str, list[Transaction]] = {}
    for t in transactions:
        groups.setdefault(t.business_id, []).append(t)
    fb = list(feedback)
    for lines in groups.values():
        yield detect_anomalies(lines, categories=categories, limits=limits, feedback=fb,
                               config=config, budget=budget)  # fmt: skip
