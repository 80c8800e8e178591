"""Unusual transactions and employee-card misuse: rules, robust statistics and a model, fused.

See ``service.detect_anomalies`` for the flow and docs/anomalies.md for the rules, the budget
and the evaluation. Pure: no I/O, numpy only (scikit-learn is used by ``ml`` for comparison).
"""

from ledgerlens.analyze.anomalies.context import ScoringContext
from ledgerlens.analyze.anomalies.features import AnomalyConfig, AnomalyFeatures, build_features
from ledgerlens.analyze.anomalies.feedback import (
    ExpectedFeedback,
    ExpectedPatterns,
    FeedbackStore,
    InMemoryFeedbackStore,
    pattern_key,
)
from ledgerlens.analyze.anomalies.fuse import AlertBudget, AnomalyResult, fuse_scores
from ledgerlens.analyze.anomalies.misuse import EmployeeProfile, detect_misuse, profile_employees
from ledgerlens.analyze.anomalies.model import TailOutlierDetector
from ledgerlens.analyze.anomalies.rules import RuleHit, run_rules
from ledgerlens.analyze.anomalies.service import AnomalyReport, detect_all, detect_anomalies

__all__ = [
    "AlertBudget",
    "AnomalyConfig",
    "AnomalyFeatures",
    "AnomalyReport",
    "AnomalyResult",
    "EmployeeProfile",
    "ExpectedFeedback",
    "ExpectedPatterns",
    "FeedbackStore",
    "InMemoryFeedbackStore",
    "RuleHit",
    "ScoringContext",
    "TailOutlierDetector",
    "build_features",
    "detect_all",
    "detect_anomalies",
    "detect_misuse",
    "fuse_scores",
    "pattern_key",
    "profile_employees",
    "run_rules",
]
