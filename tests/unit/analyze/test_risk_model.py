"""The risk model: monotone where economics demand it, calibrated, explainable, stored as JSON."""

from __future__ import annotations

import numpy as np
import pytest

from ledgerlens.analyze.risk.features import FEATURES, MONOTONE
from ledgerlens.analyze.risk.model import BANDS, RiskModel, band_of, reason_text

J_BELOW = FEATURES.index("days_below_zero_share")
J_CASH = FEATURES.index("months_of_cash")


def _data(n: int = 600, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Risk rises with days below zero and falls with cash, plus a NON-monotone bump in the
    data (mid-range days-below-zero look safest) that the constraint must refuse to learn."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, len(FEATURES)))
    X[:, J_BELOW] = rng.uniform(0, 1, n)
    X[:, J_CASH] = rng.uniform(0, 6, n)
    bump = -3.0 * ((X[:, J_BELOW] > 0.4) & (X[:, J_BELOW] < 0.6))
    z = -1.5 + 3.0 * X[:, J_BELOW] - 0.6 * X[:, J_CASH] + bump
    y = (rng.uniform(size=n) < 1 / (1 + np.exp(-z))).astype(int)
    return X, y


@pytest.fixture(scope="module")
def fitted() -> tuple[RiskModel, np.ndarray, np.ndarray]:
    X, y = _data()
    return RiskModel(n_estimators=80, num_leaves=6, min_child_samples=10).fit(X, y), X, y


def _sweep(model: RiskModel, X: np.ndarray, j: int) -> np.ndarray:
    grid = np.linspace(X[:, j].min(), X[:, j].max(), 30)
    rows = np.repeat(X[:40], grid.size, axis=0)
    rows[:, j] = np.tile(grid, 40)
    return model.decision_function(rows).reshape(40, grid.size)


def test_constrained_features_never_move_the_score_the_wrong_way(fitted) -> None:
    model, X, _ = fitted
    assert (np.diff(_sweep(model, X, J_BELOW), axis=1) >= -1e-12).all()
    assert (np.diff(_sweep(model, X, J_CASH), axis=1) <= 1e-12).all()


def test_without_constraints_the_bump_is_learned(fitted) -> None:
    """The data really are non-monotone: the unconstrained model dips (so the test above bites)."""
    _, X, y = fitted
    free = RiskModel(n_estimators=80, num_leaves=6, min_child_samples=10, monotone=False)
    free.fit(X, y)
    assert (np.diff(_sweep(free, X, J_BELOW), axis=1) < -1e-6).any()


def test_probabilities_are_calibrated_on_held_out_rows(fitted) -> None:
    model, _, _ = fitted
    X, y = _data(3000, seed=1)
    p = model.predict_proba(X)[:, 1]
    assert p.shape == (3000,) and (p >= 0).all() and (p <= 1).all()
    assert abs(p.mean() - y.mean()) < 0.05
    assert model.predict(X).shape == (3000,)


def test_platt_and_isotonic_both_rank_like_the_raw_score(fitted) -> None:
    X, y = _data()
    for method in ("platt", "isotonic"):
        m = RiskModel(n_estimators=40, calibration=method).fit(X, y)
        raw = m.decision_function(X[:50])
        p = m.predict_proba(X[:50])[:, 1]
        order = np.argsort(raw)
        assert (np.diff(p[order]) >= -1e-12).all()


def test_reasons_name_the_features_that_raised_the_risk(fitted) -> None:
    model, X, _ = fitted
    x = X[0].copy()
    x[J_BELOW], x[J_CASH] = 0.95, 0.1
    p, band, reasons = model.explain(x, top=3)
    assert 0 <= p <= 1 and band == band_of(p)
    assert reasons and all(r.contribution > 0 for r in reasons)
    assert reasons[0].code in ("days_below_zero_share", "months_of_cash")
    assert "below zero" in reason_text("days_below_zero_share", 0.12)
    assert "12 %" in reason_text("days_below_zero_share", 0.12)


def test_json_round_trip_scores_identically(fitted) -> None:
    model, X, _ = fitted
    again = RiskModel.from_json(model.to_json())
    np.testing.assert_allclose(again.predict_proba(X[:20]), model.predict_proba(X[:20]))
    assert again.get_params() == model.get_params()
    with pytest.raises(ValueError):
        RiskModel.from_json(b'{"format": "other", "features": []}')


def test_estimator_contract_and_bands() -> None:
    from sklearn.base import clone

    m = RiskModel(num_leaves=5)
    c = clone(m)
    assert c.get_params() == m.get_params() and not hasattr(c, "booster_")
    assert [b for b, _ in BANDS] == ["A", "B", "C", "D", "E"]
    assert band_of(0.01) == "A" and band_of(0.15) == "C" and band_of(0.99) == "E"
    assert all(v in (-1, 0, 1) for v in MONOTONE.values())
