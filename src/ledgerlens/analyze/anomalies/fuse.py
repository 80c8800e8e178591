"""Fusion: rules, robust statistics and the model become one score in [0, 1] with reasons.

* **Rules** are combined as independent evidence, ``1 − Π(1 − strength)``; the strongest hit
  names the kind and the source (``rule:<id>``).
* **The model** adds at most ``model_weight`` to the score, and only for lines in the top
  ``1 − model_floor`` of this business's own data. It ranks alerts inside the budget and
  corroborates, but an alert is raised only when the *rules'* combined score reaches the
  threshold: on the synthetic truth, letting the model lift weak evidence over the line raised
  annual insurance premiums and coincidental splits (see docs/anomalies.md).
* **Feedback**: a line matching an "expected" pattern keeps its explanation but its score is
  multiplied by ``suppress_factor`` and it is marked ``suppressed_by``.
* **Budget**: lines of one incident (a card-testing burst, a split purchase) form one alert;
  alerts with score ≥ ``threshold`` are raised best first, at most
  ``max(min_alerts, floor(rate × transactions))`` per business (default 1 %).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from ledgerlens.analyze.anomalies.features import MODEL_FEATURES, AnomalyFeatures
from ledgerlens.analyze.anomalies.feedback import ExpectedPatterns, pattern_key
from ledgerlens.analyze.anomalies.rules import RuleHit

__all__ = [
    "DEFAULT_BUDGET",
    "MODEL_NAME",
    "MODEL_VERSION",
    "AlertBudget",
    "AnomalyResult",
    "fuse_scores",
    "incident_candidates",
    "results_of",
    "score_lines",
    "within_budget",
]

MODEL_NAME = "anomaly-ecod"
MODEL_VERSION = "2026.12.1"
_FEATURE_WORDS = {
    "log_amount": "its size",
    "payee_robust_z": "its size for this payee",
    "category_robust_z": "its size for this category",
    "log_payee_history": "how often this payee is paid",
    "log_month_share": "its share of a month's spending",
    "outflow_rank": "its rank among payments",
    "weekend": "the weekday",
    "hours_from_midday": "the hour",
    "log_burst_size": "several small charges together",
    "new_place_for_card": "a new place for this card",
    "log_mcc_history": "the kind of merchant",
}


@dataclass(frozen=True, slots=True)
class AlertBudget:
    """How many alerts a business may receive, and how sure one must be to count."""

    rate: float = 0.01
    min_alerts: int = 1
    threshold: float = 0.5
    model_weight: float = 0.3
    model_floor: float = 0.98
    suppress_factor: float = 0.2

    def max_alerts(self, n_transactions: int) -> int:
        return max(self.min_alerts, math.floor(self.rate * n_transactions + 1e-9))


@dataclass(frozen=True, slots=True)
class AnomalyResult:
    """One line's verdict: score, whether raised, why, and where the verdict came from."""

    transaction_id: str
    score: float
    is_anomaly: bool
    kind: str  # "" when nothing is unusual
    reasons: tuple[str, ...] = ()
    source: str = ""  # rule:<id> | model:<name>@<version>
    confidence: float = 0.0
    evidence: tuple[tuple[str, str], ...] = ()
    incident_id: str = ""  # transaction id of the incident's first line
    rule_ids: tuple[str, ...] = field(default=())
    suppressed_by: str = ""  # the confirmed transaction whose pattern covers this one
    feedback_key: str = ""  # ExpectedFeedback.key to store when the owner says "expected"


DEFAULT_BUDGET = AlertBudget()


def _model_reason(contrib: np.ndarray) -> str:
    top = [MODEL_FEATURES[j] for j in np.argsort(-contrib)[:2]]
    return (
        "Statistically unusual for this business: "
        + " and ".join(_FEATURE_WORDS[t] for t in top)
        + "."
    )


def fuse_scores(
    f: AnomalyFeatures,
    hits: Sequence[RuleHit],
    model_pct: np.ndarray | None = None,
    model_contrib: np.ndarray | None = None,
    *,
    budget: AlertBudget = DEFAULT_BUDGET,
    patterns: ExpectedPatterns | None = None,
) -> list[AnomalyResult]:
    """One result per line that has any evidence (lines without evidence score 0)."""
    scored = score_lines(f, hits, model_pct, model_contrib, budget=budget, patterns=patterns)
    return results_of(f, scored, _apply_budget(scored, f.n, budget))


