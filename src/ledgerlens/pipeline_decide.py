"""Pipeline handlers for decisions (issue 7A): limits, offers, recommendations, FX tips.

``pipeline.py`` keeps the command table; these handlers do the work:

* ``DecideForBusiness`` — read the business's stored lines, categories and consent, forecast
  13 weeks, score risk (``Services.risk_scorer`` when configured, else the transparent proxy),
  then decide limits (always) and offers, recommendations and FX tips (offers consent only).
  Previous limits and past recommendations come from the audit log itself, so hysteresis and
  "never again after a dismissal" need no other table. EVERY decision is appended to the
  hash-chained audit log (``Services.audit_log``) before the handler returns.
* ``DismissRecommendation`` — the owner dismissed a product: appended to the log as feedback,
  so the recommender never shows it again.

This module never imports ``pipeline`` or ``adapters`` at run time (the layers contract).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from ledgerlens.core.errors import NotFound
from ledgerlens.core.ledger import AnnotationKind, Purpose
from ledgerlens.decide.audit_chain import AuditEntry
from ledgerlens.decide.model import Decision, DecisionKind
from ledgerlens.decide.recommend import Catalog, PastRecommendation, load_catalog
from ledgerlens.decide.rules import DecisionRules
from ledgerlens.decide.service import BusinessDecisions, decide_business, forecast_business

if TYPE_CHECKING:
    from ledgerlens.pipeline import Services

__all__ = [
    "DecideForBusiness",
    "DecisionReport",
    "DismissRecommendation",
    "decide_for_business",
    "dismiss_recommendation",
]


@dataclass(frozen=True, slots=True)
class DecideForBusiness:
    """Compute and audit all of one business's limits, offers and recommendations."""

    business_id: str


@dataclass(frozen=True, slots=True)
class DismissRecommendation:
    business_id: str
    product: str
    member_id: str = ""


@dataclass(frozen=True, slots=True)
class DecisionReport:
    business_id: str
    consented: bool
    decisions: BusinessDecisions
    audited: tuple[AuditEntry, ...]


@lru_cache(maxsize=1)
def _default_rules() -> DecisionRules:
    return DecisionRules.load()


@lru_cache(maxsize=1)
def _default_catalog() -> Catalog:
    return load_catalog()


def _rules(services: Services) -> tuple[DecisionRules, Catalog, Any]:
    audit = getattr(services, "audit_log", None)
    if audit is None or not hasattr(audit, "append"):
        raise TypeError("Services.audit_log is not configured: decisions must be audited")
    rules = getattr(services, "decision_rules", None) or _default_rules()
    catalog = getattr(services, "product_catalog", None) or _default_catalog()
    return rules, catalog, audit


def _past(
    entries: list[AuditEntry],
) -> tuple[dict[str, int], float | None, list[PastRecommendation]]:
    """Current limits, the probability of distress they were set on (the limits' hysteresis
    needs it) and the recommendation history, read back from the log."""
    limits: dict[str, int] = {}
    probability: float | None = None
    history: list[PastRecommendation] = []
    for e in entries:  # in chain order: later entries win
        out = e.outputs
        if e.kind == DecisionKind.LIMIT and e.subject.endswith("_limit"):
            limits[e.subject.removesuffix("_limit")] = int(out["limit_minor"])
            seen = e.inputs.get("probability_of_distress")
            probability = float(seen) if seen is not None else probability
        elif e.kind == DecisionKind.RECOMMENDATION and out.get("shown"):
            history.append(PastRecommendation(e.subject, e.decided_at))
        elif e.kind == DecisionKind.FEEDBACK and out.get("dismissed"):
            history.append(PastRecommendation(e.subject, e.decided_at, dismissed=True))
    return limits, probability, history


def decide_for_business(cmd: DecideForBusiness, services: Services) -> DecisionReport:
    """Decide everything for one business and append every decision to the audit log."""
    if services.uow_factory is None:
        raise TypeError("Services.uow_factory is not configured")
    rules, catalog, audit = _rules(services)
    with services.uow_factory() as uow:
        business = uow.businesses.get(cmd.business_id)
        if business is None:
            raise NotFound(f"unknown business {cmd.business_id!r}")
        scope = uow.scope(cmd.business_id)
        accounts = scope.accounts.list()
        txs = list(scope.transactions.iter_all())
        categories = {
            a.transaction_id: a.value for a in scope.annotations.list(AnnotationKind.CATEGORY)
        }
        consented = Purpose.OFFERS in scope.consents.active()
    fx = {}
    if services.fx_rates is not None and txs:
        as_of = max(t.booking_date for t in txs)
        for a in accounts:
            hit = services.fx_rates.rate(a.currency, business.base_currency, as_of)
            if a.currency != business.base_currency and hit is not None:
                fx[a.currency] = hit[0]
    fc = forecast_business(cmd.business_id, business.base_currency, accounts, txs, fx_to_base=fx)
    previous, previous_p, history = _past(audit.entries(cmd.business_id))
    bundle = decide_business(
        cmd.business_id,
        business.base_currency,
        accounts,
        txs,
        rules,
        catalog,
        consented=consented,
        categories=categories,
        forecast_result=fc,
        risk_scorer=getattr(services, "risk_scorer", None),
        fx_rates=services.fx_rates,
        previous_limits=previous,
        previous_probability=previous_p,
        history=history,
    )
    decisions = bundle.all
    entries = audit.append(decisions)
    if len(entries) != len(decisions):
        raise RuntimeError("audit log did not store every decision")
    return DecisionReport(cmd.business_id, consented, bundle, tuple(entries))


def dismiss_recommendation(cmd: DismissRecommendation, services: Services) -> AuditEntry:
    _, _, audit = _rules(services)
    d = Decision(
        business_id=cmd.business_id,
        kind=DecisionKind.FEEDBACK,
        subject=cmd.product,
        outputs={"dismissed": True},
        inputs={"member_id": cmd.member_id},
        reason_codes=("REC_DISMISSED_BY_OWNER",),
        versions=(),
        source="owner",
    )
    entry: AuditEntry = audit.append([d])[0]
    return entry
