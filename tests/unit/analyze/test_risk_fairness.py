"""The fairness report: selection-rate ratios per attribute and an honest reason below 0.8."""

from __future__ import annotations

import numpy as np
import pytest

from ledgerlens.ml.fairness import DecisionColumn, age_bucket, fairness_report, size_bucket
from ledgerlens.ml.risk_metrics import brier, expected_calibration_error


def test_equal_selection_meets_four_fifths() -> None:
    y = np.array([0, 0, 1, 0, 0, 1, 0, 0])
    bands = ["A", "B", "E", "D", "A", "E", "C", "D"]
    groups = ["x", "x", "x", "x", "y", "y", "y", "y"]
    rep = fairness_report(y, bands, {"sector": groups})
    frame = rep["decisions"]["risk_band_selected"]["sector"]
    assert frame["groups"]["x"]["selection_rate"] == pytest.approx(0.5)
    assert frame["groups"]["y"]["selection_rate"] == pytest.approx(0.5)
    assert frame["selection_rate_ratio"] == pytest.approx(1.0)
    assert frame["meets_four_fifths"] and "reason" not in frame


def test_below_four_fifths_gives_the_reason_and_blames_truth_or_model() -> None:
    # group y is truly riskier: its lower selection follows the truth
    y = np.array([0, 0, 0, 0, 1, 1, 1, 0])
    bands = ["A", "A", "A", "E", "E", "E", "E", "A"]
    groups = ["x", "x", "x", "x", "y", "y", "y", "y"]
    frame = fairness_report(y, bands, {"region": groups})["decisions"]["risk_band_selected"][
        "region"
    ]
    assert frame["selection_rate_ratio"] == pytest.approx(0.25 / 0.75, abs=1e-4)
    assert not frame["meets_four_fifths"]
    assert "real difference in distress" in frame["reason"]
    # same selections, equal truth: the model is to blame
    y2 = np.array([0, 0, 0, 1, 0, 0, 0, 1])
    frame2 = fairness_report(y2, bands, {"region": groups})["decisions"]["risk_band_selected"][
        "region"
    ]
    assert "NOT explained" in frame2["reason"]


def test_extra_decisions_and_single_group_attribute() -> None:
    y = np.zeros(4, dtype=int)
    rep = fairness_report(
        y, ["A"] * 4, {"age": ["old"] * 4}, decisions={"credit_line_offered": [1, 0, 1, 1]}
    )
    assert set(rep["decisions"]) == {"risk_band_selected", "credit_line_offered"}
    assert "only one group" in rep["decisions"]["credit_line_offered"]["age"]["reason"]
    assert rep["decisions"]["credit_line_offered"]["age"]["groups"]["old"][
        "selection_rate"
    ] == pytest.approx(0.75)


def test_buckets_and_calibration_metrics() -> None:
    assert age_bucket(6) == "<9 months" and age_bucket(18) == ">=15 months"
    assert size_bucket(10_000).startswith("revenue <30k") and "80k" in size_bucket(90_000)
    y = np.array([0, 1, 0, 1])
    assert brier(y, np.array([0.0, 1.0, 0.0, 1.0])) == 0.0
    assert expected_calibration_error(y, np.full(4, 0.5), bins=1) == pytest.approx(0.0)
    assert expected_calibration_error(y, np.array([0.9, 0.1, 0.9, 0.1]), bins=2) > 0.5


def test_a_decision_is_judged_only_on_the_businesses_it_applies_to() -> None:
    y = np.zeros(6, dtype=int)
    groups = ["x", "x", "x", "y", "y", "y"]
    # y's businesses have no invoices: only x's (and one of y's) are judged
    col = DecisionColumn(
        [1, 1, 0, 0, 0, 1], "invoice financing offered", applies=[1, 1, 1, 0, 0, 1]
    )
    rep = fairness_report(y, ["A"] * 6, {"sector": groups}, {"invoice_financing_offered": col})
    frame = rep["decisions"]["invoice_financing_offered"]["sector"]
    assert rep["population"]["invoice_financing_offered"] == 4
    assert rep["meaning"]["invoice_financing_offered"] == "invoice financing offered"
    assert frame["groups"]["x"]["count"] == 3 and frame["groups"]["y"]["count"] == 1
    assert frame["groups"]["x"]["selection_rate"] == pytest.approx(2 / 3, abs=1e-4)
    assert frame["groups"]["y"]["selection_rate"] == pytest.approx(1.0)


def test_a_rule_behind_most_refusals_is_named_as_the_reason() -> None:
    y = np.array([0, 0, 0, 0, 0, 0, 0, 0])  # nobody distressed: the truth explains nothing
    groups = ["young"] * 4 + ["old"] * 4
    col = DecisionColumn(
        [0, 0, 0, 1, 1, 1, 1, 1],
        "credit offered",
        refusals=["ELIG_HISTORY_UNDER_6M", "ELIG_HISTORY_UNDER_6M", "OFFER_TOO_SMALL"] + [""] * 5,
    )
    frame = fairness_report(y, ["A"] * 8, {"business_age": groups}, {"credit_offered": col})[
        "decisions"
    ]["credit_offered"]["business_age"]
    young = frame["groups"]["young"]
    assert young["main_refusal"] == "ELIG_HISTORY_UNDER_6M"
    assert young["main_refusal_share"] == pytest.approx(2 / 3, abs=1e-4)
    assert "main_refusal" not in frame["groups"]["old"]
    assert not frame["meets_four_fifths"]
    assert "ELIG_HISTORY_UNDER_6M" in frame["reason"] and "6 months of history" in frame["reason"]
    assert "but by ELIG_HISTORY_UNDER_6M" in frame["reason"]
    assert "review the model" not in frame["reason"]


def test_scores_report_each_groups_mean_probability_next_to_its_distress() -> None:
    y = np.array([0, 1, 0, 0])
    rep = fairness_report(
        y,
        ["A", "E", "B", "C"],
        {"region": ["x", "x", "y", "y"]},
        probabilities=[0.1, 0.5, 0.2, 0.2],
    )
    groups = rep["decisions"]["risk_band_selected"]["region"]["groups"]
    assert groups["x"]["mean_probability"] == pytest.approx(0.3)
    assert groups["y"]["mean_probability"] == pytest.approx(0.2)
    assert groups["x"]["distress_rate"] == pytest.approx(0.5)
