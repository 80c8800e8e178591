"""Dynamic limits: target from capacity and band, fast down, slow up, dead band, caps."""

from __future__ import annotations

from typing import Any

import pytest

from ledgerlens.decide.limits import decide_limit, decide_limits
from ledgerlens.decide.rules import DecisionRules


def test_new_limit_is_the_band_share_of_capacity(
    decision_rules: DecisionRules, make_signals: Any, make_risk: Any
) -> None:
    d = decide_limit(
        "card", make_signals(debt_service_minor=1_000_000), make_risk("B"), decision_rules
    )
    # (50,000 - 10,000) * 30 % = 12,000.00
    assert d.outputs["limit_minor"] == 1_200_000
    assert d.outputs["change"] == "new"
    assert "LIMIT_CARD_B" in d.reason_codes and "LIMIT_SET" in d.reason_codes
    assert "rules:limit_bands@2026.12.2" in d.versions and "model:risk@test" in d.versions
    assert "40000.00 EUR" not in d.reasons[1] and "50000.00 EUR" in d.reasons[1]


def test_deterioration_lowers_at_once(
    decision_rules: DecisionRules, make_signals: Any, make_risk: Any
) -> None:
    d = decide_limit(
        "card", make_signals(), make_risk("D", 0.25), decision_rules, previous_minor=1_500_000
    )
    assert d.outputs["limit_minor"] == 500_000  # 10 % of 50,000 at once, no step
    assert d.outputs["change"] == "lowered" and "LIMIT_LOWERED" in d.reason_codes


def test_improvement_raises_slowly(
    decision_rules: DecisionRules, make_signals: Any, make_risk: Any
) -> None:
    d = decide_limit(
        "card", make_signals(), make_risk("A", 0.02), decision_rules, previous_minor=1_000_000
    )
    # target 20,000 (40 %), but at most +25 % a review: 12,500
    assert d.outputs["target_minor"] == 2_000_000
    assert d.outputs["limit_minor"] == 1_250_000
    assert "LIMIT_RAISED_STEP" in d.reason_codes
    again = decide_limit(
        "card", make_signals(), make_risk("A", 0.02), decision_rules, previous_minor=1_250_000
    )
    assert 1_250_000 < again.outputs["limit_minor"] <= 1_562_500


def test_raise_reaching_the_target(
    decision_rules: DecisionRules, make_signals: Any, make_risk: Any
) -> None:
    d = decide_limit(
        "card", make_signals(), make_risk("A", 0.02), decision_rules, previous_minor=1_700_000
    )
    assert d.outputs["limit_minor"] == 2_000_000 and "LIMIT_RAISED" in d.reason_codes


@pytest.mark.parametrize("previous", [1_450_000, 1_500_000, 1_600_000])
def test_dead_band_holds(
    decision_rules: DecisionRules, make_signals: Any, make_risk: Any, previous: int
) -> None:
    d = decide_limit(
        "card", make_signals(), make_risk("B"), decision_rules, previous_minor=previous
    )
    assert d.outputs["limit_minor"] == previous  # target 15,000 within 10 %
    assert "LIMIT_HELD" in d.reason_codes


def test_band_e_never_raises(
    decision_rules: DecisionRules, make_signals: Any, make_risk: Any
) -> None:
    d = decide_limit(
        "card",
        make_signals(monthly_inflow_minor=50_000_000),
        make_risk("E", 0.5),
        decision_rules,
        previous_minor=100_000,
    )
    assert d.outputs["limit_minor"] == 100_000 and "LIMIT_HELD" in d.reason_codes


def test_likely_shortfall_halves_the_target(
    decision_rules: DecisionRules, make_signals: Any, make_risk: Any
) -> None:
    d = decide_limit(
        "payment", make_signals(forecast_shortfall_probability=0.7), make_risk("B"), decision_rules
    )
    assert d.outputs["limit_minor"] == 3_000_000  # 120 % of 50,000 / 2
    assert "LIMIT_FORECAST_SHORTFALL" in d.reason_codes


def test_never_above_the_regulatory_cap(
    decision_rules: DecisionRules, make_signals: Any, make_risk: Any
) -> None:
    huge = make_signals(monthly_inflow_minor=10_000_000_000)
    d = decide_limit("payment", huge, make_risk("A", 0.01), decision_rules)
    assert d.outputs["limit_minor"] == 25_000_000 == d.outputs["cap_minor"]  # 250,000 EUR
    prev = decide_limit(
        "payment", huge, make_risk("A", 0.01), decision_rules, previous_minor=40_000_000
    )
    assert prev.outputs["limit_minor"] == 25_000_000 and "LIMIT_LOWERED" in prev.reason_codes


def test_uncovered_currency_gets_no_limit(
    decision_rules: DecisionRules, make_signals: Any, make_risk: Any
) -> None:
    d = decide_limit(
        "card", make_signals(base_currency="CHF"), make_risk("A", 0.01), decision_rules
    )
    assert d.outputs["limit_minor"] == 0 and "REG_CURRENCY_NOT_COVERED" in d.reason_codes


def test_both_kinds_with_previous(
    decision_rules: DecisionRules, make_signals: Any, make_risk: Any
) -> None:
    out = decide_limits(make_signals(), make_risk("B"), decision_rules, {"card": 1_500_000})
    assert [d.subject for d in out] == ["card_limit", "payment_limit"]
    assert (
        out[0].outputs["previous_minor"] == 1_500_000 and out[1].outputs["previous_minor"] is None
    )
    assert all(d.reason_codes and d.reasons for d in out)


