"""The flow as one table: each command names the handler that carries it out.

Entry points (CLI, API, stream worker, batch jobs) build a command and call ``dispatch``; they hold
no logic of their own. Stages grow this table as they land (enrich, analyze, decide, explain).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ledgerlens.ingest.service import ImportReport, StatementImporter

__all__ = ["HANDLERS", "ImportStatements", "Services", "dispatch"]


@dataclass(frozen=True, slots=True)
class ImportStatements:
    """Import statement files for one business (each file whole or not at all)."""

    business_id: str
    paths: tuple[Path, ...]
    account_id: str | None = None
    fmt: str = "auto"


@dataclass(frozen=True, slots=True)
class Services:
    """What handlers need, built by ``bootstrap`` (or fakes in tests)."""

    importer: StatementImporter


def import_statements(cmd: ImportStatements, services: Services) -> list[ImportReport]:
    return [
        services.importer.import_file(p, cmd.business_id, cmd.account_id, cmd.fmt)
        for p in cmd.paths
    ]


HANDLERS: dict[type, Callable[[Any, Services], Any]] = {
    ImportStatements: import_statements,
}


def dispatch(cmd: object, services: Services) -> Any:
    """Run the handler registered for the command's type."""
    try:
        handler = HANDLERS[type(cmd)]
    except KeyError:
        raise TypeError(f"no handler for {type(cmd).__name__}") from None
    return handler(cmd, services)
