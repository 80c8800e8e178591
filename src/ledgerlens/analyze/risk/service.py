"""Assess one business's risk: features → calibrated probability → band and reasons, with evidence.

``assess_risk`` is what ``decide`` (limits, offers) and the batch CLI call. The result carries
everything an auditor needs to re-derive it: the model reference (``model:risk@<version>``), the
feature values used (the evidence), the reasons in plain words and a confidence that says how
much history the score stands on (a six-week-old account is scored, but with low confidence).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from ledgerlens.analyze.ledger_columns import LedgerColumns
from ledgerlens.analyze.risk.features import RiskFeatures, build_features, features_of_columns
from ledgerlens.analyze.risk.model import Reason, RiskModel
from ledgerlens.core.ledger import Transaction

__all__ = [
    "RiskAssessment",
    "assess_features",
    "assess_risk",
    "assess_risk_columns",
]

_FULL_CONFIDENCE_MONTHS = 12.0  # a year of history shows a full seasonal cycle
_FULL_CONFIDENCE_LINES = 200


@dataclass(frozen=True, slots=True)
class RiskAssessment:
    """The risk of one business at ``as_of``; see the module docstring."""

    business_id: str
    as_of: date
    probability_of_distress: float
    risk_band: str
    reasons: tuple[Reason, ...]
    source: str  # model:risk@<version>
    confidence: float
    features: Mapping[str, float]  # the evidence: every input the model saw

    @property
    def reason_codes(self) -> tuple[str, ...]:
        return tuple(r.code for r in self.reasons)

    def as_dict(self) -> dict[str, Any]:
        return {
            "business_id": self.business_id,
            "as_of": self.as_of.isoformat(),
            "probability_of_distress": round(self.probability_of_distress, 4),
            "risk_band": self.risk_band,
            "reasons": [
                {
                    "code": r.code,
                    "text": r.text,
                    "value": round(r.value, 4),
                    "contribution": round(r.contribution, 4),
                }
                for r in self.reasons
            ],
            "source": self.source,
            "confidence": round(self.confidence, 3),
            "features": {k: round(v, 6) for k, v in self.features.items()},
        }


def assess_features(
    feats: RiskFeatures, model: RiskModel, model_version: str, *, top_reasons: int = 3
) -> RiskAssessment:
    """Score precomputed features (the batch path computes them in a pool)."""
    p, band, reasons = model.explain(feats.values, top=top_reasons)
    values = feats.as_dict()
    months = values["business_age_months"]
    confidence = min(1.0, months / _FULL_CONFIDENCE_MONTHS) * min(
        1.0, feats.transactions / _FULL_CONFIDENCE_LINES
    )
    return RiskAssessment(
        business_id=feats.business_id,
        as_of=feats.as_of,
        probability_of_distress=p,
        risk_band=band,
        reasons=tuple(reasons),
        source=f"model:risk@{model_version}",
        confidence=round(confidence, 3),
        features=values,
    )


def assess_risk(
    transactions: Sequence[Transaction],
    model: RiskModel,
    model_version: str,
    *,
    categories: Mapping[str, str] | None = None,
    as_of: date | None = None,
    top_reasons: int = 3,
) -> RiskAssessment:
    """Assess ONE business from its transactions (and its category annotations when enriched)."""
    feats = build_features(transactions, categories=categories, as_of=as_of)
    return assess_features(feats, model, model_version, top_reasons=top_reasons)


def assess_risk_columns(
    lines: LedgerColumns,
    model: RiskModel,
    model_version: str,
    *,
    categories: Mapping[str, str] | None = None,
    as_of: date | None = None,
    top_reasons: int = 3,
) -> RiskAssessment:
    """``assess_risk`` on ONE business's lines already held as columns (build them with
    ``LedgerColumns.of(transactions)``, ids included when categories are given)."""
    feats = features_of_columns(lines, categories=categories, as_of=as_of)
    return assess_features(feats, model, model_version, top_reasons=top_reasons)
