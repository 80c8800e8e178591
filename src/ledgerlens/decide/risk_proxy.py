"""A transparent stand-in risk score for when no trained risk model is configured.

Decisions need a ``RiskAssessment``; the trained, calibrated model (``analyze/risk``) provides
it where deployed. Without one (a fresh install, tests) this proxy gives a conservative,
explainable probability from the same cash-flow signals, and says so in its version
(``rule:risk_proxy@…``) so no audit entry passes it off as the model.
"""

from __future__ import annotations

import math

from ledgerlens.decide.model import BusinessSignals, RiskAssessment
from ledgerlens.decide.rules import DecisionRules

__all__ = ["VERSION", "proxy_risk"]

VERSION = "rule:risk_proxy@2026.12.1"


def proxy_risk(s: BusinessSignals, rules: DecisionRules) -> RiskAssessment:
    """Logistic score on cash buffer, forecast shortfall, debt load, margin and seasonality."""
    inflow = max(s.monthly_inflow_minor, 1)
    parts = {
        "forecast shortfall likely": 2.0 * s.forecast_shortfall_probability,
        "thin cash buffer": -0.35 * min(s.idle_cash_months, 6.0) + 0.7,
        "heavy debt service": 3.0 * min(s.debt_service_minor / inflow, 1.0),
        "outflows exceed inflows": 0.8 * (s.net_capacity_minor < 0),
        "strongly seasonal takings": 0.8 * max(0.0, 0.6 - s.seasonality_ratio),
        "short history": 0.6 * (s.history_months < 12),
    }
    z = -2.8 + sum(parts.values())  # intercept: mean p ≈ base rate on a tuning world
    p = round(1 / (1 + math.exp(-z)), 4)
    band = rules.evaluate("risk_bands", {"probability_of_distress": p})
    reasons = tuple(k for k, v in sorted(parts.items(), key=lambda kv: -kv[1]) if v > 0.25)[:3]
    return RiskAssessment(s.business_id, p, str(band.outputs["risk_band"]), reasons, VERSION)
