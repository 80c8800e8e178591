"""``Categorizer``: corrections, then rules, then the model — one result per transaction.

Order of authority: the business's own corrections (``rule:correction:<id>``), the certain
rules (``rule:<id>``), then the model (``model:categorizer@<version>``), which abstains (empty
category) below its validated threshold. The batch is vectorized: feature rows are built once,
identical rows are scored once (one transform, one matrix product).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from ledgerlens.core.ledger import Transaction
from ledgerlens.enrich.categorize.features import FeatureRow, business_profiles, feature_row
from ledgerlens.enrich.categorize.model import CategorizerModel
from ledgerlens.enrich.categorize.rules import DEFAULT_RULES, Rule, first_rule
from ledgerlens.enrich.corrections import CorrectionMemory

__all__ = ["CategorizationResult", "Categorizer"]


@dataclass(frozen=True, slots=True)
class CategorizationResult:
    """What the categorizer says about one transaction (category "" = not sure)."""

    transaction_id: str
    category: str
    confidence: float
    source: str
    reasons: tuple[str, ...] = ()

    @property
    def abstained(self) -> bool:
        return not self.category


class Categorizer:
    """Categorizes batches of transactions; built once (bootstrap) with a loaded model."""

    def __init__(
        self,
        model: CategorizerModel,
        version: str,
        *,
        rules: Sequence[Rule] = DEFAULT_RULES,
        name: str = "categorizer",
    ) -> None:
        self.model = model
        self.version = version
        self.rules = tuple(rules)
        self.source = f"model:{name}@{version}"

    def categorize(
        self,
        transactions: Sequence[Transaction],
        *,
        account_types: Mapping[str, str] | None = None,
        corrections: Mapping[str, CorrectionMemory] | None = None,
        profiles: Mapping[str, Sequence[str]] | None = None,
        with_reasons: bool = True,
    ) -> list[CategorizationResult]:
        """One result per transaction, in order. ``account_types`` maps account id -> type;
        ``corrections`` maps business id -> that business's memory; ``profiles`` (business id ->
        trade words, ``business_profiles``) default to those of the batch itself, so pass the
        stored ones when categorizing a handful of new lines."""
        types = account_types or {}
        memories = corrections or {}
        results: list[CategorizationResult | None] = [None] * len(transactions)
        pending: list[int] = []
        for i, tx in enumerate(transactions):
            memory = memories.get(tx.business_id)
            hit = memory.lookup(tx) if memory is not None else None
            if hit is not None:
                results[i] = CategorizationResult(
                    tx.transaction_id, hit.category, 1.0, f"rule:correction:{hit.correction_id}",
                    ("the owner corrected a similar transaction to this category",),
                )  # fmt: skip
                continue
            rule = first_rule(tx, self.rules)
            if rule is not None:
                results[i] = CategorizationResult(
                    tx.transaction_id, rule.category, rule.confidence, f"rule:{rule.rule_id}",
                    (rule.evidence,),
                )  # fmt: skip
                continue
            pending.append(i)
        if pending:
            if profiles is None:
                profiles = business_profiles(transactions)
            rows = [feature_row(transactions[i], types.get(transactions[i].account_id, ""),
                                profiles.get(transactions[i].business_id, ()))
                    for i in pending]  # fmt: skip
            for i, res in zip(pending, self._score(rows, transactions, pending, with_reasons),
                              strict=True):  # fmt: skip
                results[i] = res
        return [r for r in results if r is not None]

    def _score(
        self,
        rows: list[FeatureRow],
        transactions: Sequence[Transaction],
        pending: list[int],
        with_reasons: bool,
    ) -> list[CategorizationResult]:
        unique: dict[FeatureRow, int] = {}
        inverse = np.fromiter((unique.setdefault(r, len(unique)) for r in rows), dtype=np.int64,
                              count=len(rows))  # fmt: skip
        m = self.model.transform(list(unique))
        best, conf = self.model.score_matrix(m)
        classes = self.model.classes_
        threshold = self.model.threshold_
        reasons: dict[int, tuple[str, ...]] = {}
        out = []
        for k, u in enumerate(inverse.tolist()):
            c = float(conf[u])
            category = str(classes[best[u]]) if c >= threshold else ""
            why: tuple[str, ...] = ()
            if with_reasons:
                if u not in reasons:
                    reasons[u] = tuple(self.model.reasons(m, u, int(best[u])))
                why = reasons[u]
            out.append(CategorizationResult(transactions[pending[k]].transaction_id, category,
                                            round(c, 4), self.source, why))  # fmt: skip
        return out
