"""assess_risk: one business in, probability + band + reasons + evidence + source out."""

from __future__ import annotations

import json

import numpy as np
import pytest

from ledgerlens.analyze.risk.features import FEATURES, build_features, feature_matrix
from ledgerlens.analyze.risk.model import RiskModel
from ledgerlens.analyze.risk.service import assess_features, assess_risk

from .risk_builders import Ledger, steady_business


@pytest.fixture(scope="module")
def model() -> RiskModel:
    """Trained on hand-built businesses: thin buffers and shrinking revenue are distressed."""
    rows, labels = [], []
    rng = np.random.default_rng(3)
    for _ in range(120):
        growth = float(rng.uniform(-0.06, 0.06))
        opening = int(rng.uniform(0, 4_000_000))
        led = steady_business(8, growth=growth, opening_minor=opening)
        rows.append(build_features(led.lines))
        labels.append(int(growth < -0.02 or opening < 600_000))
    return RiskModel(n_estimators=60, min_child_samples=5).fit(
        feature_matrix(rows), np.asarray(labels)
    )


def test_assessment_carries_source_evidence_and_reasons(model: RiskModel) -> None:
    weak = steady_business(12, growth=-0.05, opening_minor=0)
    a = assess_risk(weak.lines, model, "2026.12.1")
    assert a.source == "model:risk@2026.12.1"
    assert a.business_id == "b1"
    assert set(a.features) == set(FEATURES)
    assert a.risk_band in "ABCDE" and 0.0 <= a.probability_of_distress <= 1.0
    assert a.reasons and a.reason_codes[0] in FEATURES
    doc = a.as_dict()
    assert json.loads(json.dumps(doc))["source"] == "model:risk@2026.12.1"


def test_weak_business_scores_riskier_than_strong(model: RiskModel) -> None:
    weak = assess_risk(steady_business(12, growth=-0.05, opening_minor=0).lines, model, "v")
    strong = assess_risk(
        steady_business(12, growth=0.04, opening_minor=4_000_000).lines, model, "v"
    )
    assert weak.probability_of_distress > strong.probability_of_distress


def test_confidence_grows_with_history(model: RiskModel) -> None:
    short = Ledger()
    for d in range(0, 40, 5):
        short.add(d, 10_000, name="C")
    young = assess_features(build_features(short.lines), model, "v")
    old = assess_risk(steady_business(14).lines, model, "v")
    assert young.confidence < 0.2 < old.confidence
    assert old.confidence <= 1.0
