"""Limits and offers for the fairness report, through the production decide path, on a small world.

What must hold whatever the world: one verdict per business and decision, a refusal code for
every refusal and none for a selection, an offer only where the business has the need (so the
per-product population is never smaller than the offers made), "credit offered" exactly when
some product is, and the fairness report judging each decision on its own population.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from ledgerlens.adapters.risk_store import load_risk_model
from ledgerlens.ml.fairness import fairness_report
from ledgerlens.ml.fairness_decisions import OFFER_PRODUCTS, decision_columns
from ledgerlens.ml.risk_data import load_world_features
from ledgerlens.ml.synth_data import write_synthetic_world

SEED = 9317  # not a training, development, report or other test world


@pytest.fixture(scope="module")
def decided(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    world = write_synthetic_world(16, 12, SEED, tmp_path_factory.mktemp("fair"), workers=1)
    ds = load_world_features(Path(world), workers=1)
    model, version = load_risk_model()
    p = model.predict_proba(ds.X)[:, 1]
    cols, summary = decision_columns(
        Path(world), ds.business_ids, ds.history_months, p, model.to_json(), version, workers=1
    )
    return ds, p, cols, summary


def test_every_business_gets_every_decision_with_a_reason_for_each_refusal(decided) -> None:  # type: ignore[no-untyped-def]
    ds, _p, cols, summary = decided
    n = len(ds.business_ids)
    expected = {"card_limit_not_lowered", "card_limit_15pct_capacity", "credit_offered"}
    assert set(cols) == expected | {f"{p}_offered" for p in OFFER_PRODUCTS}
    for name, col in cols.items():
        assert len(col.selected) == n and set(col.selected) <= {0, 1}, name
        assert col.refusals is not None
        for sel, why in zip(col.selected, col.refusals, strict=True):
            assert (why == "") == bool(sel), name
    assert sum(summary["card_limit_changes"].values()) == n
    assert sum(summary["band_moves"].values()) == n
    # the limits' noise rule only ever applies to a band that got worse
    assert 0 <= summary["band_worse_within_noise"] <= summary["band_moves"]["worse"]
    assert summary["mean_abs_probability_change"] >= 0.0


def test_offers_follow_need_and_credit_offered_is_any_product(decided) -> None:  # type: ignore[no-untyped-def]
    ds, _p, cols, summary = decided
    any_product = np.zeros(len(ds.business_ids), dtype=int)
    for p in OFFER_PRODUCTS:
        col = cols[f"{p}_offered"]
        offered, needed = np.asarray(col.selected), np.asarray(col.applies, dtype=bool)
        assert not (offered.astype(bool) & ~needed).any(), f"{p} offered without the need"
        assert summary["offered"][p] == int(offered.sum()) <= summary["needed"][p]
        any_product |= offered
    assert list(any_product) == list(cols["credit_offered"].selected)


def test_the_report_judges_each_decision_on_its_population(decided) -> None:  # type: ignore[no-untyped-def]
    ds, p, cols, _summary = decided
    rep = fairness_report(
        ds.y,
        ["A" if v < 0.2 else "E" for v in p],
        {"region": ds.country},
        cols,
        probabilities=p,
    )
    for name, col in cols.items():
        population = len(col.selected) if col.applies is None else int(sum(col.applies))
        assert rep["population"][name] == population
        if population:
            groups = rep["decisions"][name]["region"]["groups"]
            assert sum(g["count"] for g in groups.values()) == population
