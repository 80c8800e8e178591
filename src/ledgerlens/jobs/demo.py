"""The main job on the embedded default: a database, the sample statements imported, a summary.

Later stages (enrichment, forecast, insights, the app) extend this same command.
"""

from __future__ import annotations

from pathlib import Path

from rich.console import Console
from rich.table import Table

from ledgerlens.bootstrap import Container
from ledgerlens.core.money import format_minor
from ledgerlens.jobs.importing import expand_paths, run_imports
from ledgerlens.jobs.setup import ensure_business

__all__ = ["DEMO_BUSINESS", "run_demo"]

DEMO_BUSINESS = "demo-cafe"


def run_demo(c: Container, examples: Path, console: Console) -> int:
    """Import every file in ``examples`` for the demo business; 0 when all imported."""
    if not examples.is_dir():
        console.print(f"[red]no examples folder at {examples}[/red]")
        return 2
    ensure_business(c.uow_factory, DEMO_BUSINESS, "Demo Café Ltd", "GB", "GBP")
    files = expand_paths([examples])
    files = [f for f in files if f.suffix.lower() != ".md"]
    reports = run_imports(c.importer, files, DEMO_BUSINESS, None, "auto")

    table = Table(title="Imported sample statements", show_lines=False)
    for col in ("file", "format", "statements", "transactions", "new", "duplicates", "reconciled"):
        table.add_column(col)
    for r in reports:
        table.add_row(
            Path(r.path).name,
            r.format,
            str(r.statements),
            str(r.transactions),
            str(r.new),
            str(r.duplicates),
            "refused" if r.refused else f"{r.reconciled}/{r.reconciled + r.unreconciled}",
        )
    console.print(table)
    for r in reports:
        for issue in r.issues:
            console.print(f"[red]{issue}[/red]" if issue.fatal else f"note: {issue}")

    with c.uow_factory() as uow:
        scope = uow.scope(DEMO_BUSINESS)
        accounts = scope.accounts.list()
        summary = Table(title=f"Accounts of {DEMO_BUSINESS}")
        for col in ("account", "type", "currency", "transactions", "net flow"):
            summary.add_column(col)
        for a in accounts:
            txs = scope.transactions.list(account_id=a.account_id)
            net = sum(t.amount_minor for t in txs)
            summary.add_row(
                a.identifier,
                a.account_type.value,
                a.currency,
                str(len(txs)),
                format_minor(net, a.currency),
            )
        total = scope.transactions.count()
    console.print(summary)
    console.print(
        f"{total} transactions stored for {DEMO_BUSINESS} in {c.settings.db.url.split('///')[-1]}"
    )
    if total:
        from ledgerlens.jobs.cli_enrich_db import enrich_after_import

        enrich_after_import(c, DEMO_BUSINESS, console, brief=False)
    return 1 if any(r.refused for r in reports) else 0
