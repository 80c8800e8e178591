"""The database-free ``risk`` command: canonical CSV in, one scored row per business out."""

from __future__ import annotations

import csv
from dataclasses import replace
from pathlib import Path

import typer
from typer.testing import CliRunner

from ledgerlens.ingest.formats.canonical_csv import write_canonical_csv
from ledgerlens.jobs import cli_risk

from .risk_builders import steady_business


def _app() -> typer.Typer:
    app = typer.Typer()
    cli_risk.register(app)
    return app


def test_risk_command_scores_each_business(tmp_path: Path) -> None:
    strong = steady_business(12, growth=0.03, opening_minor=6_000_000).lines
    weak = [
        replace(
            t,
            business_id="b2",
            transaction_id=t.transaction_id.replace("b1", "b2"),
            account_id="b2acc",
        )
        for t in steady_business(12, growth=-0.06, opening_minor=0).lines
    ]
    src = tmp_path / "tx.csv"
    with src.open("w", encoding="utf-8", newline="") as fh:
        write_canonical_csv([*strong, *weak], lambda _a: "EUR", fh)
    out = tmp_path / "scores.csv"
    result = CliRunner().invoke(_app(), ["risk", "--input", str(src), "--output", str(out)])
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(out.open(encoding="utf-8")))
    assert [r["business_id"] for r in rows] == ["b1", "b2"]
    assert tuple(rows[0]) == cli_risk.OUTPUT_COLUMNS
    by_id = {r["business_id"]: r for r in rows}
    assert float(by_id["b2"]["probability_of_distress"]) > float(
        by_id["b1"]["probability_of_distress"]
    )
    assert by_id["b2"]["reasons"]


def test_missing_and_refused_input(tmp_path: Path) -> None:
    runner = CliRunner()
    missing = runner.invoke(
        _app(), ["risk", "--input", str(tmp_path / "no.csv"), "--output", str(tmp_path / "o.csv")]
    )
    assert missing.exit_code == 2
    bad = tmp_path / "bad.csv"
    bad.write_text("not,a,canonical,file\n1,2,3,4\n", encoding="utf-8")
    refused = runner.invoke(
        _app(), ["risk", "--input", str(bad), "--output", str(tmp_path / "o.csv")]
    )
    assert refused.exit_code == 1
