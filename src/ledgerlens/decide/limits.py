"""Dynamic card and payment limits: from risk and cash-flow capacity, never above the rule caps.

The limit follows a target (``limit_bands`` table: a share of monthly operating inflow by risk
band), but with hysteresis so it does not flap: it drops to the target at once when the target
falls below the previous limit by more than the dead band (deterioration acts fast), rises at
most ``max_step_up_pct`` per review (improvement is trusted slowly), and stays put inside the
dead band. The regulatory cap bounds everything. Every result is a ``Decision`` that says why,
with figures.

A worse band lowers the limit only when the probability of distress really rose: the model's
probability moves a little from review to review with no change in the business (a bank-holiday
week, a customer paying a few days late), and a move of 0.095 → 0.105 crosses the B/C bound and
would cut the target by a third. So when the previous review's probability is known and the band
worsened, the rise must reach the entered band's ``min_worsening_bps`` (``limit_bands``: half the
band's width, 2.5 points into B, 5 into C, 7.5 into D and E); a smaller rise keeps the previous
band's target (``LIMIT_BAND_WITHIN_NOISE``) and never raises the limit. Deterioration still acts
at once: a real rise, a fall in inflow or a likely forecast shortfall lowers the limit in the
same review.
"""

from __future__ import annotations

from collections.abc import Sequence

from ledgerlens.core.money import currency_exponent, format_minor
from ledgerlens.decide.model import BusinessSignals, Decision, DecisionKind, RiskAssessment
from ledgerlens.decide.rules import DecisionRules

__all__ = ["LIMIT_KINDS", "decide_limit", "decide_limits"]

LIMIT_KINDS: tuple[str, ...] = ("card", "payment")
FORECAST_CUT_PROBABILITY = 0.5  # a likely shortfall halves the target
SOURCE = "rule:limits@2026.12.2"
_BAND_ORDER = "ABCDE"  # best to worst


def _money(amount_minor: int, currency: str) -> str:
    return f"{format_minor(amount_minor, currency)} {currency}"


