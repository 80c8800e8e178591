"""CLI: unusual transactions and employee-card controls over the database (issue #6).

    ledgerlens alerts --business ID [--all] [--json]
    ledgerlens mark-expected --business ID --transaction TID [--member ID]
    ledgerlens card-policy set --business ID --file policy.json [--member ID]
    ledgerlens card-policy show --business ID
    ledgerlens authorize --business ID --card C --merchant M --mcc 5812 --amount 12.50
                         --currency EUR [--at ISO]

Detection runs after every import and enrichment; ``alerts`` lists the stored verdicts. (The
database-free batch command ``anomalies --input/--output`` lives in ``cli_anomalies``.)
``register(app)`` adds the commands; the lead wires it into ``jobs/cli.py``. Thin: each command
builds a pipeline command and prints the result. Alerts print transaction ids, kinds, scores and
the detector's reasons (figures about the owner's own payments), never IBANs or card numbers.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

if TYPE_CHECKING:
    from ledgerlens.pipeline import Services

__all__ = ["register"]

console = Console()

BusinessOpt = Annotated[str, typer.Option("--business", help="Business id.")]
MemberOpt = Annotated[str, typer.Option("--member", help="Who acts (audit).")]


def _services() -> Services:
    """Storage and the audit log: these commands never categorize, so the categorizer (seconds
    to load) is not loaded."""
    from ledgerlens.adapters.db.audit import SqlAuditLog
    from ledgerlens.bootstrap import bootstrap
    from ledgerlens.pipeline import Services

    c = bootstrap()
    return Services(importer=c.importer, uow_factory=c.uow_factory,
                    audit_log=SqlAuditLog(c.engine))  # type: ignore[arg-type]  # fmt: skip


def _run(cmd: object) -> Any:
    """Dispatch; the core errors (unknown business, bad policy, …) become exit code 1."""
    from ledgerlens.core.errors import LedgerLensError
    from ledgerlens.pipeline import dispatch

    try:
        return dispatch(cmd, _services())
    except LedgerLensError as exc:
        console.print(f"[red]{type(exc).__name__}: {exc}[/red]")
        raise typer.Exit(1) from exc


def _alert_rows(business_id: str, raised_only: bool) -> list[dict[str, Any]]:
    from ledgerlens.bootstrap import bootstrap
    from ledgerlens.core.errors import NotFound

    c = bootstrap()
    try:
        with c.uow_factory() as uow:
            if uow.businesses.get(business_id) is None:
                raise NotFound(f"unknown business {business_id!r}")
            results = uow.scope(business_id).anomalies.list(raised_only=raised_only)
    finally:
        c.dispose()
    return [
        {
            "transaction_id": r.transaction_id, "score": r.score, "is_anomaly": r.is_anomaly,
            "kind": r.kind, "reasons": list(r.reasons), "source": r.source,
            "confidence": r.confidence, "incident_id": r.incident_id,
            "suppressed_by": r.suppressed_by, "evidence": [list(e) for e in r.evidence],
        }
        for r in results
    ]  # fmt: skip


def register(app: typer.Typer) -> None:
    """Add ``alerts``, ``mark-expected``, ``card-policy set|show`` and ``authorize``."""

    @app.command("alerts")
    def alerts_cmd(
        business: BusinessOpt,
        show_all: Annotated[
            bool, typer.Option("--all", help="Also lines scored but not raised.")
        ] = False,
        as_json: Annotated[bool, typer.Option("--json", help="JSON instead of a table.")] = False,
    ) -> None:
        """List the business's raised alerts with their reasons, best first."""
        from ledgerlens.core.errors import NotFound

        try:
            rows = _alert_rows(business, raised_only=not show_all)
        except NotFound as exc:
            console.print(f"[red]NotFound: {exc}[/red]")
            raise typer.Exit(1) from exc
        if as_json:
            typer.echo(json.dumps(rows, ensure_ascii=False, indent=2))
            return
        table = Table(title=f"alerts of {business}")
        for col in ("transaction", "score", "raised", "kind", "why"):
            table.add_column(col)
        for r in rows:
            table.add_row(r["transaction_id"], f"{r['score']:.2f}",
                          "yes" if r["is_anomaly"] else "no", r["kind"],
                          " ".join(r["reasons"]))  # fmt: skip
        console.print(table)
        console.print(f"{sum(r['is_anomaly'] for r in rows)} raised")

    @app.command("mark-expected")
    def mark_expected_cmd(
        business: BusinessOpt,
        transaction: Annotated[str, typer.Option("--transaction", help="Transaction id.")],
        member: MemberOpt = "",
    ) -> None:
        """Mark one alert "this is expected": similar alerts are no longer raised."""
        from ledgerlens.pipeline_anomalies import MarkExpected, MarkExpectedResult

        res: MarkExpectedResult = _run(MarkExpected(business, transaction, member))
        what = "stored" if res.stored else "already stored"
        console.print(f"feedback ({res.kind}) {what}; now {res.report.alerts} lines raised, "
                      f"{res.report.suppressed} suppressed as expected")  # fmt: skip

    policy_app = typer.Typer(help="Employee-card spending policies.", no_args_is_help=True)

    @policy_app.command("set")
    def policy_set_cmd(
        business: BusinessOpt,
        file: Annotated[Path, typer.Option("--file", exists=True, dir_okay=False,
                                           help="Policy JSON (see docs/anomalies.md).")],
        member: MemberOpt = "",
    ) -> None:  # fmt: skip
        """Validate and store a policy document as the business's current version."""
        from ledgerlens.pipeline_anomalies import SetCardPolicy

        try:
            doc = json.loads(file.read_text(encoding="utf-8"))
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            console.print(f"[red]not a JSON document: {exc}[/red]")
            raise typer.Exit(1) from exc
        if not isinstance(doc, dict):
            console.print("[red]a card policy is a JSON object[/red]")
            raise typer.Exit(1)
        _run(SetCardPolicy(business, doc, member))
        console.print(f"card policy {doc.get('policy_id')}@{doc.get('version')} stored")

    @policy_app.command("show")
    def policy_show_cmd(business: BusinessOpt) -> None:
        """Print the business's current policy document."""
        from ledgerlens.bootstrap import bootstrap

        c = bootstrap()
        try:
            with c.uow_factory() as uow:
                doc = uow.scope(business).card_policies.current()
        finally:
            c.dispose()
        if doc is None:
            console.print(f"[red]no card policy for {business}[/red]")
            raise typer.Exit(1)
        typer.echo(json.dumps(doc, ensure_ascii=False, indent=2))

    app.add_typer(policy_app, name="card-policy")

    @app.command("authorize")
    def authorize_cmd(
        business: BusinessOpt,
        card: Annotated[str, typer.Option("--card", help="Masked card id, as on statements.")],
        merchant: Annotated[str, typer.Option("--merchant", help="Merchant name.")],
        mcc: Annotated[str, typer.Option("--mcc", help="Merchant category code.")],
        amount: Annotated[str, typer.Option("--amount", help="Decimal amount, e.g. 12.50.")],
        currency: Annotated[str, typer.Option("--currency", help="ISO 4217 code.")],
        at: Annotated[str, typer.Option("--at", help="ISO time (default: now, UTC).")] = "",
        as_json: Annotated[bool, typer.Option("--json", help="The stored record.")] = False,
    ) -> None:
        """Approve, decline or review one card purchase under the stored policy; stored."""
        from ledgerlens.core.errors import LedgerLensError
        from ledgerlens.core.money import to_minor
        from ledgerlens.pipeline_anomalies import AuthorizeCard, CardDecision

        try:
            amount_minor = to_minor(amount, currency.upper())
            when = datetime.fromisoformat(at) if at else datetime.now(UTC)
        except (LedgerLensError, ValueError) as exc:
            console.print(f"[red]bad input: {exc}[/red]")
            raise typer.Exit(1) from exc
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)  # a bare ISO time on the command line means UTC
        res: CardDecision = _run(
            AuthorizeCard(business, card, merchant, mcc, amount_minor, currency.upper(), when)
        )
        a = res.authorization
        if as_json:
            typer.echo(json.dumps({**a.as_record(), "decision_id": res.decision_id}, indent=2))
            return
        codes = ", ".join(c.value for c in a.reason_codes)
        console.print(
            f"{a.decision.value}: {codes} "
            f"(policy {a.policy_id}@{a.policy_version}, decision {res.decision_id})"
        )
