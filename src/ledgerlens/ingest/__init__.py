"""Ingest: statement formats in, exact and deduplicated transactions out."""

from ledgerlens.ingest.model import (
    ImportIssue,
    ParsedStatement,
    ParsedTransaction,
    ParseResult,
    StatementParser,
)
from ledgerlens.ingest.service import ImportReport, StatementImporter

__all__ = [
    "ImportIssue",
    "ImportReport",
    "ParseResult",
    "ParsedStatement",
    "ParsedTransaction",
    "StatementImporter",
    "StatementParser",
]
