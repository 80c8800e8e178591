"""Deterministic categorization rules: applied before the model, only where they are certain.

Each rule has an id (its source is ``rule:<id>``), a leaf, and a predicate over the transaction.
They cover what a bank's own codes already say unambiguously — a cash withdrawal at an ATM
(MCC 6010/6011 or the CAMT family ``CCRD/CWDL``), an FX deal (``FORX``), salary by ISO purpose
``SALA``, credit interest — and payments to or from a tax office whose printed name itself names
the tax (``HMRC VAT``, ``DGFIP IS``, ``URSSAF``, ``Gewerbesteuer``). A tax office that collects
several taxes under one name (``Finanzamt``, ``Belastingdienst``, ``IRS``) is left to the model,
which reads the reference. Everything with any doubt is left to the model.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import lru_cache

from ledgerlens.core.ledger import Transaction
from ledgerlens.enrich.counterparties import name_key

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


_TAX_OFFICES: tuple[tuple[str, str, str, str], ...] = (
    # rule id, leaf, evidence, payee pattern (on upper-case words)
    ("tax-office-gb-vat", "tax.vat", "paid to HMRC VAT", r"HMRC VAT\b"),
    ("tax-office-gb-corporation-tax", "tax.corporate_income", "paid to HMRC corporation tax",
     r"HMRC (?:CT|CORPORATION TAX)\b"),
    ("tax-office-gb-paye", "opex.payroll_taxes_benefits", "paid to HMRC PAYE/NIC",
     r"HMRC (?:PAYE|NIC)\b"),
    ("tax-office-gb-business-rates", "tax.other", "business rates to the local council",
     r"(?:LOCAL )?COUNCIL (?:BUSINESS )?RATES\b"),
    ("tax-office-fr-vat", "tax.vat", "paid to DGFIP TVA", r"DGFIP TVA\b"),
    ("tax-office-fr-corporate", "tax.corporate_income",
     "paid to DGFIP IS (impôt sur les sociétés)", r"DGFIP IS\b"),
    ("tax-office-fr-cfe", "tax.other", "paid to DGFIP CFE (business property tax)",
     r"DGFIP CFE\b"),
    ("tax-office-fr-urssaf", "opex.payroll_taxes_benefits", "paid to URSSAF (social charges)",
     r"URSSAF\b"),
    ("tax-office-de-trade-tax", "tax.other", "paid to the city's Gewerbesteuer account",
     r"(?:STADTKASSE |GEMEINDEKASSE )?GEWERBESTEUER\b"),
)  # fmt: skip

_TAX_RX = re.compile("|".join(f"(?<![^ ])(?P<r{i}>{p})" for i, (*_, p) in enumerate(_TAX_OFFICES)))


@lru_cache(maxsize=1 << 14)
def _tax_office(payee: str, anywhere: bool = False) -> int:
    """Index in ``_TAX_OFFICES`` of the tax office ``payee`` names (-1: none); one regex.
    ``anywhere``: the payee sits inside a description, after the rail's boilerplate."""
    key = name_key(payee)
    m = _TAX_RX.search(" " + key) if anywhere else _TAX_RX.match(key)
    return int(m.lastgroup[1:]) if m is not None and m.lastgroup else -1


def _paid_to_tax_office(index: int) -> Callable[[Transaction], bool]:
    """The printed counterparty name (else the description's start) names this tax office."""
    return lambda tx: (_tax_office(tx.counterparty_name) if tx.counterparty_name.strip()
                       else _tax_office(tx.description[:48], True)) == index  # fmt: skip


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
    *(Rule(rid, leaf, evidence, _paid_to_tax_office(i))
      for i, (rid, leaf, evidence, _) in enumerate(_TAX_OFFICES)),
)  # fmt: skip


def first_rule(tx: Transaction, rules: Sequence[Rule] = DEFAULT_RULES) -> Rule | None:
    """The first rule that applies to ``tx``, or None."""
    for rule in rules:
        if rule.applies(tx):
            return rule
    return None
