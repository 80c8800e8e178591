"""Deterministic categorization rules: applied before the model, only where they are certain.

Each rule has an id (its source is ``rule:<id>``), a leaf, and a predicate over the transaction.
They cover what a bank's own codes already say unambiguously — a cash withdrawal at an ATM
(MCC 6010/6011 or the CAMT family ``CCRD/CWDL``), an FX deal (``FORX``), salary by ISO purpose
``SALA``, credit interest. Everything with any doubt is left to the model.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from ledgerlens.core.ledger import Transaction

__all__ = ["DEFAULT_RULES", "Rule", "first_rule"]


@dataclass(frozen=True, slots=True)
class Rule:
    rule_id: str
    category: str
    evidence: str  # the reason shown to the owner
    applies: Callable[[Transaction], bool]
    confidence: float = 0.99


def _code(tx: Transaction) -> str:
    return tx.bank_tx_code.strip().upper()


DEFAULT_RULES: tuple[Rule, ...] = (
    Rule("mcc-atm-cash", "transfer.cash", "MCC 6010/6011: cash withdrawal",
         lambda t: t.mcc in ("6010", "6011") and t.amount_minor < 0),
    Rule("bank-code-cash-withdrawal", "transfer.cash", "bank code CCRD/CWDL: cash withdrawal",
         lambda t: _code(t).startswith("PMNT/CCRD/CWDL") and t.amount_minor < 0),
    Rule("bank-code-fx-deal", "transfer.fx_conversion", "bank code FORX: a currency exchange",
         lambda t: _code(t).startswith("FORX/")),
    Rule("purpose-salary", "opex.payroll", "ISO purpose code SALA: salary paid",
         lambda t: t.purpose_code.strip().upper() == "SALA" and t.amount_minor < 0),
    Rule("bank-code-credit-interest", "income.interest", "bank code MCOP/INTR: interest credited",
         lambda t: _code(t).startswith("ACMT/MCOP/INTR") and t.amount_minor > 0),
)  # fmt: skip


def first_rule(tx: Transaction, rules: Sequence[Rule] = DEFAULT_RULES) -> Rule | None:
    """The first rule that applies to ``tx``, or None."""
    for rule in rules:
        if rule.applies(tx):
            return rule
    return None
