"""The command line as a user runs it: a real subprocess, a real SQLite file, JSON output."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
LEDGERLENS = [sys.executable, "-m", "ledgerlens.jobs"]


def _run(args: list[str], env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*LEDGERLENS, *args], env=env, cwd=cwd, capture_output=True, text=True)


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    e = dict(os.environ)
    e["LEDGERLENS_DB__URL"] = f"sqlite:///{tmp_path}/cli.db"
    return e


def test_import_json_reports_one_object_per_file_and_exit_codes(
    env: dict[str, str], tmp_path: Path
) -> None:
    assert (
        _run(
            ["business", "add", "acme", "--country", "GB", "--currency", "GBP"], env, tmp_path
        ).returncode
        == 0
    )
    good = REPO / "examples" / "demo-cafe-current-2026-10.mt940"
    bad = tmp_path / "broken.xml"
    bad.write_text("<Document><BkToCstmrStmt><Stmt>")
    ok = _run(["import", str(good), "--business", "acme", "--json"], env, tmp_path)
    assert ok.returncode == 0, ok.stderr
    (doc,) = [json.loads(line) for line in ok.stdout.splitlines()]
    assert set(doc) >= {
        "path",
        "format",
        "statements",
        "transactions",
        "new",
        "duplicates",
        "reconciled",
        "unreconciled",
        "issues",
    }
    assert (
        doc["format"],
        doc["statements"],
        doc["transactions"],
        doc["new"],
        doc["reconciled"],
    ) == ("mt940", 1, 7, 7, 1)

    mixed = _run(["import", str(good), str(bad), "--business", "acme", "--json"], env, tmp_path)
    assert mixed.returncode == 1
    docs = [json.loads(line) for line in mixed.stdout.splitlines()]
    assert docs[0]["new"] == 0 and docs[0]["duplicates"] == 7
    assert docs[1]["issues"] and docs[1]["issues"][0]["message"]
    assert "Traceback" not in mixed.stderr + mixed.stdout


def test_export_writes_canonical_csv(env: dict[str, str], tmp_path: Path) -> None:
    _run(["business", "add", "demo-cafe"], env, tmp_path)
    src = REPO / "examples" / "demo-cafe-eur-2026-10.csv"
    assert _run(["import", str(src), "--business", "demo-cafe"], env, tmp_path).returncode == 0
    out = tmp_path / "out.csv"
    res = _run(["export", "--business", "demo-cafe", "--output", str(out)], env, tmp_path)
    assert res.returncode == 0, res.stderr
    assert out.read_text() == src.read_text()


def test_demo_imports_the_examples_and_prints_a_summary(env: dict[str, str]) -> None:
    res = _run(["demo", "--businesses", "2", "--no-serve"], env, REPO)
    assert res.returncode == 0, res.stdout + res.stderr
    assert "transactions stored for demo-cafe" in res.stdout
    assert "Demo logins" in res.stdout and "/app#token=" in res.stdout


def test_unknown_business_is_a_clear_error_not_a_traceback(
    env: dict[str, str], tmp_path: Path
) -> None:
    res = _run(["import", str(REPO / "examples"), "--business", "ghost"], env, tmp_path)
    assert res.returncode == 1
    assert "unknown business" in res.stdout + res.stderr
    assert "Traceback" not in res.stdout + res.stderr
