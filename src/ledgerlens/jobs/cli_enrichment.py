"""CLI: judge transfer matching and recurring series on a synthetic world's truth.

    ledgerlens evaluate-transfers  [--world DIR | --businesses N --months M --seed S] [--json]
    ledgerlens evaluate-recurring  [same options] [--json]
    ledgerlens evaluate-enrichment [same options] [--json] [--doc docs/EVALUATION.md]

Without ``--world`` a fresh world is generated in a temporary folder (seed 4242 by default: a
seed never used to tune the rules). ``--doc`` rewrites only the block between the
``transfers-recurring`` markers of the evaluation document. ``register(app)`` adds the commands
to the main Typer app (the composition root wires it).
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

__all__ = ["DEFAULT_SEED", "register"]

DEFAULT_SEED = 4242
console = Console()

WorldOpt = Annotated[
    Path | None, typer.Option("--world", help="A written synthetic world (csv + truth).")
]
BizOpt = Annotated[int, typer.Option("--businesses", help="Businesses to generate.")]
MonthsOpt = Annotated[int, typer.Option("--months", help="Months of history to generate.")]
SeedOpt = Annotated[int, typer.Option("--seed", help="Seed of the generated world.")]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print the metrics as JSON.")]


@contextmanager
def _world(world: Path | None, businesses: int, months: int, seed: int) -> Iterator[Path]:
    if world is not None:
        if not (world / "truth" / "transactions_truth.csv").is_file():
            raise typer.BadParameter(f"{world} has no truth/transactions_truth.csv")
        yield world
        return
    from ledgerlens.ml.synth_data import write_synthetic_world

    with tempfile.TemporaryDirectory(prefix="ledgerlens-eval-") as tmp:
        yield write_synthetic_world(businesses, months, seed, Path(tmp))


def _print(metrics: dict, as_json: bool) -> None:
    if as_json:
        typer.echo(json.dumps(metrics, indent=2, sort_keys=True))
        return
    for k, v in metrics.items():
        console.print(f"{k}: {v}")


def _run(which: str, world: Path | None, businesses: int, months: int,
         seed: int) -> dict[str, dict]:  # fmt: skip
    from ledgerlens.ml.enrichment_eval import evaluate_recurring, evaluate_transfers
    from ledgerlens.ml.synth_data import iter_business_data

    with _world(world, businesses, months, seed) as path:
        data = list(iter_business_data(path))
    out: dict[str, dict] = {}
    if which in ("transfers", "both"):
        out["transfers"] = evaluate_transfers(data)
    if which in ("recurring", "both"):
        out["recurring"] = evaluate_recurring(data)
    for m in out.values():
        m["world"] = (
            str(world) if world else f"generated: {businesses} x {months} months, seed {seed}"
        )
    return out


def register(app: typer.Typer) -> None:
    """Add ``evaluate-transfers``, ``evaluate-recurring`` and ``evaluate-enrichment``."""

    @app.command("evaluate-transfers")
    def evaluate_transfers_cmd(world: WorldOpt = None, businesses: BizOpt = 40,
                               months: MonthsOpt = 18, seed: SeedOpt = DEFAULT_SEED,
                               as_json: JsonOpt = False) -> None:  # fmt: skip
        """Transfer-pair precision and recall against the synthetic truth."""
        _print(_run("transfers", world, businesses, months, seed)["transfers"], as_json)

    @app.command("evaluate-recurring")
    def evaluate_recurring_cmd(world: WorldOpt = None, businesses: BizOpt = 40,
                               months: MonthsOpt = 18, seed: SeedOpt = DEFAULT_SEED,
                               as_json: JsonOpt = False) -> None:  # fmt: skip
        """Recurring-series F1 (and transaction-level scores) against the synthetic truth."""
        _print(_run("recurring", world, businesses, months, seed)["recurring"], as_json)

    @app.command("evaluate-enrichment")
    def evaluate_enrichment_cmd(
        world: WorldOpt = None,
        businesses: BizOpt = 40,
        months: MonthsOpt = 18,
        seed: SeedOpt = DEFAULT_SEED,
        as_json: JsonOpt = False,
        doc: Annotated[
            Path | None, typer.Option("--doc", help="Rewrite our block of this Markdown file.")
        ] = None,
    ) -> None:
        """Both evaluations; with --doc, the "Transfers and recurring series" section too."""
        from ledgerlens.ml.enrichment_eval import render_markdown, update_doc_block

        metrics = _run("both", world, businesses, months, seed)
        if doc is not None:
            update_doc_block(doc, render_markdown(metrics["transfers"], metrics["recurring"]))
        if as_json:
            _print(metrics, True)
        else:
            for part in metrics.values():
                _print(part, False)
