"""The real statement corpus in ../shared: imported, checked against expectations, re-imported."""

from __future__ import annotations

from pathlib import Path

import pytest

from ledgerlens.jobs.coverage import KNOWN_EXPECTATION_DEFECTS, CoverageResult, collect_coverage


@pytest.fixture(scope="module")
def coverage(external_data: Path) -> CoverageResult:
    return collect_coverage(external_data)


def test_every_statement_file_imports_or_is_refused_with_a_reason(coverage: CoverageResult) -> None:
    assert len(coverage.files) > 500
    for f in coverage.files:
        assert f.refused == bool(f.reason), f
        assert f.format or f.refused, f.path


def test_agreement_with_expected_summaries_is_total(coverage: CoverageResult) -> None:
    agreed, checked = coverage.reconciling_agreement
    assert checked > 300
    mismatched = [(f.path, f.mismatches) for f in coverage.files if f.mismatches]
    assert agreed == checked, mismatched
    # outside the reconciling ones, disagreement is allowed only where the expectation itself is
    # shown to be wrong (documented in jobs/coverage.py and in the report)
    unexplained = [m for m in mismatched if m[0] not in KNOWN_EXPECTATION_DEFECTS]
    assert unexplained == []


def test_reimporting_the_corpus_adds_nothing(coverage: CoverageResult) -> None:
    assert coverage.reimport_new == 0


# Every refusal, with why it is right: the upstream marks the file broken (or its own reader fails
# on it), or the file is not a bank statement at all. Any other refusal fails the test.
EXPECTED_REFUSALS = {
    "moov-io-bai2/errors/sample-parseError.txt": "unknown record code",
    "moov-io-bai2/sample4-continuations-newline-delimited.txt": "control total",  # upstream fails
    "moov-io-bai2/sample5-issue113.txt": "control total",  # upstream: IntegrityException
    "genkgo-camt/camt053.v2.wrong.xml": "holds no Stmt",
    "ofxstatement-plugin-samples/iso20022-kedder/unsupported.xml": "unsupported namespace",
    "ofxstatement-plugin-samples/dutch-gpaulissen/ing_fail.csv": "malformed quoting",
    "ofxstatement-plugin-samples/dutch-gpaulissen/empty.csv": "empty",
    "ofxstatement-plugin-samples/dutch-gpaulissen/transactie-historie_fail.csv": "one account only",
    "ofxstatement-plugin-samples/dutch-gpaulissen/Knab_transactieoverzicht_no_lines.csv": (
        "no transactions"
    ),
    "ofxstatement-plugin-samples/dutch-gpaulissen/Knab_transactieoverzicht_no_header2.csv": (
        "without its header"
    ),
    # valid files that are not bank statements
    "csingley-ofxtools/invstmtrs.ofx": "investment statements",
    "csingley-ofxtools/profrs.ofx": "profile response",
    "ofxstatement-plugin-samples/dutch-gpaulissen/NL99INGB9999999999_25-11-2019_30-05-2020.csv": (
        "balances only"
    ),
}


def test_refusals_are_exactly_the_expected_ones_with_their_reasons(
    coverage: CoverageResult,
) -> None:
    refused = {f.path: f.reason for f in coverage.files if f.refused}
    assert set(refused) == set(EXPECTED_REFUSALS)
    for path, needle in EXPECTED_REFUSALS.items():
        assert needle in refused[path], (path, refused[path])
