"""Format auto-detection over the registered parsers.

Each parser looks at the first bytes and the file name (``identify``); the first that claims the
file parses it. Order matters where formats nest: canonical CSV before bank CSV dialects, zip first.
"""

from __future__ import annotations

from collections.abc import Sequence

from ledgerlens.ingest.model import StatementParser

__all__ = ["FORMAT_ALIASES", "HEAD_BYTES", "default_parsers", "detect_parser", "parsers_for"]

HEAD_BYTES = 65536

# what the CLI's --format accepts → the parser formats it covers
FORMAT_ALIASES: dict[str, tuple[str, ...]] = {
    "csv": ("csv", "bankcsv"),
    "mt940": ("mt940",),
    "camt": ("camt",),
    "bai2": ("bai2",),
    "ofx": ("ofx",),
    "obie": ("obie",),
    "ics": ("ics",),
    "zip": ("zip",),
}


def default_parsers() -> list[StatementParser]:
    """Every parser LedgerLens ships, in detection order."""
    from ledgerlens.ingest.formats.archive import ZipArchiveParser
    from ledgerlens.ingest.formats.bai2 import Bai2Parser
    from ledgerlens.ingest.formats.bank_csv import BankCsvParser
    from ledgerlens.ingest.formats.camt import CamtParser
    from ledgerlens.ingest.formats.canonical_csv import CanonicalCsvParser
    from ledgerlens.ingest.formats.ics_cards import IcsCardsParser
    from ledgerlens.ingest.formats.mt940 import Mt940Parser
    from ledgerlens.ingest.formats.obie import OpenBankingParser
    from ledgerlens.ingest.formats.ofx import OfxParser

    inner: list[StatementParser] = [
        CanonicalCsvParser(),
        CamtParser(),
        OfxParser(),
        Mt940Parser(),
        Bai2Parser(),
        OpenBankingParser(),
        IcsCardsParser(),
        BankCsvParser(),
    ]
    return [ZipArchiveParser(inner), *inner]


def parsers_for(fmt: str, parsers: Sequence[StatementParser]) -> list[StatementParser]:
    """The parsers a --format value allows ("auto" allows all)."""
    if fmt == "auto":
        return list(parsers)
    wanted = FORMAT_ALIASES.get(fmt)
    if wanted is None:
        raise ValueError(f"unknown format {fmt!r}; choose auto or {', '.join(FORMAT_ALIASES)}")
    return [p for p in parsers if p.format in wanted]


def detect_parser(
    head: bytes, filename: str, parsers: Sequence[StatementParser]
) -> StatementParser | None:
    for parser in parsers:
        try:
            if parser.identify(head, filename):
                return parser
        except Exception:  # noqa: BLE001 - a parser that cannot judge simply does not claim
            continue
    return None
