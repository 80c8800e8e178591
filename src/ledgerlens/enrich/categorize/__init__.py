"""The categorizer: features, the calibrated model, certain rules and the batch service."""

from ledgerlens.enrich.categorize.features import FEATURE_SCHEMA, feature_row, feature_rows
from ledgerlens.enrich.categorize.model import CategorizerModel
from ledgerlens.enrich.categorize.rules import DEFAULT_RULES, Rule, first_rule
from ledgerlens.enrich.categorize.service import CategorizationResult, Categorizer

__all__ = [
    "DEFAULT_RULES",
    "FEATURE_SCHEMA",
    "CategorizationResult",
    "Categorizer",
    "CategorizerModel",
    "Rule",
    "feature_row",
    "feature_rows",
    "first_rule",
]
