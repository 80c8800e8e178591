"""Fixtures of the decide tests: the shipped decision tables (parsed once) and signal builders."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from ledgerlens.decide.model import BusinessSignals, RiskAssessment
from ledgerlens.decide.rules import DecisionRules


@pytest.fixture(scope="session")
def decision_rules() -> DecisionRules:
    return DecisionRules.load()


BASE = BusinessSignals(
    business_id="b1",
    base_currency="EUR",
    history_months=18,
    monthly_inflow_minor=5_000_000,  # 50,000.00 EUR a month
    monthly_outflow_minor=4_000_000,
    card_takings_minor=3_000_000,
    invoice_inflow_minor=1_500_000,
    balance_minor=6_000_000,
    debt_service_minor=0,
)


def signals(**kw: Any) -> BusinessSignals:
    return replace(BASE, **kw)


def risk(band: str = "B", p: float = 0.07) -> RiskAssessment:
    return RiskAssessment("b1", p, band, ("thin cash buffer",), "model:risk@test")


@pytest.fixture
def make_signals() -> Any:
    return signals


@pytest.fixture
def make_risk() -> Any:
    return risk
