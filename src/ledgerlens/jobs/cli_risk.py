"""CLI: batch risk scoring without a database, training, evaluation and the fairness report.

    ledgerlens risk --input transactions.csv --output scores.csv [--store DIR --version V]
    ledgerlens train-risk [--world DIR | --businesses N --months M --seed S] [--store DIR]
                          [--as-of-snapshots]
    ledgerlens evaluate-risk [--world DIR | --businesses N --seed S] [--json] [--doc FILE]
    ledgerlens fairness [--world DIR | --businesses N --seed S] [--json] [--doc FILE]

``risk`` reads canonical CSV (the production parser; a refused file exits 1 with the first
issue), scores each business on all of its history in the file, and writes ``business_id,
probability_of_distress, risk_band, reasons`` (reasons in plain words joined by " | ").
``register(app)`` adds the four commands to the main Typer app.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

__all__ = ["OUTPUT_COLUMNS", "register", "score_file"]

OUTPUT_COLUMNS = ("business_id", "probability_of_distress", "risk_band", "reasons")
EXTERNAL = Path(__file__).resolve().parents[3].parent / "shared" / "data" / "external"
err = Console(stderr=True)

StoreOpt = Annotated[Path | None, typer.Option("--store", help="Model store (default: packaged).")]
VersionOpt = Annotated[
    str | None, typer.Option("--version", help="Model version (default: newest).")
]
WorldOpt = Annotated[Path | None, typer.Option("--world", help="A written test world.")]


def _read_by_business(path: Path) -> dict[str, list]:  # type: ignore[type-arg]
    from ledgerlens.ingest.formats.canonical_csv import read_canonical_transactions

    out: dict[str, list] = {}  # type: ignore[type-arg]
    for t in read_canonical_transactions(path):
        out.setdefault(t.business_id, []).append(t)
    return out


def score_file(
    input_path: Path, output_path: Path, *, store: Path | None = None, version: str | None = None
) -> dict[str, object]:
    """Score every business of a canonical CSV file into the scores CSV; returns a summary."""
    from ledgerlens.adapters.risk_store import load_risk_model
    from ledgerlens.analyze.risk.service import assess_risk

    model, model_version = load_risk_model(store, version)
    groups = _read_by_business(input_path)
    bands: dict[str, int] = {}
    with output_path.open("w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh, lineterminator="\n")
        w.writerow(OUTPUT_COLUMNS)
        for bid in sorted(groups):
            a = assess_risk(groups[bid], model, model_version)
            bands[a.risk_band] = bands.get(a.risk_band, 0) + 1
            w.writerow(
                [
                    bid,
                    f"{a.probability_of_distress:.4f}",
                    a.risk_band,
                    " | ".join(r.text for r in a.reasons),
                ]
            )
    return {"businesses": len(groups), "bands": bands, "model": f"risk@{model_version}"}


def register(app: typer.Typer) -> None:
    """Add ``risk``, ``train-risk``, ``evaluate-risk`` and ``fairness`` to the main app."""

    @app.command("risk")
    def risk_cmd(
        input_path: Annotated[Path, typer.Option("--input", help="Canonical CSV to score.")],
        output_path: Annotated[Path, typer.Option("--output", help="Scores CSV to write.")],
        store: StoreOpt = None,
        version: VersionOpt = None,
    ) -> None:
        """Score each business in a canonical CSV (no database): probability, band, reasons."""
        if not input_path.is_file():
            err.print(f"error: no such file: {input_path}")
            raise typer.Exit(2)
        try:
            summary = score_file(input_path, output_path, store=store, version=version)
        except ValueError as exc:
            err.print(f"refused: {exc}")
            raise typer.Exit(1) from exc
        err.print(
            f"{summary['businesses']} businesses scored with {summary['model']}, "
            f"bands {summary['bands']} -> {output_path}"
        )

    @app.command("train-risk")
    def train_cmd(
        world: Annotated[Path | None, typer.Option("--world", help="A written world.")] = None,
        businesses: Annotated[int, typer.Option("--businesses")] = 2000,
        months: Annotated[int, typer.Option("--months")] = 18,
        seed: Annotated[int, typer.Option("--seed")] = 7103,
        store: StoreOpt = None,
        version: Annotated[str | None, typer.Option("--version", help="Version to write.")] = None,
        as_of_snapshots: Annotated[
            bool,
            typer.Option(
                "--as-of-snapshots", help="Also train on earlier as-of dates (docs/risk.md)."
            ),
        ] = False,
    ) -> None:
        """Train the risk model on the synthetic world's distress truth and store it."""
        from ledgerlens.adapters.model_store import ModelStore, packaged_root
        from ledgerlens.ml.risk_train import train_risk

        result = train_risk(
            ModelStore(store or packaged_root()),
            world_dir=world,
            businesses=businesses,
            months=months,
            seed=seed,
            version=version,
            as_of_snapshots=as_of_snapshots,
            log=err.print,
        )
        v = result.validation
        typer.echo(
            f"risk@{result.stored.version}: validation AUC {v['auc']:.4f}, "
            f"Brier {v['brier']:.4f}, ECE {v['ece']:.4f}"
        )

    def _evaluate(
        world: Path | None,
        businesses: int,
        seed: int,
        store: Path | None,
        version: str | None,
        external: bool,
    ) -> dict:
        from ledgerlens.adapters.risk_store import load_risk_model
        from ledgerlens.ml.risk_eval import evaluate_risk

        model, model_version = load_risk_model(store, version)
        return evaluate_risk(
            model,
            model_version,
            world_dir=world,
            businesses=businesses,
            seed=seed,
            external_dir=EXTERNAL if external else None,
            log=err.print,
        )

    @app.command("evaluate-risk")
    def evaluate_cmd(
        world: WorldOpt = None,
        businesses: Annotated[int, typer.Option("--businesses")] = 400,
        seed: Annotated[int, typer.Option("--seed")] = 7207,
        store: StoreOpt = None,
        version: VersionOpt = None,
        as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
        doc: Annotated[Path | None, typer.Option("--doc", help="Rewrite our blocks.")] = None,
    ) -> None:
        """AUC/Brier/ECE on an unseen synthetic world, Berka loans vs a baseline, fairness."""
        from ledgerlens.ml.risk_eval import (
            FAIR_END,
            FAIR_START,
            RISK_END,
            RISK_START,
            render_fairness,
            render_risk,
            update_doc_block,
        )

        metrics = _evaluate(world, businesses, seed, store, version, external=True)
        if doc is not None:
            update_doc_block(doc, render_risk(metrics), RISK_START, RISK_END)
            update_doc_block(doc, render_fairness(metrics), FAIR_START, FAIR_END)
        typer.echo(
            json.dumps(metrics, indent=2, sort_keys=True) if as_json else render_risk(metrics)
        )

    @app.command("fairness")
    def fairness_cmd(
        world: WorldOpt = None,
        businesses: Annotated[int, typer.Option("--businesses")] = 400,
        seed: Annotated[int, typer.Option("--seed")] = 7207,
        store: StoreOpt = None,
        version: VersionOpt = None,
        as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
        doc: Annotated[Path | None, typer.Option("--doc", help="Rewrite our block.")] = None,
    ) -> None:
        """Selection and error rates of risk bands, limits and offers across sector, region,
        age and size (fairlearn) on the synthetic test world."""
        from ledgerlens.ml.risk_eval import FAIR_END, FAIR_START, render_fairness, update_doc_block

        metrics = _evaluate(world, businesses, seed, store, version, external=False)
        if doc is not None:
            update_doc_block(doc, render_fairness(metrics), FAIR_START, FAIR_END)
        if as_json:
            typer.echo(
                json.dumps(
                    {
                        "model": metrics["model"],
                        "test_world": metrics["test_world"],
                        **metrics["fairness"],
                    },
                    indent=2,
                    sort_keys=True,
                )
            )
        else:
            typer.echo(render_fairness(metrics))
