"""`ledgerlens forecast` and `ledgerlens backtest` on canonical CSV, through Typer."""

from __future__ import annotations

import csv
import json
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from ledgerlens.jobs.cli_forecast import register
from ledgerlens.ml.forecast_world import SHORTFALL_ORIGINS_AHEAD

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def history(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from ledgerlens.ml.synth_data import write_synthetic_world

    root = tmp_path_factory.mktemp("fc-cli")
    world = write_synthetic_world(3, 14, 6161, root / "world")
    out = root / "history.csv"
    files = sorted((world / "csv").glob("*.csv"))
    lines = files[0].read_text(encoding="utf-8").splitlines(keepends=True)
    for f in files[1:]:
        lines += f.read_text(encoding="utf-8").splitlines(keepends=True)[1:]
    out.write_text("".join(lines), encoding="utf-8")
    return out


def _app() -> typer.Typer:
    app = typer.Typer()
    register(app)
    return app


def test_forecast_writes_daily_bands_and_monday_weeks(history: Path, tmp_path: Path) -> None:
    out, weekly = tmp_path / "forecast.csv", tmp_path / "weekly.csv"
    res = CliRunner().invoke(
        _app(),
        [
            "forecast",
            "--input",
            str(history),
            "--horizon-days",
            "91",
            "--output",
            str(out),
            "--weekly",
            str(weekly),
        ],
    )
    assert res.exit_code == 0, res.output
    rows = list(csv.DictReader(out.open(encoding="utf-8")))
    assert len(rows) == 3 * 91
    assert list(rows[0]) == ["business_id", "date", "balance_p10", "balance_p50", "balance_p90"]
    for r in rows:
        lo, mid, hi = (Decimal(r[k]) for k in ("balance_p10", "balance_p50", "balance_p90"))
        assert lo <= mid <= hi
        assert len(r["balance_p50"].split(".")[-1]) == 2  # minor units as decimal strings
    weeks = list(csv.DictReader(weekly.open(encoding="utf-8")))
    assert list(weeks[0]) == [
        "business_id",
        "week_start",
        "shortfall_probability",
        "expected_min_balance",
    ]
    assert all(date.fromisoformat(w["week_start"]).weekday() == 0 for w in weeks)
    assert all(0.0 <= float(w["shortfall_probability"]) <= 1.0 for w in weeks)
    assert {w["business_id"] for w in weeks} == {r["business_id"] for r in rows}


def test_forecast_needs_exactly_one_source(tmp_path: Path) -> None:
    res = CliRunner().invoke(_app(), ["forecast", "--output", str(tmp_path / "f.csv")])
    assert res.exit_code != 0


def test_backtest_on_a_csv_reports_json_and_updates_the_doc(history: Path, tmp_path: Path) -> None:
    doc = tmp_path / "EVALUATION.md"
    doc.write_text("# Evaluation\n\nother section\n", encoding="utf-8")
    res = CliRunner().invoke(
        _app(),
        [
            "backtest",
            "--input",
            str(history),
            "--json",
            "--no-real",
            "--baseline-limit",
            "0",
            "--doc",
            str(doc),
        ],
    )
    assert res.exit_code == 0, res.output
    data = json.loads(res.output)
    ours = data["csv"]["methods"]["ledgerlens"]
    assert ours["cases"] >= 3 and ours["mase"] > 0
    assert "seasonal_naive" in data["csv"]["methods"]
    text = doc.read_text(encoding="utf-8")
    assert "other section" in text and "<!-- forecast:start -->" in text
    assert "Canonical CSV backtest" in text


def test_forecast_for_a_business_in_the_database(
    history: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from ledgerlens.bootstrap import bootstrap
    from ledgerlens.config import get_settings
    from ledgerlens.jobs.importing import run_imports
    from ledgerlens.jobs.setup import ensure_business

    rows = history.read_text(encoding="utf-8").splitlines(keepends=True)
    bid = rows[1].split(",")[1]
    one = tmp_path / f"{bid}.csv"
    one.write_text(rows[0] + "".join(r for r in rows[1:] if r.split(",")[1] == bid), "utf-8")
    monkeypatch.setenv("LEDGERLENS_DB__URL", f"sqlite:///{tmp_path}/fc.db")
    get_settings.cache_clear()
    try:
        c = bootstrap()
        ensure_business(c.uow_factory, bid, bid, "GB", "EUR")
        run_imports(c.importer, [one], bid, None, "auto", quiet=True)
        c.dispose()
        out = tmp_path / "db-forecast.csv"
        res = CliRunner().invoke(
            _app(), ["forecast", "--business", bid, "--horizon-days", "28", "--output", str(out)]
        )
        assert res.exit_code == 0, res.output
        got = list(csv.DictReader(out.open(encoding="utf-8")))
        assert len(got) == 28 and {r["business_id"] for r in got} == {bid}
        missing = CliRunner().invoke(
            _app(), ["forecast", "--business", "ghost", "--output", str(out)]
        )
        assert missing.exit_code != 0
    finally:
        get_settings.cache_clear()


def test_calibrate_forecast_writes_an_isotonic_map_and_refuses_the_test_seed(
    tmp_path: Path,
) -> None:
    out = tmp_path / "cal.json"
    refused = CliRunner().invoke(
        _app(), ["calibrate-forecast", "--seed", "9090", "--businesses", "4", "--output", str(out)]
    )
    assert refused.exit_code != 0 and not out.exists()

    res = CliRunner().invoke(
        _app(), ["calibrate-forecast", "--seed", "5", "--businesses", "8", "--output", str(out)]
    )
    assert res.exit_code == 0, res.output
    cal = json.loads(out.read_text(encoding="utf-8"))
    assert cal["version"].startswith("synth-seed5-8@")
    # every business at the history end and at each weekly origin after it
    weeks_each = sum(13 - d // 7 for d in (0, *SHORTFALL_ORIGINS_AHEAD))
    assert cal["evidence"]["weeks"] == 8 * weeks_each
    assert cal["x"][0] == 0.0 and cal["x"][-1] == 1.0
    assert all(a <= b for a, b in zip(cal["y"], cal["y"][1:], strict=False))  # monotone
