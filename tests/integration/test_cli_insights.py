"""The insights CLI end to end on a SQLite file: consent, refresh (one and --all over a process
pool), the feed as JSON, digests in three formats, export-all, and consent withdrawal."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from ledgerlens.core.ledger import Annotation, AnnotationKind, Business
from ledgerlens.ml.synth_data import iter_business_data, write_synthetic_world


def test_cli_flow(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from ledgerlens.bootstrap import bootstrap
    from ledgerlens.config import get_settings
    from ledgerlens.jobs.cli_insights import register

    world = write_synthetic_world(2, 6, 5151, tmp_path / "w", workers=1)
    data = list(iter_business_data(world))
    monkeypatch.setenv("LEDGERLENS_DB__URL", f"sqlite:///{tmp_path}/cli.db")
    get_settings.cache_clear()
    try:
        c = bootstrap()
        with c.uow_factory() as uow:
            for d in data:
                uow.businesses.add(Business(d.business_id, "B", d.country, d.base_currency))
                scope = uow.scope(d.business_id)
                for a in d.accounts:
                    scope.accounts.add(a)
                scope.transactions.add_new(d.transactions)
                scope.annotations.upsert(
                    [
                        Annotation(t, d.business_id, AnnotationKind.CATEGORY, cat, 1.0, "rule:t")
                        for t, cat in d.truth.category.items()
                    ]
                )
            uow.commit()
        c.dispose()
        app = typer.Typer()
        register(app)
        run = CliRunner().invoke
        bid, other = data[0].business_id, data[1].business_id

        res = run(app, ["consent", "grant", "--business", bid, "--purpose", "insights"])
        assert res.exit_code == 0, res.output
        assert run(app, ["consent", "grant", "--business", bid, "--purpose", "nope"]).exit_code
        end = max(t.booking_date for t in data[0].transactions).isoformat()
        res = run(app, ["refresh", "--all", "--workers", "2", "--as-of", end, "--insights-only"])
        assert res.exit_code == 0, res.output
        assert "1/2 businesses refreshed" in res.output  # the other has no consent
        feed = json.loads(
            run(app, ["insights", "--business", bid, "--json", "--include-expired"]).output
        )
        assert feed and all(i["evidence"] and i["source"] and i["confidence"] > 0 for i in feed)
        assert json.loads(run(app, ["insights", "--business", other, "--json"]).output) == []

        res = run(app, ["digest", "--business", bid, "--period", "weekly", "--format", "json"])
        assert res.exit_code == 0, res.output
        digest = json.loads(res.output)
        assert {e["kind"] for e in digest["cash"]} >= {"lowest_balance"}
        text = run(app, ["digest", "--business", bid, "--period", "daily"]).output
        assert "Key cash events" in text and "Upcoming tax payments" in text
        html = run(app, ["digest", "--business", bid, "--format", "html"]).output
        assert html.startswith("<!doctype html>")
        assert run(app, ["digest", "--business", other]).exit_code == 1  # no consent

        res = run(app, ["export-all", "--business", bid, "--output", str(tmp_path / "exp")])
        assert res.exit_code == 0, res.output
        with zipfile.ZipFile(tmp_path / "exp" / f"{bid}_export.zip") as z:
            assert f"{bid}/transactions.csv" in z.namelist()

        res = run(app, ["consent", "withdraw", "--business", bid, "--purpose", "insights"])
        assert res.exit_code == 0, res.output
        assert json.loads(run(app, ["insights", "--business", bid, "--json"]).output) == []
        res = run(app, ["refresh", "--business", bid])  # full: enrich + anomalies, no insights
        assert res.exit_code == 0, res.output
        assert "0/1 businesses refreshed" in res.output
    finally:
        get_settings.cache_clear()