def score_lines(
    f: AnomalyFeatures,
    hits: Sequence[RuleHit],
    model_pct: np.ndarray | None = None,
    model_contrib: np.ndarray | None = None,
    *,
    budget: AlertBudget = DEFAULT_BUDGET,
    patterns: ExpectedPatterns | None = None,
) -> dict[int, dict]:
    """Per line with evidence (by index): fused score, rule score, kind, reasons, incident …
    (before the budget decides which are raised)."""
    by_line: dict[int, list[RuleHit]] = {}
    for h in hits:
        by_line.setdefault(h.index, []).append(h)
    boost = np.zeros(f.n)
    if model_pct is not None and budget.model_weight > 0:
        span = max(1e-9, 1.0 - budget.model_floor)
        boost = budget.model_weight * np.clip((model_pct - budget.model_floor) / span, 0, 1)
    lines = set(by_line) | set(np.flatnonzero(boost > 0).tolist())
    scored: dict[int, dict] = {}
    for i in lines:
        line_hits = sorted(by_line.get(i, ()), key=lambda h: -h.strength)
        rest = 1.0
        for h in line_hits:
            rest *= 1.0 - h.strength
        rule_score = 1.0 - rest
        score = 1.0 - rest * (1.0 - float(boost[i]))
        reasons = [h.reason for h in line_hits]
        if boost[i] > 0.05 and model_contrib is not None:
            reasons.append(_model_reason(model_contrib[i]))
        main = line_hits[0] if line_hits else None
        kind = main.kind if main else "statistical_outlier"
        suppressed = ""
        if patterns is not None and len(patterns) and main is not None:
            suppressed = patterns.match(kind, f.payee_keys[int(f.payee[i])],
                                        int(f.amount_minor[i])) or ""  # fmt: skip
            if suppressed:
                score *= budget.suppress_factor
                rule_score *= budget.suppress_factor
                reasons.append("Similar to a transaction you marked as expected.")
        incident = next((h.incident for h in line_hits if h.incident >= 0), i)
        scored[i] = {
            "score": score, "rule_score": rule_score, "kind": kind, "reasons": tuple(reasons),
            "source": (f"rule:{main.rule_id}" if main else f"model:{MODEL_NAME}@{MODEL_VERSION}"),
            "confidence": round(main.strength if main else float(boost[i]), 3),
            "evidence": tuple(e for h in line_hits for e in h.evidence),
            "incident": incident, "rule_ids": tuple(h.rule_id for h in line_hits),
            "suppressed_by": suppressed,
            "feedback_key": pattern_key(kind, f.payee_keys[int(f.payee[i])]),
        }  # fmt: skip
    return scored


def results_of(f: AnomalyFeatures, scored: dict[int, dict], raised: set[int]
               ) -> list[AnomalyResult]:  # fmt: skip
    """The verdicts of scored lines, ``raised`` (indices) marked as alerts."""
    ids = f.transaction_ids
    return [
        AnomalyResult(
            transaction_id=ids[i],
            score=round(s["score"], 4),
            is_anomaly=i in raised,
            kind=s["kind"],
            reasons=s["reasons"],
            source=s["source"],
            confidence=s["confidence"],
            evidence=s["evidence"],
            incident_id=ids[s["incident"]],
            rule_ids=s["rule_ids"],
            suppressed_by=s["suppressed_by"],
            feedback_key=s["feedback_key"],
        )
        for i, s in sorted(scored.items())
    ]


def incident_candidates(scored: dict[int, dict], threshold: float
                        ) -> list[tuple[float, int, list[int]]]:  # fmt: skip
    """(best score, first line, members) of each incident whose rules reach ``threshold``."""
    incidents: dict[int, list[int]] = {}
    for i, s in scored.items():
        incidents.setdefault(s["incident"], []).append(i)
    return [
        (max(scored[i]["score"] for i in members), first, members)
        for first, members in incidents.items()
        if max(scored[i]["rule_score"] for i in members) >= threshold
    ]


def within_budget(candidates: Sequence[tuple[float, int, Sequence[int]]], n: int,
                  budget: AlertBudget) -> set[int]:  # fmt: skip
    """Raise whole incidents, best first (ties: earlier first line), within the budget."""
    ranked = sorted(candidates, key=lambda t: (-t[0], t[1]))
    raised: set[int] = set()
    for _, _, members in ranked[: budget.max_alerts(n)]:
        raised.update(members)
    return raised


def _apply_budget(scored: dict[int, dict], n: int, budget: AlertBudget) -> set[int]:
    """Raise whole incidents, best first, within the business's alert budget."""
    return within_budget(incident_candidates(scored, budget.threshold), n, budget)
