"""Product recommendations: catalog as data, eligibility from the rules, propensity from usage.

``decide/data/catalog.json`` lists the products, the usage signals each needs (``requires``)
and what raises its propensity (``boosts``). A product is recommended when the rules make it
eligible, its propensity reaches the threshold, the frequency caps allow it, the owner never
dismissed it, and only with the offers consent (without it nothing is computed at all).
Each candidate yields a ``Decision`` — shown or suppressed, with its reason code.
"""

from __future__ import annotations

import json
import operator
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from importlib import resources
from pathlib import Path
from typing import Any

from ledgerlens.core.ledger import utc_now
from ledgerlens.decide.model import BusinessSignals, Decision, DecisionKind, RiskAssessment
from ledgerlens.decide.rules import DecisionRules

__all__ = ["Catalog", "PastRecommendation", "load_catalog", "recommend", "signal_values"]

_OPS: dict[str, Callable[[Any, Any], bool]] = {
    ">=": operator.ge,
    ">": operator.gt,
    "<=": operator.le,
    "<": operator.lt,
    "==": operator.eq,
}


@dataclass(frozen=True, slots=True)
class Catalog:
    version: str
    settings: dict[str, Any]
    products: tuple[dict[str, Any], ...]

    @property
    def ref(self) -> str:
        return f"catalog:products@{self.version}"


@dataclass(frozen=True, slots=True)
class PastRecommendation:
    """A recommendation shown before, and whether the owner dismissed it."""

    product: str
    shown_at: datetime
    dismissed: bool = False


def load_catalog(path: Path | None = None) -> Catalog:
    path = path or Path(str(resources.files("ledgerlens.decide"))) / "data" / "catalog.json"
    doc = json.loads(path.read_text(encoding="utf-8"))
    products = tuple(doc["products"])
    for p in products:
        for cond in [*p["requires"], *p["boosts"]]:
            if cond[1] not in _OPS:
                raise ValueError(f"catalog {p['code']}: unknown operator {cond[1]!r}")
    return Catalog(str(doc["version"]), dict(doc["settings"]), products)


def signal_values(s: BusinessSignals) -> dict[str, Any]:
    """Every usage signal a catalog condition may name."""
    inflow = s.monthly_inflow_minor or 1
    return {
        **s.facts(),
        "invoice_share": s.invoice_inflow_minor / inflow if s.monthly_inflow_minor else 0.0,
        "card_share": s.card_takings_minor / inflow if s.monthly_inflow_minor else 0.0,
        "marketplace_share": s.marketplace_inflow_minor / inflow if s.monthly_inflow_minor else 0.0,
        "foreign_card_share": s.foreign_card_share,
        "employees": s.employees,
        "employee_card_spenders": s.employee_card_spenders,
        "has_savings": s.has_savings,
        "has_currency_account": s.has_currency_account,
        "has_credit_card": s.has_credit_card,
        "has_card_acquiring": s.has_card_acquiring,
        "has_payroll": s.has_payroll,
        "has_insurance": s.has_insurance,
    }


def _holds(values: dict[str, Any], cond: Sequence[Any]) -> bool:
    return bool(_OPS[cond[1]](values[cond[0]], cond[2]))


def recommend(
    s: BusinessSignals,
    risk: RiskAssessment,
    rules: DecisionRules,
    catalog: Catalog,
    *,
    consented: bool,
    history: Sequence[PastRecommendation] = (),
    now: datetime | None = None,
) -> list[Decision]:
    """Ranked decisions, shown ones first (``outputs["shown"]``, ``outputs["rank"]``).

    Returns ``[]`` without the offers consent: usage is then not even scored."""
    if not consented:
        return []
    now = now or utc_now()
    cfg = catalog.settings
    values = signal_values(s)
    recent = [h for h in history if now - h.shown_at < timedelta(days=30)]
    budget = int(cfg["max_per_30_days"]) - len(recent)
    scored: list[tuple[float, dict[str, Any], list[str], list[str], str | None, str]] = []
    for p in catalog.products:
        code = p["code"]
        hit = rules.evaluate(
            "product_eligibility",
            {"product": code, "risk_band": risk.risk_band, "history_months": s.history_months},
        )
        codes = [str(hit.outputs["reason_code"])]
        missing = [c[0] for c in p["requires"] if not _holds(values, c)]
        boosts = [c for c in p["boosts"] if _holds(values, c)]
        propensity = min(1.0, float(p["base"]) + sum(float(c[3]) for c in boosts))
        if missing:
            propensity = 0.0
        why = [f"{c[0]} {c[1]} {c[2]}" for c in p["requires"] if c[0] not in missing]
        why += [f"{c[0]} {c[1]} {c[2]} (+{c[3]})" for c in boosts]
        past = [h for h in history if h.product == code]
        blocked: str | None = None
        if not hit.outputs["eligible"]:
            blocked = "REC_NOT_ELIGIBLE"
        elif missing:
            blocked = "REC_NO_NEED"
        elif propensity < float(cfg["threshold"]):
            blocked = "REC_LOW_PROPENSITY"
        elif any(h.dismissed for h in past):
            blocked = "REC_DISMISSED_BEFORE"
        elif any(
            now - h.shown_at < timedelta(days=int(cfg["min_days_between_same"])) for h in past
        ):
            blocked = "REC_SHOWN_RECENTLY"
        scored.append((propensity, p, codes, why, blocked, hit.version_ref))
    scored.sort(key=lambda x: (x[4] is not None, -x[0], x[1]["code"]))
    out: list[Decision] = []
    groups: set[str] = set()
    rank = 0
    for propensity, p, codes, why, blocked, ref in scored:
        group = p.get("group")
        if blocked is None and group and group in groups:
            blocked = "REC_GROUP_TAKEN"
        if blocked is None and rank >= budget:
            blocked = "REC_FREQUENCY_CAP"
        if blocked is None:
            rank += 1
            if group:
                groups.add(group)
        codes = [*codes, blocked or "REC_SHOWN"]
        out.append(
            Decision(
                business_id=s.business_id,
                kind=DecisionKind.RECOMMENDATION,
                subject=p["code"],
                outputs={
                    "shown": blocked is None,
                    "rank": rank if blocked is None else None,
                    "propensity": round(propensity, 4),
                    "name": p["name"],
                    "message": p["message"] if blocked is None else "",
                },
                inputs={
                    **values,
                    "risk_band": risk.risk_band,
                    "consented": True,
                    "history": [
                        (h.product, h.shown_at.isoformat(), h.dismissed)
                        for h in history
                        if h.product == p["code"]
                    ],
                },
                reason_codes=tuple(codes),
                versions=tuple(v for v in (ref, catalog.ref, risk.model_version) if v),
                reasons=tuple(why) or ("no usage signal for it",),
                confidence=round(propensity, 4),
                source=f"rule:recommend@{catalog.version}",
            )
        )
    return out
