"""Ingest coverage over the real third-party corpus: every statement file imported for real.

For each bank-statement file under the external data folder this imports it into a scratch SQLite
database (one business per file), re-imports the whole corpus to prove it adds nothing, and checks
every statement against the folder's independent expectations (EXPECTED_SUMMARY.json) where the
upstream has them: transaction count, signed sum and the reconciliation verdict. The result is
written as Markdown (docs/ingest-coverage.md) and returned for tests to assert on.
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

from rich.console import Console

from ledgerlens.core.money import currency_exponent
from ledgerlens.ingest.detect import HEAD_BYTES, default_parsers, detect_parser
from ledgerlens.ingest.model import ParsedStatement

__all__ = ["CoverageResult", "FileCoverage", "collect_coverage", "write_coverage_report"]

# folders that hold bank statements; the rest of external/ is fraud, forecasting or code lists
STATEMENT_FOLDERS = (
    "csingley-ofxtools",
    "fruitl00p-php-mt940",
    "genkgo-camt",
    "moov-io-bai2",
    "ofxstatement-plugin-samples",
    "subite-camt-to-coda",
    "svenstaro-mt940-rs",
    "webschik-mt940-js",
)
# where an independent expectation is itself wrong, said once here and shown in the report
KNOWN_EXPECTATION_DEFECTS = {
    "fruitl00p-php-mt940/Rabo__sample.sta": (
        "the summary truncated this file's decimal-point amounts to whole units (it gives 164799 "
        "where the :61: lines sum to 164800.31) while keeping cents on balances; none of the "
        "affected statements is marked reconciling"
    ),
}
NOT_STATEMENTS = {
    "PROVENANCE.md",
    "EXPECTED_SUMMARY.json",
    "LICENSE",
    "LICENSE.md",
    "README.md",
    "derived_statement_balances.csv",
}


@dataclass(slots=True)
class FileCoverage:
    path: str
    format: str
    statements: int
    transactions: int
    reconciled: int
    unreconciled: int
    refused: bool
    reason: str
    checked: int = 0  # statements compared with an independent expectation
    agreed: int = 0
    checked_reconciling: int = 0  # … of those the expectation marks as reconciling
    agreed_reconciling: int = 0
    mismatches: list[str] = field(default_factory=list)
    expectation_defect: str = ""


@dataclass(slots=True)
class CoverageResult:
    files: list[FileCoverage]
    reimport_new: int

    @property
    def agreement(self) -> tuple[int, int]:
        return sum(f.agreed for f in self.files), sum(f.checked for f in self.files)

    @property
    def reconciling_agreement(self) -> tuple[int, int]:
        return (
            sum(f.agreed_reconciling for f in self.files),
            sum(f.checked_reconciling for f in self.files),
        )


def statement_files(data: Path) -> Iterator[Path]:
    for folder in STATEMENT_FOLDERS:
        root = data / folder
        if not root.is_dir():
            continue
        for f in sorted(root.rglob("*")):
            if not f.is_file() or f.name in NOT_STATEMENTS or f.name.startswith("LICENSE"):
                continue
            if f.suffix == ".json" and folder in ("genkgo-camt", "webschik-mt940-js"):
                continue  # the upstream's expected parse, not a statement
            yield f


def _expectations(data: Path) -> dict[Path, list[dict[str, object]]]:
    """Per-file statement expectations: n (count), sum (Decimal str), ok (reconciles)."""
    out: dict[Path, list[dict[str, object]]] = {}
    for folder in ("fruitl00p-php-mt940", "svenstaro-mt940-rs", "webschik-mt940-js"):
        p = data / folder / "EXPECTED_SUMMARY.json"
        if p.is_file():
            for f in json.loads(p.read_text())["files"]:
                out[data / folder / f["file"]] = [
                    {"n": {s["n"]}, "sum": s["sum"], "ok": s["ok"]} for s in f.get("segments", [])
                ]
    p = data / "subite-camt-to-coda" / "EXPECTED_SUMMARY.json"
    if p.is_file():
        for f in json.loads(p.read_text())["files"]:
            out[data / "subite-camt-to-coda" / f["file"]] = [
                {
                    "n": {s["entries"], s["tx_details"]},
                    "sum": s["net"],
                    "ok": s.get("balance_identity_holds"),
                }
                for s in f.get("statements", [])
            ]
    p = data / "moov-io-bai2" / "EXPECTED_SUMMARY.json"
    if p.is_file():
        for f in json.loads(p.read_text()):
            if "transactions" in f:
                out[data / "moov-io-bai2" / f["file"]] = [{"total_n": f["transactions"]}]
    return out


def _compare(cov: FileCoverage, stmts: list[ParsedStatement], expected: list[dict[str, object]]):
    if expected and "total_n" in expected[0]:
        cov.checked += 1
        n = sum(len(s.transactions) for s in stmts)
        if n == expected[0]["total_n"]:
            cov.agreed += 1
        else:
            cov.mismatches.append(f"transactions {n} != expected {expected[0]['total_n']}")
        return
    if len(stmts) != len(expected):
        cov.checked += len(expected)
        cov.checked_reconciling += sum(1 for e in expected if e["ok"])
        cov.mismatches.append(f"{len(stmts)} statements != expected {len(expected)}")
        return
    for i, (s, e) in enumerate(zip(stmts, expected, strict=True), start=1):
        total = Decimal(s.sum_minor).scaleb(-currency_exponent(s.currency))
        ok = (
            len(s.transactions) in e["n"]  # type: ignore[operator]
            and total == Decimal(str(e["sum"]))
            and (e["ok"] is None or s.reconciles == e["ok"])
        )
        cov.checked += 1
        cov.agreed += ok
        if e["ok"]:
            cov.checked_reconciling += 1
            cov.agreed_reconciling += ok
        if not ok:
            cov.mismatches.append(
                f"statement {i}: n={len(s.transactions)} sum={total} reconciles={s.reconciles}"
                f" vs expected n={sorted(e['n'])} sum={e['sum']} ok={e['ok']}"  # type: ignore[arg-type]
            )


def collect_coverage(data: Path) -> CoverageResult:
    """Import every statement file into a scratch database and check it against expectations."""
    from ledgerlens.bootstrap import bootstrap
    from ledgerlens.config import DbSettings, Settings
    from ledgerlens.jobs.setup import ensure_business

    parsers = default_parsers()
    expectations = _expectations(data)
    files = list(statement_files(data))
    results: list[FileCoverage] = []
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(db=DbSettings(url=f"sqlite:///{tmp}/coverage.db"))
        c = bootstrap(settings)
        try:
            for i, f in enumerate(files):
                bid = f"corpus-{i:04d}"
                ensure_business(c.uow_factory, bid, f.name, "GB", "EUR")
                report = c.importer.import_file(f, bid)
                first = next((x for x in report.issues if x.fatal), None)
                cov = FileCoverage(
                    path=str(f.relative_to(data)),
                    format=report.format,
                    statements=report.statements,
                    transactions=report.transactions,
                    reconciled=report.reconciled,
                    unreconciled=report.unreconciled,
                    refused=report.refused,
                    reason=_reason(first) if first else "",
                )
                if f in expectations:
                    raw = f.read_bytes()
                    parser = detect_parser(raw[:HEAD_BYTES], f.name, parsers)
                    parsed = parser.parse(raw, str(f)).statements if parser else []
                    _compare(cov, list(parsed), expectations[f])
                cov.expectation_defect = KNOWN_EXPECTATION_DEFECTS.get(cov.path, "")
                results.append(cov)
            reimport_new = sum(
                c.importer.import_file(f, f"corpus-{i:04d}").new for i, f in enumerate(files)
            )
        finally:
            c.dispose()
    return CoverageResult(results, reimport_new)


def _reason(issue: object) -> str:
    text = str(issue)
    return text.split(": ", 1)[-1] if ": " in text else text


def write_coverage_report(data: Path, output: Path, console: Console | None = None) -> str:
    result = collect_coverage(data)
    agreed, checked = result.agreement
    agreed_r, checked_r = result.reconciling_agreement
    imported = [f for f in result.files if not f.refused]
    lines = [
        "# Ingest coverage of the real statement corpus",
        "",
        "Generated by `ledgerlens ingest-coverage` (`make coverage-doc`) from "
        "`../shared/data/external/`. Each file is imported for real into a scratch SQLite "
        "database; statements are compared with the folder's independent EXPECTED_SUMMARY.json "
        "where it has one.",
        "",
        f"- files: {len(result.files)}; imported: {len(imported)}; refused: "
        f"{len(result.files) - len(imported)}",
        f"- statements: {sum(f.statements for f in imported)}; transactions: "
        f"{sum(f.transactions for f in imported)}",
        f"- agreement with expectations (count, signed sum, reconciliation): {agreed}/{checked} "
        f"statements; of those marked reconciling: {agreed_r}/{checked_r}",
        f"- re-importing the whole corpus added {result.reimport_new} transactions",
        "",
        "| file | format | statements | transactions | reconciled | result |",
        "|---|---|---:|---:|---:|---|",
    ]
    for f in result.files:
        rec = f"{f.reconciled}/{f.reconciled + f.unreconciled}"
        outcome = f"refused: {f.reason}" if f.refused else "imported"
        if f.checked:
            outcome += f"; expected {f.agreed}/{f.checked}"
        if f.mismatches:
            outcome += " — " + "; ".join(f.mismatches[:2])
        if f.mismatches and f.expectation_defect:
            outcome += f" (expectation defect: {f.expectation_defect})"
        outcome = outcome.replace("|", "\\|")
        lines.append(
            f"| {f.path} | {f.format} | {f.statements} | {f.transactions} | {rec} | {outcome} |"
        )
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return (
        f"{len(imported)}/{len(result.files)} files imported; expectations {agreed}/{checked} "
        f"(reconciling {agreed_r}/{checked_r}); re-import added {result.reimport_new}; "
        f"wrote {output}"
    )
