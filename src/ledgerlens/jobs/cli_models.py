"""Model commands: ``train``, ``evaluate``, ``export-model`` and the database-free ``categorize``.

``register(app)`` adds them to the main Typer app (jobs/cli.py calls it). Heavy modules
(sklearn, skl2onnx, the synthetic world) are imported inside the commands so ``ledgerlens
--help`` stays fast.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

__all__ = ["register"]

console = Console(stderr=True)
train_app = typer.Typer(help="Train a model on the synthetic world.", no_args_is_help=True)
evaluate_app = typer.Typer(help="Evaluate a model on an unseen test world.", no_args_is_help=True)

StoreOpt = Annotated[
    Path | None,
    typer.Option(
        "--store", help="Model store folder (default: the models shipped in the package)."
    ),
]
VersionOpt = Annotated[
    str | None, typer.Option("--version", help="Model version (default: newest).")
]


@train_app.command("categorizer")
def train_categorizer_cmd(
    businesses: Annotated[int, typer.Option(help="Businesses in the training world.")] = 200,
    months: Annotated[int, typer.Option(help="Months of history per business.")] = 12,
    seed: Annotated[int, typer.Option(help="Seed of the training world.")] = 7,
    store: StoreOpt = None,
    version: Annotated[str | None, typer.Option("--version", help="Version to write.")] = None,
) -> None:
    """Generate a world, split by business, fit, calibrate, choose the abstain threshold, store."""
    from ledgerlens.adapters.model_store import ModelStore, packaged_root
    from ledgerlens.ml.categorizer.train import train_categorizer

    result = train_categorizer(
        ModelStore(store or packaged_root()), businesses=businesses, months=months, seed=seed,
        version=version, log=lambda m: console.print(m),
    )  # fmt: skip
    v = result.validation
    typer.echo(
        f"categorizer@{result.stored.version}: validation macro-F1 {v['macro_f1']:.4f}, "
        f"coverage {v['coverage']:.4f}, accuracy on covered {v['accuracy_covered']:.4f}"
    )


@evaluate_app.command("categorizer")
def evaluate_categorizer_cmd(
    businesses: Annotated[int, typer.Option(help="Businesses in the test world.")] = 60,
    months: Annotated[int, typer.Option(help="Months of history.")] = 12,
    seed: Annotated[
        int, typer.Option(help="Seed of the TEST world (not the training one).")
    ] = 20261,
    store: StoreOpt = None,
    version: VersionOpt = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the full report as JSON.")] = False,
    report: Annotated[Path, typer.Option(help="Markdown file for the per-class table.")] = Path(
        "docs/EVALUATION.md"
    ),
) -> None:
    """Judge the stored model on unseen businesses; write the per-class table to REPORT."""
    from ledgerlens.adapters.model_store import ModelStore, load_categorizer, packaged_root
    from ledgerlens.ml.categorizer.evaluate import evaluate_categorizer, write_markdown
    from ledgerlens.ml.categorizer.train import read_seen

    root = store or packaged_root()
    categorizer, found = load_categorizer(root, version)
    if seed == ModelStore(root).get("categorizer", found).manifest["data"]["seed"]:
        raise typer.BadParameter("the test seed must differ from the training seed")
    seen = read_seen(ModelStore(root).get("categorizer", found).path)
    result = evaluate_categorizer(categorizer, seen, businesses=businesses, months=months,
                                  seed=seed)  # fmt: skip
    write_markdown(result, report)
    if as_json:
        sys.stdout.write(json.dumps(result, indent=2) + "\n")
        return
    u = result["unseen_counterparties"]
    typer.echo(
        f"categorizer@{found} on {result['transactions']} test transactions: macro-F1 "
        f"{result['macro_f1']:.4f}, coverage {result['coverage']:.4f}, accuracy on covered "
        f"{result['accuracy_covered']:.4f}; unseen counterparties ({u['transactions']}): "
        f"accuracy on covered {u['accuracy_covered']:.4f}, coverage {u['coverage']:.4f}"
    )
    for row in result["per_class"]:
        typer.echo(f"  {row['category']:<32} P {row['precision']:.3f}  R {row['recall']:.3f}  "
                   f"F1 {row['f1']:.3f}  n {row['support']}")  # fmt: skip
    typer.echo(f"per-class table written to {report}")


def export_model_cmd(
    name: Annotated[str, typer.Argument(help="Model name (categorizer).")],
    output: Annotated[Path, typer.Option("--output", help="File to write.")],
    fmt: Annotated[str, typer.Option("--format", help="Export format (onnx).")] = "onnx",
    store: StoreOpt = None,
    version: VersionOpt = None,
) -> None:
    """Export a stored model for on-device use (ONNX, exact parity with Python)."""
    if name != "categorizer" or fmt != "onnx":
        raise typer.BadParameter("only `categorizer` in format `onnx` can be exported")
    from ledgerlens.adapters.model_store import load_categorizer, packaged_root
    from ledgerlens.ml.categorizer.onnx_export import export_onnx

    categorizer, found = load_categorizer(store or packaged_root(), version)
    data = export_onnx(categorizer.model, output)
    typer.echo(f"categorizer@{found} exported to {output} ({len(data)} bytes); abstain below "
               f"{categorizer.model.threshold_:.4f}")  # fmt: skip


def categorize_cmd(
    input_path: Annotated[Path, typer.Option("--input", help="Canonical CSV of transactions.")],
    output: Annotated[Path, typer.Option("--output", help="Predictions CSV to write.")],
    store: StoreOpt = None,
    version: VersionOpt = None,
) -> None:
    """Categorize a canonical CSV without a database: transaction_id, category, confidence,
    source (category empty when the model is not sure)."""
    from ledgerlens.adapters.model_store import load_categorizer, packaged_root
    from ledgerlens.ml.categorizer.batch import categorize_csv

    categorizer, _ = load_categorizer(store or packaged_root(), version)
    rep = categorize_csv(categorizer, input_path, output)
    typer.echo(f"{rep.transactions} transactions categorized to {output} "
               f"({rep.abstained} not sure)")  # fmt: skip


def register(app: typer.Typer) -> None:
    """Add the model commands to ``app``."""
    app.add_typer(train_app, name="train")
    app.add_typer(evaluate_app, name="evaluate")
    app.command("export-model")(export_model_cmd)
    app.command("categorize")(categorize_cmd)
