"""The ``ledgerlens`` command line: thin commands that call the services and print results.

No traceback ever reaches the user: expected failures print one clear line; anything else is
reported as an internal error with its type, and the exit code says what happened
(0 ok, 1 something was refused, 2 usage or internal error).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from ledgerlens.core.errors import LedgerLensError

app = typer.Typer(
    name="ledgerlens",
    help="LedgerLens: books, forecasts and insights for SME banking.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
db_app = typer.Typer(help="Database schema.", no_args_is_help=True)
business_app = typer.Typer(help="Businesses (tenants).", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(business_app, name="business")

console = Console()
err = Console(stderr=True)


def _container(upgrade: bool = True):  # type: ignore[no-untyped-def]
    from ledgerlens.bootstrap import bootstrap

    return bootstrap(upgrade=upgrade)


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Create or migrate the database schema to the newest version."""
    from ledgerlens.adapters.db.engine import upgrade_database
    from ledgerlens.config import get_settings

    url = get_settings().db.url
    upgrade_database(url)
    console.print(f"database at head: {_safe_url(url)}")


@business_app.command("add")
def business_add(
    business_id: Annotated[str, typer.Argument(help="Id of the new business.")],
    name: Annotated[str, typer.Option(help="Display name.")] = "",
    country: Annotated[str, typer.Option(help="ISO 3166 country code.")] = "GB",
    currency: Annotated[str, typer.Option(help="Base currency (ISO 4217).")] = "GBP",
) -> None:
    """Register a business so statements can be imported for it (idempotent)."""
    from ledgerlens.jobs.setup import ensure_business

    c = _container()
    created = ensure_business(c.uow_factory, business_id, name or business_id, country, currency)
    console.print(f"{'created' if created else 'exists'}: {business_id}")


@business_app.command("list")
def business_list() -> None:
    """List the businesses in the database."""
    c = _container()
    with c.uow_factory() as uow:
        rows = uow.businesses.list()
    table = Table("business_id", "name", "country", "base_currency")
    for b in rows:
        table.add_row(b.business_id, b.name, b.country, b.base_currency)
    console.print(table)


@app.command("import")
def import_(
    paths: Annotated[list[Path], typer.Argument(help="Statement files (or folders).")],
    business: Annotated[str, typer.Option("--business", help="Business id.")],
    account: Annotated[str | None, typer.Option(help="Book everything to this account.")] = None,
    fmt: Annotated[
        str, typer.Option("--format", help="auto|csv|mt940|camt|bai2|ofx|obie|ics|zip")
    ] = "auto",
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object per file.")] = False,
    enrich: Annotated[
        bool, typer.Option("--enrich/--no-enrich", help="Enrich the business after the import.")
    ] = True,
) -> None:
    """Import statement files; each file imports whole or not at all. Exit 1 if any is refused.

    Then the business is enriched (categories, transfers, recurring series) when anything new
    was stored; with --json the enrichment summary goes to stderr."""
    from ledgerlens.jobs.importing import expand_paths, run_imports

    c = _container()
    files = expand_paths(paths)
    if not files:
        err.print("error: no statement files found in " + ", ".join(map(str, paths)))
        raise typer.Exit(1)
    reports = run_imports(c.importer, files, business, account, fmt, quiet=as_json)
    if as_json:
        for report in reports:
            sys.stdout.write(json.dumps(report.as_dict(), ensure_ascii=False) + "\n")
    else:
        _print_reports(reports)
    if enrich and any(r.new and not r.refused for r in reports):
        from ledgerlens.jobs.cli_enrich_db import enrich_after_import

        enrich_after_import(c, business, err if as_json else console, brief=as_json)
    if any(r.refused for r in reports):
        raise typer.Exit(1)


@app.command("export")
def export(
    business: Annotated[str, typer.Option("--business", help="Business id.")],
    output: Annotated[Path, typer.Option("--output", help="Canonical CSV file to write.")],
) -> None:
    """Write all of a business's transactions as canonical CSV."""
    from ledgerlens.ingest.export import export_business

    c = _container()
    n = export_business(c.uow_factory, business, output)
    console.print(f"exported {n} transactions to {output}")


