"""Batch categorization of a canonical CSV file, without a database.

Out: ``transaction_id, category, confidence, source`` (category empty when the model abstains).
The input streams through the canonical parser; transactions are categorized a business at a
time (in blocks of at most ``BLOCK_ROWS``) so each business's trade profile comes from its own
lines. A file the canonical parser refuses produces no output: the result is written to a
temporary file and renamed only when everything went well.
"""

from __future__ import annotations

import csv
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from ledgerlens.core.errors import ImportRefused
from ledgerlens.core.ledger import Transaction
from ledgerlens.enrich.categorize.service import Categorizer
from ledgerlens.ingest.formats.canonical_csv import CanonicalCsvParser
from ledgerlens.ingest.model import ImportIssue

__all__ = ["OUTPUT_COLUMNS", "BatchReport", "categorize_csv"]

OUTPUT_COLUMNS = ("transaction_id", "category", "confidence", "source")
BLOCK_ROWS = 50_000


@dataclass(slots=True)
class BatchReport:
    transactions: int = 0
    abstained: int = 0
    by_source: dict[str, int] = field(default_factory=dict)


def _transactions(path: Path, issues: list[ImportIssue]) -> Iterator[Transaction]:
    parser = CanonicalCsvParser()
    with path.open("rb") as fh:
        for st in parser.iter_parse(fh, str(path), issues):
            for p in st.transactions:
                yield Transaction(
                    transaction_id=p.transaction_id, business_id=p.business_id,
                    account_id=p.account_id, booking_date=p.booking_date,
                    value_date=p.value_date, amount_minor=p.amount_minor, currency=st.currency,
                    description=p.description, counterparty_name=p.counterparty_name,
                    counterparty_iban=p.counterparty_iban, mcc=p.mcc, card_id=p.card_id,
                    employee_id=p.employee_id, bank_reference=p.bank_reference,
                    bank_tx_code=p.bank_tx_code, purpose_code=p.purpose_code,
                )  # fmt: skip


def _blocks(txs: Iterator[Transaction]) -> Iterator[list[Transaction]]:
    block: list[Transaction] = []
    for tx in txs:
        if block and tx.business_id != block[-1].business_id and len(block) >= BLOCK_ROWS:
            yield block
            block = []
        block.append(tx)
        if len(block) >= 4 * BLOCK_ROWS:  # one huge business: bound the memory
            yield block
            block = []
    if block:
        yield block


def categorize_csv(categorizer: Categorizer, source: Path, output: Path) -> BatchReport:
    """Categorize every row of ``source`` into ``output``; raises ImportRefused on a bad file."""
    report = BatchReport()
    issues: list[ImportIssue] = []
    tmp = output.with_name(output.name + ".partial")
    output.parent.mkdir(parents=True, exist_ok=True)
    try:
        with tmp.open("w", encoding="utf-8", newline="") as fh:
            w = csv.writer(fh, lineterminator="\n")
            w.writerow(OUTPUT_COLUMNS)
            for block in _blocks(_transactions(source, issues)):
                if any(i.fatal for i in issues):
                    break
                for r in categorizer.categorize(block, with_reasons=False):
                    w.writerow((r.transaction_id, r.category, f"{r.confidence:.4f}", r.source))
                    report.transactions += 1
                    report.abstained += r.abstained
                    kind = "model" if r.source.startswith("model:") else r.source
                    report.by_source[kind] = report.by_source.get(kind, 0) + 1
        fatal = [i for i in issues if i.fatal]
        if fatal:
            raise ImportRefused(str(source), list(fatal))
        os.replace(tmp, output)
    finally:
        tmp.unlink(missing_ok=True)
    return report