def _round_down(amount_minor: int, currency: str, step_major: int = 10) -> int:
    step: int = step_major * 10 ** currency_exponent(currency)
    return int(max(amount_minor, 0) // step * step)


def decide_limit(
    kind: str,
    signals: BusinessSignals,
    risk: RiskAssessment,
    rules: DecisionRules,
    previous_minor: int | None = None,
    previous_probability: float | None = None,
) -> Decision:
    """One limit decision (``kind`` = "card" or "payment"), hysteresis on ``previous_minor`` and,
    for a worse band, on the rise from ``previous_probability`` (the last review's)."""
    cur = signals.base_currency
    band = rules.evaluate("limit_bands", {"limit_kind": kind, "risk_band": risk.risk_band})
    target_band, held_note = risk.risk_band, ""
    if previous_minor is not None and previous_probability is not None:
        before = str(
            rules.evaluate("risk_bands", {"probability_of_distress": previous_probability}).outputs[
                "risk_band"
            ]
        )
        rise_bps = (risk.probability_of_distress - previous_probability) * 10_000
        need_bps = int(band.outputs["min_worsening_bps"])
        if _worse(risk.risk_band, before) and rise_bps < need_bps:
            band = rules.evaluate("limit_bands", {"limit_kind": kind, "risk_band": before})
            target_band = before
            held_note = (
                f"band {risk.risk_band} now, but the probability of distress rose only from "
                f"{previous_probability:.3f} to {risk.probability_of_distress:.3f} (less than "
                f"{need_bps / 100:g} points): the target keeps band {before}"
            )
    reg = rules.evaluate("regulatory_caps", {"currency": cur})
    cap_minor = int(reg.outputs["max_exposure_major"]) * 10 ** currency_exponent(cur)
    pct, step_pct = int(band.outputs["target_pct"]), int(band.outputs["max_step_up_pct"])
    dead_pct = int(band.outputs["dead_band_pct"])
    capacity = max(signals.monthly_inflow_minor - signals.debt_service_minor, 0)
    target = capacity * pct // 100
    codes = [band.outputs["reason_code"], f"RISK_BAND_{risk.risk_band}"]
    reasons = [
        f"monthly operating inflow {_money(signals.monthly_inflow_minor, cur)} less debt service "
        f"{_money(signals.debt_service_minor, cur)}; band {target_band} allows {pct} % of it"
    ]
    if held_note:
        codes.append("LIMIT_BAND_WITHIN_NOISE")
        reasons.append(held_note)
    if signals.forecast_shortfall_probability >= FORECAST_CUT_PROBABILITY:
        target //= 2
        codes.append("LIMIT_FORECAST_SHORTFALL")
        reasons.append(
            f"the forecast sees a {signals.forecast_shortfall_probability:.0%} chance of a "
            "shortfall within 13 weeks, so the target is halved"
        )
    target = _round_down(min(target, cap_minor), cur)
    if previous_minor is None:
        new, change = target, "new"
        codes.append("LIMIT_SET")
    elif target < previous_minor * (100 - dead_pct) // 100:
        new, change = target, "lowered"
        codes.append("LIMIT_LOWERED")
        reasons.append(f"lowered at once from {_money(previous_minor, cur)} to the target")
    elif target > previous_minor * (100 + dead_pct) // 100 and step_pct > 0 and not held_note:
        new = _round_down(min(target, previous_minor * (100 + step_pct) // 100), cur)
        new, change = max(new, previous_minor), "raised"
        codes.append("LIMIT_RAISED" if new == target else "LIMIT_RAISED_STEP")
        if new < target:
            reasons.append(
                f"raised by at most {step_pct} % a review, from {_money(previous_minor, cur)} "
                f"towards {_money(target, cur)}"
            )
    else:
        new, change = previous_minor, "held"
        codes.append("LIMIT_HELD")
        reasons.append(f"target {_money(target, cur)} is within {dead_pct} % of the current limit")
    if new > cap_minor:
        new, change = _round_down(cap_minor, cur), "lowered"
        codes.append("LIMIT_REGULATORY_CAP")
    codes.append(reg.outputs["reason_code"])
    reasons.insert(0, f"{kind} limit {_money(new, cur)} ({change})")
    return Decision(
        business_id=signals.business_id,
        kind=DecisionKind.LIMIT,
        subject=f"{kind}_limit",
        outputs={
            "limit_minor": new,
            "currency": cur,
            "previous_minor": previous_minor,
            "target_minor": target,
            "target_band": target_band,
            "change": change,
            "cap_minor": cap_minor,
            "rule_ids": [band.rule_id, reg.rule_id],
        },
        inputs={
            **signals.facts(),
            "limit_kind": kind,
            "risk_band": risk.risk_band,
            "probability_of_distress": risk.probability_of_distress,
            "risk_reasons": list(risk.reasons),
            "previous_minor": previous_minor,
            "previous_probability_of_distress": previous_probability,
        },
        reason_codes=tuple(codes),
        versions=tuple(
            v
            for v in (
                band.version_ref,
                reg.version_ref,
                risk.model_version,
                signals.forecast_version,
            )
            if v
        ),
        reasons=tuple(reasons),
        confidence=round(1.0 - risk.probability_of_distress / 2, 4),
        source=SOURCE,
    )


def _worse(band: str, than: str) -> bool:
    return _BAND_ORDER.find(band) > _BAND_ORDER.find(than) >= 0


def decide_limits(
    signals: BusinessSignals,
    risk: RiskAssessment,
    rules: DecisionRules,
    previous: dict[str, int] | None = None,
    kinds: Sequence[str] = LIMIT_KINDS,
    previous_probability: float | None = None,
) -> list[Decision]:
    """Card and payment limits of one business; ``previous`` maps kind → current limit and
    ``previous_probability`` is the probability of distress the last review saw."""
    previous = previous or {}
    return [
        decide_limit(k, signals, risk, rules, previous.get(k), previous_probability) for k in kinds
    ]
