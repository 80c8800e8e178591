"""The synthetic world through the real front door: `ledgerlens generate` writes statement files,
`ledgerlens import` takes every one of them with every checkable statement reconciling, and
`ledgerlens export` gives back the generated canonical CSV byte for byte."""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

CLI = [sys.executable, "-m", "ledgerlens.jobs"]


def _run(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*CLI, *args], env=env, capture_output=True, text=True, timeout=300)


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, str]]:
    tmp = tmp_path_factory.mktemp("synth-e2e")
    env = dict(os.environ, LEDGERLENS_DB__URL=f"sqlite:///{tmp}/e2e.db")
    out = tmp / "world"
    res = _run(
        [
            "generate",
            "--businesses",
            "4",
            "--months",
            "6",
            "--seed",
            "20261204",
            "--out",
            str(out),
            "--formats",
            "csv,camt053,mt940,bankcsv",
        ],
        env,
    )
    assert res.returncode == 0, res.stderr
    return out, env


def _businesses(out: Path) -> list[dict[str, str]]:
    with (out / "businesses.csv").open() as fh:
        return list(csv.DictReader(fh))


@pytest.mark.parametrize("fmt", ["camt053", "mt940", "bankcsv"])
def test_every_generated_statement_file_imports_and_reconciles(
    world: tuple[Path, dict[str, str]], fmt: str
) -> None:
    out, env = world
    for b in _businesses(out):
        folder = out / fmt / b["business_id"]
        if not folder.is_dir() or not any(folder.iterdir()):
            continue  # bank CSV exists only for GBP (Lloyds) and EUR (ING) accounts
        target = f"{fmt}-{b['business_id']}"
        _run(
            [
                "business",
                "add",
                target,
                "--country",
                b["country"],
                "--currency",
                b["base_currency"],
            ],
            env,
        )
        res = _run(["import", str(folder), "--business", target, "--json", "--no-enrich"], env)
        assert res.returncode == 0, res.stdout[-2000:] + res.stderr[-2000:]
        reports = [json.loads(line) for line in res.stdout.splitlines()]
        assert reports and all(not r["refused"] for r in reports)
        assert sum(r["unreconciled"] for r in reports) == 0
        assert sum(r["transactions"] for r in reports) > 0
        if fmt != "bankcsv" or b["base_currency"] == "GBP":  # ING's export prints no balances
            assert sum(r["reconciled"] for r in reports) == sum(r["statements"] for r in reports)


def test_canonical_csv_imports_and_exports_byte_for_byte(
    world: tuple[Path, dict[str, str]],
) -> None:
    out, env = world
    for b in _businesses(out)[:2]:
        bid = b["business_id"]
        _run(
            ["business", "add", bid, "--country", b["country"], "--currency", b["base_currency"]],
            env,
        )
        src = out / "csv" / f"{bid}.csv"
        res = _run(["import", str(src), "--business", bid, "--json", "--no-enrich"], env)
        assert res.returncode == 0, res.stdout + res.stderr
        exported = out / f"exported-{bid}.csv"
        res = _run(["export", "--business", bid, "--output", str(exported)], env)
        assert res.returncode == 0, res.stderr
        assert exported.read_bytes() == src.read_bytes()
