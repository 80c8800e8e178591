"""Round trip through the project's own importers: every generated file is claimed, parsed
without issues and reconciles (the lead's e2e test does the same through the database)."""

from __future__ import annotations

from pathlib import Path

import pytest

from ledgerlens.synth import World

detect = pytest.importorskip("ledgerlens.ingest.detect", reason="ingest parsers not present")


@pytest.mark.parametrize(
    ("folder", "pattern", "expected_format"),
    [
        ("csv", "*.csv", "csv"),
        ("camt053", "*.xml", "camt"),
        ("mt940", "*.sta", "mt940"),
        ("bankcsv", "*.csv", "bankcsv"),
    ],
)
def test_generated_files_import_and_reconcile(
    synth_world: World, synth_files: Path, folder: str, pattern: str, expected_format: str
) -> None:
    parsers = detect.default_parsers()
    files = sorted((synth_files / folder).rglob(pattern))
    if folder == "csv":
        files = [p for p in files if p.name.startswith("s")]
    assert files
    n_tx = reconciled = 0
    for p in files[:: max(1, len(files) // 40)]:
        data = p.read_bytes()
        parser = detect.detect_parser(data[: detect.HEAD_BYTES], p.name, parsers)
        assert parser is not None, p
        assert parser.format == expected_format, (p, parser.format)
        result = parser.parse(data, str(p))
        assert not result.issues, (p, result.issues[:3])
        for s in result.statements:
            n_tx += len(s.transactions)
            if s.reconciles is not None:
                assert s.reconciles, (p, s.statement_ref)
                reconciled += 1
    assert n_tx > 500
    if folder != "csv":
        assert reconciled > 0
