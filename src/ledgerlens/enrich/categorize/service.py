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
from ledgerlens.enrich.categorize.features import (
    BusinessContext,
    FeatureRow,
    business_contexts,
    business_profiles,
    feature_row,
)
from ledgerlens.enrich.categorize.model import CategorizerModel
from ledgerlens.enrich.categorize.rules import DEFAULT_RULES, Rule, first_rule
from ledgerlens.enrich.corrections import CorrectionMemory

__all__ = ["LEAN_ROWS", "CategorizationResult", "Categorizer"]

# up to this many rows to score, each goes through ``score_one`` (no sklearn call): a grouped
# real-time write holds a handful of lines, and sklearn's per-call overhead (input validation,
# sparse matrices) costs more than the rows themselves until a batch is a few dozen lines
LEAN_ROWS = 8


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
        contexts: Mapping[str, BusinessContext] | None = None,
        with_reasons: bool = True,
    ) -> list[CategorizationResult]:
        """One result per transaction, in order. ``account_types`` maps account id -> type;
        ``corrections`` maps business id -> that business's memory; ``profiles`` (business id ->
        trade words, ``business_profiles``) default to those of the batch itself, so pass the
        stored ones when categorizing a handful of new lines; ``contexts`` (``business_contexts``)
        likewise default to the batch's own (a business with too few lines gets none)."""
        types = account_types or {}
        memories = corrections or {}
        results: list[CategorizationResult | None] = [None] * len(transactions)
        pending: list[int] = []
        # the default rules read only these fields: one verdict per distinct combination
        memo: dict[tuple[object, ...], Rule | None] | None = (
            {} if self.rules == DEFAULT_RULES else None
        )
        for i, tx in enumerate(transactions):
            memory = memories.get(tx.business_id)
            hit = memory.lookup(tx) if memory is not None else None
            if hit is not None:
                results[i] = CategorizationResult(
                    tx.transaction_id, hit.category, 1.0, f"rule:correction:{hit.correction_id}",
                    ("the owner corrected a similar transaction to this category",),
                )  # fmt: skip
                continue
            if memo is None:
                rule = first_rule(tx, self.rules)
            else:
                key = (tx.mcc, tx.bank_tx_code, tx.purpose_code, tx.amount_minor > 0,
                       tx.counterparty_name, "" if tx.counterparty_name.strip()
                       else tx.description[:48])  # fmt: skip
                rule = memo[key] if key in memo else memo.setdefault(key, first_rule(tx))
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
            if contexts is None:
                contexts = business_contexts(transactions) if len(transactions) > 1 else {}
            rows = []
            for i in pending:
                tx = transactions[i]
                rows.append(feature_row(tx, types.get(tx.account_id, ""),
                                        profiles.get(tx.business_id, ()),
                                        context=contexts.get(tx.business_id)))  # fmt: skip
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
        model, threshold, classes = self.model, self.model.threshold_, self.model.classes_
        if len(rows) <= LEAN_ROWS:  # the lean path: no sklearn call, no sparse matrices
            lean = []
            for k, row in enumerate(rows):
                b, c, (idx, val) = model.score_one(row)
                why = tuple(model.reasons_of(idx, val, b)) if with_reasons else ()
                lean.append(CategorizationResult(transactions[pending[k]].transaction_id,
                                                 str(classes[b]) if c >= threshold else "",
                                                 round(c, 4), self.source, why))  # fmt: skip
            return lean
        best, conf, handle = model.score_rows(rows)
        labels = [str(c) for c in classes]
        cats = [labels[b] if c >= threshold else "" for b, c in zip(best.tolist(), conf.tolist(),
                                                                    strict=True)]  # fmt: skip
        confs = np.round(conf.astype(np.float64), 4).tolist()
        reasons: dict[FeatureRow, tuple[str, ...]] = {}
        out = []
        for k, i in enumerate(pending):
            why: tuple[str, ...] = ()
            if with_reasons:
                row = rows[k]
                if row not in reasons:
                    reasons[row] = tuple(model.reasons_of(*model.row_features(handle, k),
                                                          int(best[k])))  # fmt: skip
                why = reasons[row]
            out.append(CategorizationResult(transactions[i].transaction_id, cats[k], confs[k],
                                            self.source, why))  # fmt: skip
        return out