# a worse band lowers the limit only on a real rise of the probability (limit_bands'
# min_worsening_bps: 250 into B, 500 into C, 750 into D and E)


def test_small_rise_across_a_band_bound_keeps_the_previous_band(
    decision_rules: DecisionRules, make_signals: Any, make_risk: Any
) -> None:
    # 0.095 (B) -> 0.105 (C): without the rule the target drops from 30 % to 20 % (15,000 ->
    # 10,000) and the limit is lowered; a 1-point rise is noise, so B's 15,000 target holds
    d = decide_limit(
        "card",
        make_signals(),
        make_risk("C", 0.105),
        decision_rules,
        previous_minor=1_500_000,
        previous_probability=0.095,
    )
    assert d.outputs["limit_minor"] == 1_500_000 and d.outputs["change"] == "held"
    assert d.outputs["target_band"] == "B" and d.outputs["target_minor"] == 1_500_000
    assert "LIMIT_BAND_WITHIN_NOISE" in d.reason_codes and "RISK_BAND_C" in d.reason_codes
    assert "LIMIT_CARD_B" in d.reason_codes
    assert any("0.095" in r and "0.105" in r for r in d.reasons)
    assert d.inputs["previous_probability_of_distress"] == 0.095


def test_same_move_without_a_previous_probability_lowers(
    decision_rules: DecisionRules, make_signals: Any, make_risk: Any
) -> None:
    d = decide_limit(
        "card", make_signals(), make_risk("C", 0.105), decision_rules, previous_minor=1_500_000
    )
    assert d.outputs["limit_minor"] == 1_000_000 and d.outputs["change"] == "lowered"
    assert "LIMIT_BAND_WITHIN_NOISE" not in d.reason_codes


@pytest.mark.parametrize(
    ("band", "p_before", "p_now", "lowered_to"),
    [
        ("C", 0.095, 0.146, 1_000_000),  # +5.1 points into C: 20 % at once
        ("D", 0.15, 0.226, 500_000),  # +7.6 points into D: 10 %
        ("E", 0.15, 0.40, 250_000),  # a jump over two bands: 5 %
    ],
)
def test_a_real_rise_still_lowers_at_once(
    decision_rules: DecisionRules,
    make_signals: Any,
    make_risk: Any,
    band: str,
    p_before: float,
    p_now: float,
    lowered_to: int,
) -> None:
    d = decide_limit(
        "card",
        make_signals(),
        make_risk(band, p_now),
        decision_rules,
        previous_minor=1_500_000,
        previous_probability=p_before,
    )
    assert d.outputs["limit_minor"] == lowered_to and d.outputs["change"] == "lowered"
    assert "LIMIT_BAND_WITHIN_NOISE" not in d.reason_codes and "LIMIT_LOWERED" in d.reason_codes


def test_rise_just_under_the_minimum_into_d_holds_band_c(
    decision_rules: DecisionRules, make_signals: Any, make_risk: Any
) -> None:
    d = decide_limit(
        "card",
        make_signals(),
        make_risk("D", 0.22),
        decision_rules,
        previous_minor=1_000_000,
        previous_probability=0.15,  # +7 points < 7.5
    )
    assert d.outputs["target_band"] == "C" and d.outputs["limit_minor"] == 1_000_000
    assert "LIMIT_BAND_WITHIN_NOISE" in d.reason_codes


def test_noise_hold_never_raises_and_inflow_falls_still_lower(
    decision_rules: DecisionRules, make_signals: Any, make_risk: Any
) -> None:
    grown = decide_limit(
        "card",
        make_signals(monthly_inflow_minor=8_000_000),
        make_risk("C", 0.105),
        decision_rules,
        previous_minor=1_500_000,
        previous_probability=0.095,
    )
    # B's target is now 24,000, far above 15,000, but the band got worse: no raise
    assert grown.outputs["limit_minor"] == 1_500_000 and grown.outputs["change"] == "held"
    shrunk = decide_limit(
        "card",
        make_signals(monthly_inflow_minor=3_000_000),
        make_risk("C", 0.105),
        decision_rules,
        previous_minor=1_500_000,
        previous_probability=0.095,
    )
    # B's 30 % of a smaller inflow: 9,000, lowered at once
    assert shrunk.outputs["limit_minor"] == 900_000 and shrunk.outputs["change"] == "lowered"
    assert "LIMIT_BAND_WITHIN_NOISE" in shrunk.reason_codes


def test_better_band_is_not_held_back(
    decision_rules: DecisionRules, make_signals: Any, make_risk: Any
) -> None:
    d = decide_limit(
        "card",
        make_signals(),
        make_risk("B", 0.095),
        decision_rules,
        previous_minor=1_000_000,
        previous_probability=0.105,
    )
    assert d.outputs["target_band"] == "B" and d.outputs["change"] == "raised"
    assert "LIMIT_BAND_WITHIN_NOISE" not in d.reason_codes


def test_decide_limits_passes_the_previous_probability(
    decision_rules: DecisionRules, make_signals: Any, make_risk: Any
) -> None:
    out = decide_limits(
        make_signals(),
        make_risk("C", 0.105),
        decision_rules,
        {"card": 1_500_000, "payment": 6_000_000},
        previous_probability=0.095,
    )
    assert all("LIMIT_BAND_WITHIN_NOISE" in d.reason_codes for d in out)
    assert [d.outputs["change"] for d in out] == ["held", "held"]
