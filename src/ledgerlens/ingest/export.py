"""Export a business's transactions as canonical CSV (the import/export and batch contract).

Rows come in canonical order (account, booking date, arrival), so exporting what a canonical CSV
import stored reproduces that file byte for byte.
"""

from __future__ import annotations

import csv
import os
import tempfile
from collections.abc import Callable
from pathlib import Path

from ledgerlens.core.errors import NotFound
from ledgerlens.core.ports import UnitOfWork
from ledgerlens.ingest.formats.canonical_csv import CANONICAL_COLUMNS, canonical_row

__all__ = ["export_business"]


def export_business(uow_factory: Callable[[], UnitOfWork], business_id: str, output: Path) -> int:
    """Write the file atomically (temp file + rename); return the number of transactions."""
    output.parent.mkdir(parents=True, exist_ok=True)
    n = 0
    with uow_factory() as uow:
        if uow.businesses.get(business_id) is None:
            raise NotFound(f"unknown business {business_id!r}")
        scope = uow.scope(business_id)
        currencies = {a.account_id: a.currency for a in scope.accounts.list()}
        fd, tmp = tempfile.mkstemp(dir=output.parent, prefix=f".{output.name}.", suffix=".tmp")
        try:
            with os.fdopen(fd, "w", encoding="utf-8", newline="") as fh:
                writer = csv.writer(fh, lineterminator="\n")
                writer.writerow(CANONICAL_COLUMNS)
                for tx in scope.transactions.iter_all():
                    writer.writerow(canonical_row(tx, currencies[tx.account_id]))
                    n += 1
            os.replace(tmp, output)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
    return n
