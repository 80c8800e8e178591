"""The flow as one table: each command names the handler that carries it out.

Entry points (CLI, API, stream worker, batch jobs) build a command and call ``dispatch``; they hold
no logic of their own. Stages grow this table as they land (enrich, analyze, decide, explain).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ledgerlens.ingest.realtime import IncomingTransaction, IngestResult, TransactionIngestor
from ledgerlens.ingest.service import ImportReport, StatementImporter

__all__ = ["HANDLERS", "ImportStatements", "IngestTransactions", "Services", "dispatch"]


@dataclass(frozen=True, slots=True)
class ImportStatements:
    """Import statement files for one business (each file whole or not at all)."""

    business_id: str
    paths: tuple[Path, ...]
    account_id: str | None = None
    fmt: str = "auto"


@dataclass(frozen=True, slots=True)
class IngestTransactions:
    """Store transactions pushed in real time (the API's POST …/transactions), whole or not."""

    business_id: str
    rows: tuple[IncomingTransaction, ...]


@dataclass(frozen=True, slots=True)
class Services:
    """What handlers need, built by ``bootstrap`` (or fakes in tests)."""

    importer: StatementImporter
    ingestor: TransactionIngestor | None = None


def import_statements(cmd: ImportStatements, services: Services) -> list[ImportReport]:
    return [
        services.importer.import_file(p, cmd.business_id, cmd.account_id, cmd.fmt)
        for p in cmd.paths
    ]


def ingest_transactions(cmd: IngestTransactions, services: Services) -> IngestResult:
    """Store the batch. The seam for later stages: enrich and score the new rows here
    (synchronously, before answering), then schedule the forecast and insight refresh."""
    if services.ingestor is None:
        raise TypeError("Services.ingestor is not configured")
    return services.ingestor.ingest(cmd.business_id, cmd.rows)


HANDLERS: dict[type, Callable[[Any, Services], Any]] = {
    ImportStatements: import_statements,
    IngestTransactions: ingest_transactions,
}


def dispatch(cmd: object, services: Services) -> Any:
    """Run the handler registered for the command's type."""
    try:
        handler = HANDLERS[type(cmd)]
    except KeyError:
        raise TypeError(f"no handler for {type(cmd).__name__}") from None
    return handler(cmd, services)
