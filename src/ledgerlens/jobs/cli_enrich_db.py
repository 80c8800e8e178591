"""CLI: enrichment over the database — categories, transfers and recurring series per business.

    ledgerlens enrich --business ID
    ledgerlens recategorize --business ID --transaction TID --category CODE [--member ID]

``ledgerlens import`` and ``ledgerlens demo`` run the same enrichment after a successful import
(``enrich_after_import``). ``register(app)`` adds the commands to the main Typer app. Output is
counts only: no descriptions or names (personal data) are printed.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.table import Table

if TYPE_CHECKING:
    from ledgerlens.bootstrap import Container
    from ledgerlens.pipeline import EnrichmentReport

__all__ = ["enrich_after_import", "print_enrichment", "register"]

console = Console()

BusinessOpt = Annotated[str, typer.Option("--business", help="Business id.")]


def run_enrichment(c: Container, business_id: str) -> EnrichmentReport:
    """Run ``EnrichBusiness`` through the pipeline with the container's services."""
    from ledgerlens.pipeline import EnrichBusiness, dispatch

    report: EnrichmentReport = dispatch(EnrichBusiness(business_id), c.services())
    return report


def print_enrichment(report: EnrichmentReport, out: Console, *, title: str = "categories") -> None:
    """A table of lines per category, then abstentions, transfer pairs and recurring series."""
    table = Table(title=title)
    table.add_column("category")
    table.add_column("transactions", justify="right")
    for code, n in sorted(report.categories.items(), key=lambda kv: (-kv[1], kv[0])):
        table.add_row(code, str(n))
    table.add_row("(not sure)", str(report.abstained))
    out.print(table)
    out.print(
        f"enriched {report.transactions} transactions of {report.business_id}: "
        f"{report.abstained} not sure, {report.transfer_pairs} transfer pairs, "
        f"{report.recurring_series} recurring series, {report.corrected} following corrections"
    )


def enrich_after_import(c: Container, business_id: str, out: Console, *, brief: bool) -> None:
    """What ``import`` and ``demo`` do after a successful import: enrich, then report (one line
    when ``brief``, e.g. beside JSON output; else the categories table)."""
    report = run_enrichment(c, business_id)
    if brief:
        out.print(
            f"enriched {report.transactions} transactions: {report.abstained} not sure, "
            f"{report.transfer_pairs} transfer pairs, {report.recurring_series} recurring series"
        )
    else:
        print_enrichment(report, out)


def register(app: typer.Typer) -> None:
    """Add ``enrich`` and ``recategorize``."""

    @app.command("enrich")
    def enrich_cmd(business: BusinessOpt) -> None:
        """Categorize every transaction of a business, pair transfers, find recurring series."""
        from ledgerlens.bootstrap import bootstrap

        print_enrichment(run_enrichment(bootstrap(), business), console)

    @app.command("recategorize")
    def recategorize_cmd(
        business: BusinessOpt,
        transaction: Annotated[str, typer.Option("--transaction", help="Transaction id.")],
        category: Annotated[str, typer.Option("--category", help="Taxonomy leaf code.")],
        member: Annotated[str, typer.Option("--member", help="Who corrects (audit).")] = "",
    ) -> None:
        """Move one transaction to CATEGORY; the business's similar lines follow at once."""
        from ledgerlens.bootstrap import bootstrap
        from ledgerlens.pipeline import Recategorize, RecategorizeResult, dispatch

        c = bootstrap()
        result: RecategorizeResult = dispatch(
            Recategorize(business, transaction, category, member), c.services()
        )
        kept = "kept" if result.training_example else "not kept (no model_improvement consent)"
        console.print(f"correction {result.correction_id} stored; as a training example: {kept}")
        print_enrichment(result.report, console)
