"""CLI: cash-flow forecasts and their backtest.

    ledgerlens forecast --input history.csv --horizon-days 91 --output forecast.csv \
                        --weekly weekly.csv
    ledgerlens forecast --business ID [--output forecast.csv --weekly weekly.csv]
    ledgerlens backtest --input history.csv [--json] [--doc docs/EVALUATION.md | --no-doc]
    ledgerlens backtest --world DIR | --businesses N --seed S [--real] [--json]

``register(app)`` adds both commands to the main Typer app (the composition root wires it).
"""

from __future__ import annotations

import json
import math
import tempfile
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

__all__ = ["register"]

console = Console()
err = Console(stderr=True)
DEFAULT_DOC = Path("docs/EVALUATION.md")
DEFAULT_SEED = 9090  # never used to tune the forecaster


def forecast_cmd(
    input: Annotated[Path | None, typer.Option("--input", help="Canonical CSV history.")] = None,
    business: Annotated[
        str | None, typer.Option("--business", help="A business in the DB.")
    ] = None,
    horizon_days: Annotated[int, typer.Option("--horizon-days", min=7, max=365)] = 91,
    output: Annotated[Path, typer.Option("--output", help="Daily p10/p50/p90 CSV.")] = Path(
        "forecast.csv"
    ),
    weekly: Annotated[Path | None, typer.Option("--weekly", help="Weekly shortfall CSV.")] = None,
    items: Annotated[
        Path | None, typer.Option("--items", help="Known items (future_items.csv layout).")
    ] = None,
    buffer: Annotated[str, typer.Option("--buffer", help="Cash buffer in base currency.")] = "0",
) -> None:
    """Forecast each business's daily balance (p10/p50/p90) and weekly shortfall risk."""
    from ledgerlens.analyze.cashflow import forecast
    from ledgerlens.core.money import to_minor
    from ledgerlens.ml.forecast_csv import (
        ForecastCsvWriter,
        business_input,
        load_canonical,
        read_items,
    )

    if (input is None) == (business is None):
        raise typer.BadParameter("give exactly one of --input or --business")
    businesses = load_canonical(input) if input is not None else [_from_db(business or "")]
    known = read_items(items) if items else {}
    with ForecastCsvWriter(output, weekly) as out:
        for b in businesses:
            sched, inv = known.get(b.business_id, ([], []))
            buffer_minor = to_minor(buffer, b.base_currency)
            inp = business_input(
                b,
                horizon_days=horizon_days,
                scheduled=sched,
                invoices=inv,
                buffer_minor=buffer_minor,
            )
            out.add(forecast(inp))
    msg = f"{len(businesses)} businesses, {out.daily_rows} daily rows → {output}"
    if weekly is not None:
        msg += f"; {out.weekly_rows} weeks → {weekly}"
    console.print(msg)


def _from_db(business_id: str):  # type: ignore[no-untyped-def]
    from ledgerlens.bootstrap import bootstrap
    from ledgerlens.ml.forecast_csv import CsvBusiness

    c = bootstrap(upgrade=False)
    try:
        with c.uow_factory() as uow:
            biz = uow.businesses.get(business_id)
            if biz is None:
                raise typer.BadParameter(f"no business {business_id!r} in the database")
            scope = uow.scope(business_id)
            accounts = tuple(scope.accounts.list())
            txs = tuple(scope.transactions.iter_all())
            statements = tuple(scope.statements.list())
    finally:
        c.dispose()
    if not txs:
        raise typer.BadParameter(f"business {business_id!r} has no transactions")
    return CsvBusiness(business_id, biz.base_currency, accounts, txs, statements)


def backtest_cmd(
    input: Annotated[Path | None, typer.Option("--input", help="Canonical CSV history.")] = None,
    world: Annotated[
        Path | None, typer.Option("--world", help="A written synthetic world.")
    ] = None,
    businesses: Annotated[
        int, typer.Option("--businesses", help="Generate a world this big.")
    ] = 120,
    seed: Annotated[
        int, typer.Option("--seed", help="Seed of the generated world.")
    ] = DEFAULT_SEED,
    real: Annotated[
        bool, typer.Option("--real/--no-real", help="Also score the real series.")
    ] = True,
    baseline_limit: Annotated[
        int, typer.Option("--baseline-limit", help="Cases for AutoETS/Prophet.")
    ] = 90,
    as_json: Annotated[bool, typer.Option("--json", help="Print metrics as JSON.")] = False,
    doc: Annotated[
        Path | None, typer.Option("--doc", help="Evaluation document to update.")
    ] = DEFAULT_DOC,
    no_doc: Annotated[bool, typer.Option("--no-doc", help="Do not touch the document.")] = False,
) -> None:
    """Rolling-origin backtest: MASE vs seasonal naive, coverage, shortfall calibration."""
    from ledgerlens.ml.forecast_report import render_markdown, run_backtest

    with tempfile.TemporaryDirectory(prefix="ledgerlens-fc-") as tmp:
        results = run_backtest(
            input=input,
            world=world,
            businesses=businesses,
            seed=seed,
            tmp=Path(tmp),
            real=real,
            baseline_limit=baseline_limit,
        )
    if doc is not None and not no_doc:
        from ledgerlens.ml.forecast_eval import update_doc_block

        update_doc_block(doc, render_markdown(results))
    if as_json:
        typer.echo(json.dumps(_clean(results), indent=2, sort_keys=True))
    else:
        console.print(render_markdown(results))


def calibrate_cmd(
    world: Annotated[
        Path | None, typer.Option("--world", help="A written *validation* synthetic world.")
    ] = None,
    businesses: Annotated[
        int, typer.Option("--businesses", help="Generate a validation world this big.")
    ] = 400,
    seed: Annotated[
        int, typer.Option("--seed", help="Seed of the validation world (not the test seed).")
    ] = 7,
    output: Annotated[
        Path | None,
        typer.Option("--output", help="Where to write the calibration (default: the shipped one)."),
    ] = None,
) -> None:
    """Fit the weekly shortfall calibration on a validation world and write it as JSON.

    The test world (``backtest``'s default seed) is never used here, so the backtest judges
    the calibration on businesses it was not fitted on.
    """
    from ledgerlens.analyze.cashflow.model import FORECAST_VERSION
    from ledgerlens.analyze.cashflow.shortfall import CALIBRATION_FILE
    from ledgerlens.ml.forecast_report import fit_world_calibration
    from ledgerlens.ml.synth_data import write_synthetic_world

    if seed == DEFAULT_SEED:
        raise typer.BadParameter("the backtest's test seed cannot be used for calibration")
    target = output or Path(__file__).resolve().parents[1] / "analyze" / "cashflow" / (
        CALIBRATION_FILE
    )
    with tempfile.TemporaryDirectory(prefix="ledgerlens-cal-") as tmp:
        wdir = world or write_synthetic_world(businesses, 18, seed, Path(tmp) / "world")
        n = businesses if world is None else "?"
        version = f"synth-seed{seed}-{n}@{FORECAST_VERSION}"
        cal = fit_world_calibration(wdir, target, version)
    console.print(
        f"calibration {cal.version}: {cal.evidence['weeks']} weeks, "
        f"{cal.evidence['positives']} short → {target}"
    )


def _clean(obj: object) -> object:
    if isinstance(obj, float) and math.isnan(obj):
        return None
    if isinstance(obj, dict):
        return {k: _clean(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [_clean(v) for v in obj]
    return obj


def register(app: typer.Typer) -> None:
    app.command("forecast")(forecast_cmd)
    app.command("backtest")(backtest_cmd)
    app.command("calibrate-forecast")(calibrate_cmd)
