"""Risk score: cash-flow features, monotone LightGBM, calibrated probability, reasons.

``assess_risk(transactions, model, version)`` is the entry point (see ``service``;
``assess_risk_columns`` when the caller already holds the lines as ``LedgerColumns``); the model is
loaded by ``adapters.risk_store.load_risk_model`` in the composition root. Pure: lightgbm and
scikit-learn are imported inside the methods that need them.
"""

from ledgerlens.analyze.risk.features import (
    FEATURES,
    MONOTONE,
    RiskFeatures,
    build_features,
    features_of_columns,
)
from ledgerlens.analyze.risk.model import BANDS, Reason, RiskModel, band_of
from ledgerlens.analyze.risk.service import (
    RiskAssessment,
    assess_features,
    assess_risk,
    assess_risk_columns,
)

__all__ = [
    "BANDS",
    "FEATURES",
    "MONOTONE",
    "Reason",
    "RiskAssessment",
    "RiskFeatures",
    "RiskModel",
    "assess_features",
    "assess_risk",
    "assess_risk_columns",
    "band_of",
    "build_features",
    "features_of_columns",
]