@app.command("demo")
def demo(
    businesses: Annotated[int, typer.Option(min=1, help="Demo businesses to generate.")] = 50,
    port: Annotated[int, typer.Option(min=1, max=65535, help="Port on 127.0.0.1.")] = 8000,
    examples: Annotated[Path, typer.Option(help="Folder of sample statements.")] = Path("examples"),
    serve: Annotated[bool, typer.Option(help="Serve the API and app afterwards.")] = True,
) -> None:
    """The main job: import the sample statements, generate a demo portfolio, run the whole
    pipeline, print a weekly digest and the demo logins, then serve the API and the app."""
    from ledgerlens.jobs.demo_serve import run_full_demo

    code = run_full_demo(
        businesses, port, console, examples=examples if examples.is_dir() else None, serve=serve
    )
    raise typer.Exit(code)


@app.command("generate")
def generate(
    businesses: Annotated[int, typer.Option(min=1, help="How many businesses.")] = 50,
    months: Annotated[int, typer.Option(min=1, max=120, help="Months of history.")] = 18,
    seed: Annotated[int, typer.Option(help="Random seed (same seed, same bytes).")] = 42,
    out: Annotated[Path | None, typer.Option(help="Folder to write files into.")] = None,
    formats: Annotated[
        str, typer.Option(help="Comma list of csv,camt053,mt940,bankcsv (with --out).")
    ] = "csv",
    db: Annotated[
        bool, typer.Option("--db", help="Also load the world into the database.")
    ] = False,
) -> None:
    """Generate a synthetic SME world with ground truth, as files and/or into the database."""
    from ledgerlens.jobs.generating import run_generate

    if out is None and not db:
        err.print("nothing to do: give --out DIR and/or --db")
        raise typer.Exit(2)
    wanted = {f.strip() for f in formats.split(",") if f.strip()}
    run_generate(businesses, months, seed, out, wanted, db, console)


@app.command("ingest-coverage")
def ingest_coverage(
    data: Annotated[Path, typer.Option(help="The external data folder.")] = Path(
        "../shared/data/external"
    ),
    output: Annotated[Path, typer.Option(help="Markdown report to write.")] = Path(
        "docs/ingest-coverage.md"
    ),
) -> None:
    """Import every real bank-statement file under DATA into a scratch database; write a report."""
    from ledgerlens.jobs.coverage import write_coverage_report

    summary = write_coverage_report(data, output, console)
    console.print(summary)


def _register_extra_commands() -> None:
    """Commands of later stages live in their own modules (each imports heavy code lazily)."""
    from ledgerlens.jobs import (
        cli_anomalies,
        cli_anomalies_db,
        cli_decide,
        cli_dispatch,
        cli_enrich_db,
        cli_enrichment,
        cli_forecast,
        cli_insights,
        cli_models,
        cli_risk,
        cli_serve,
    )

    for module in (
        cli_serve,
        cli_models,
        cli_enrichment,
        cli_enrich_db,
        cli_anomalies,
        cli_anomalies_db,
        cli_forecast,
        cli_decide,
        cli_insights,
        cli_dispatch,
        cli_risk,
    ):
        module.register(app)


_register_extra_commands()


def _print_reports(reports: list) -> None:  # type: ignore[type-arg]
    table = Table("file", "format", "stmts", "txns", "new", "dup", "reconciled", "result")
    for r in reports:
        result = "[red]refused[/red]" if r.refused else "[green]ok[/green]"
        rec = f"{r.reconciled}/{r.reconciled + r.unreconciled}"
        table.add_row(
            r.path,
            r.format,
            str(r.statements),
            str(r.transactions),
            str(r.new),
            str(r.duplicates),
            rec,
            result,
        )
    console.print(table)
    for r in reports:
        for issue in r.issues:
            (err if issue.fatal else console).print(
                f"{'error' if issue.fatal else 'note'}: {issue}"
            )


def _safe_url(url: str) -> str:
    """A database URL without its password, for printing."""
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


def main() -> None:
    """Console entry point: run the app with no traceback for the user."""
    try:
        app()
    except LedgerLensError as exc:
        err.print(f"error: {exc}")
        sys.exit(1)
    except KeyboardInterrupt:
        err.print("interrupted")
        sys.exit(130)
    except Exception as exc:
        err.print(f"internal error ({type(exc).__name__}); rerun with LEDGERLENS_DEBUG=1")
        import os

        if os.environ.get("LEDGERLENS_DEBUG"):
            raise
        sys.exit(2)
