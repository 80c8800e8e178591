"""All of one business's decisions from its data: signals → risk → limits, offers, tips.

Pure: the caller (``pipeline_decide``, the CLI, the evaluation) loads the data, builds the
rules, catalog and FX rates once, and stores the decisions in the audit log. Offers and
recommendations are computed only with the offers consent; limits always (they protect the
bank and the business, they sell nothing).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from typing import Any

from ledgerlens.analyze.cashflow import build_input, forecast, series_items
from ledgerlens.analyze.cashflow.model import Forecast
from ledgerlens.core.ledger import Account, Transaction
from ledgerlens.decide.fx_tips import FxTip, fx_tips, tip_decision
from ledgerlens.decide.limits import decide_limits
from ledgerlens.decide.model import BusinessSignals, Decision, RiskAssessment
from ledgerlens.decide.offers import decide_offers
from ledgerlens.decide.recommend import Catalog, PastRecommendation, recommend
from ledgerlens.decide.risk_proxy import proxy_risk
from ledgerlens.decide.rules import DecisionRules
from ledgerlens.decide.signals import business_signals
from ledgerlens.enrich.transfers import FxRates

__all__ = [
    "BusinessDecisions",
    "adopt_assessment",
    "decide_business",
    "forecast_business",
    "model_risk_scorer",
]

# (signals, transactions, categories) -> the risk model's verdict, or None to use the proxy
RiskScorer = Callable[
    [BusinessSignals, Sequence[Transaction], Mapping[str, str]], RiskAssessment | None
]


def adopt_assessment(a: Any) -> RiskAssessment:
    """The risk model's ``analyze.risk.RiskAssessment`` as decide's input (reasons in words,
    ``source`` = ``model:risk@<version>``)."""
    reasons = tuple(getattr(r, "text", str(r)) for r in a.reasons)
    return RiskAssessment(
        a.business_id, float(a.probability_of_distress), str(a.risk_band), reasons, str(a.source)
    )


def model_risk_scorer(model: Any, model_version: str) -> RiskScorer:
    """A ``Services.risk_scorer`` over the trained risk model (issue 7B), loaded once by the
    composition root."""
    from ledgerlens.analyze.risk import assess_risk

    def score(
        signals: BusinessSignals, transactions: Sequence[Transaction], categories: Mapping[str, str]
    ) -> RiskAssessment | None:
        if not transactions:
            return None
        return adopt_assessment(
            assess_risk(transactions, model, model_version, categories=categories)
        )

    return score


@dataclass(frozen=True, slots=True)
class BusinessDecisions:
    signals: BusinessSignals
    risk: RiskAssessment
    limits: list[Decision]
    offers: list[Decision] = field(default_factory=list)
    recommendations: list[Decision] = field(default_factory=list)
    tips: list[FxTip] = field(default_factory=list)

    @property
    def all(self) -> list[Decision]:
        """Every decision to audit (FX tips as recommendation decisions)."""
        tips = [tip_decision(self.signals.business_id, t) for t in self.tips]
        return [*self.limits, *self.offers, *self.recommendations, *tips]


def forecast_business(
    business_id: str,
    base_currency: str,
    accounts: Sequence[Account],
    transactions: Sequence[Transaction],
    *,
    fx_to_base: Mapping[str, float] | None = None,
    as_of: date | None = None,
) -> Forecast | None:
    """The 13-week forecast decisions look at (recurring series as known items)."""
    from ledgerlens.enrich.recurring import detect_recurring

    if not transactions or not accounts:
        return None
    as_of = as_of or max(t.booking_date for t in transactions)
    hist = [t for t in transactions if t.booking_date <= as_of]
    series = detect_recurring(hist, as_of=as_of)
    items, explained = series_items(series, as_of, 91)
    inp = build_input(
        business_id,
        base_currency,
        accounts,
        hist,
        as_of,
        items=items,
        explained_ids=explained,
        fx_to_base=fx_to_base,
    )
    return forecast(inp)


def decide_business(
    business_id: str,
    base_currency: str,
    accounts: Sequence[Account],
    transactions: Sequence[Transaction],
    rules: DecisionRules,
    catalog: Catalog,
    *,
    consented: bool,
    categories: Mapping[str, str] | None = None,
    forecast_result: Forecast | None = None,
    risk: RiskAssessment | None = None,
    risk_scorer: RiskScorer | None = None,
    fx_rates: FxRates | None = None,
    previous_limits: dict[str, int] | None = None,
    previous_probability: float | None = None,
    history: Sequence[PastRecommendation] = (),
    now: datetime | None = None,
) -> BusinessDecisions:
    """Limits always; offers, recommendations and FX tips only when ``consented``."""
    signals = business_signals(
        business_id,
        base_currency,
        accounts,
        transactions,
        categories=categories,
        forecast=forecast_result,
        fx_rates=fx_rates,
    )
    if risk is None and risk_scorer is not None:
        risk = risk_scorer(signals, transactions, categories or {})
    risk = risk or proxy_risk(signals, rules)
    # the band is the decision tables' call (compliance may move the bounds), not the model's
    band = str(
        rules.evaluate(
            "risk_bands", {"probability_of_distress": risk.probability_of_distress}
        ).outputs["risk_band"]
    )
    if band != risk.risk_band:
        risk = replace(risk, risk_band=band)
    limits = decide_limits(
        signals, risk, rules, previous_limits, previous_probability=previous_probability
    )
    if not consented:
        return BusinessDecisions(signals, risk, limits)
    offers = decide_offers(signals, risk, rules)
    recs = recommend(signals, risk, rules, catalog, consented=True, history=history, now=now)
    tips = fx_tips(transactions, accounts, fx_rates) if fx_rates is not None else []
    return BusinessDecisions(signals, risk, limits, offers, recs, tips)
