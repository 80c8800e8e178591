"""CLI: insights, digests, consent and the full export (issue 8).

    ledgerlens refresh [--business ID | --all] [--workers N]   nightly batch / precompute
    ledgerlens insights --business ID [--json]
    ledgerlens digest --business ID --period daily|weekly [--format text|html|json]
    ledgerlens consent grant|withdraw --business ID --purpose P [--actor WHO]
    ledgerlens export-all --business ID --output DIR           JSON + CSV + zip archive

Thin: each command builds a pipeline command and dispatches it. ``refresh --all`` fans the
businesses out over a local process pool (each worker opens its own engine) with a rich
progress bar. ``register(app)`` adds the commands to the main Typer app (the lead wires it).
"""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace
from typing import Annotated, Any

import typer
from rich.console import Console

__all__ = ["register"]

console = Console()
err = Console(stderr=True)


def _services() -> tuple[Any, Any]:
    from ledgerlens.bootstrap import bootstrap

    c = bootstrap(upgrade=False)
    return c, SimpleNamespace(uow_factory=c.uow_factory, notifiers=c.notifiers())


_WORKER: dict[str, Any] = {}


def _init_worker(full: bool) -> None:
    """Once per worker process: a container (engine; the categorizer when ``full``)."""
    c, services = _services()
    _WORKER.update(container=c, services=c.services() if full else services, full=full)


def _refresh_one(business_id: str, as_of: str | None = None) -> dict[str, Any]:
    """One business in a worker process: [enrich, anomalies,] insights. Counts only."""
    from datetime import UTC, date, datetime, time, timedelta

    from ledgerlens.pipeline import EnrichBusiness, dispatch
    from ledgerlens.pipeline_anomalies import DetectAnomalies
    from ledgerlens.pipeline_insights import RefreshInsights

    services = _WORKER["services"]
    if _WORKER["full"]:  # the nightly batch: the stages before explain, then insights
        dispatch(EnrichBusiness(business_id), services)
        dispatch(DetectAnomalies(business_id), services)
    day = date.fromisoformat(as_of) if as_of else None
    now = datetime.combine(day + timedelta(days=1), time(6), tzinfo=UTC) if day else None
    r = dispatch(RefreshInsights(business_id, as_of=day, now=now), services)
    return {
        "business_id": business_id,
        "processed": r.processed,
        "reason": r.reason,
        "published": r.published,
        "updated": r.updated,
    }


def refresh_cmd(
    business: Annotated[str | None, typer.Option("--business", help="One business.")] = None,
    all_: Annotated[bool, typer.Option("--all", help="Every business in the database.")] = False,
    workers: Annotated[int, typer.Option("--workers", min=1, help="Process pool size.")] = 2,
    as_of: Annotated[
        str | None, typer.Option("--as-of", help="Analyse as of this day (replays, demos).")
    ] = None,
    insights_only: Annotated[
        bool, typer.Option("--insights-only", help="Skip enrichment and anomaly detection.")
    ] = False,
) -> None:
    """The nightly batch: enrichment, anomaly detection, then forecast + insight builders +
    ranking (``--insights-only``: the last step alone); stores the published insights."""
    from concurrent.futures import ProcessPoolExecutor, as_completed

    from rich.progress import Progress

    if (business is None) == (not all_):
        raise typer.BadParameter("give exactly one of --business or --all")
    if business is not None:
        ids = [business]
    else:
        c, _ = _services()
        try:
            with c.uow_factory() as uow:
                ids = [b.business_id for b in uow.businesses.list()]
        finally:
            c.dispose()
    results: list[dict[str, Any]] = []
    with Progress(console=err, transient=True) as progress:
        task = progress.add_task("refreshing insights", total=len(ids))
        if workers == 1 or len(ids) == 1:
            _init_worker(not insights_only)
            try:
                for bid in ids:
                    results.append(_refresh_one(bid, as_of))
                    progress.advance(task)
            finally:
                _WORKER.pop("container").dispose()
        else:
            init = (not insights_only,)
            with ProcessPoolExecutor(workers, initializer=_init_worker, initargs=init) as pool:
                futures = [pool.submit(_refresh_one, bid, as_of) for bid in ids]
                for f in as_completed(futures):
                    results.append(f.result())
                    progress.advance(task)
    done = [r for r in results if r["processed"]]
    console.print(
        f"{len(done)}/{len(ids)} businesses refreshed (others lack the insights "
        f"consent); {sum(r['published'] for r in done)} new insights, "
        f"{sum(r['updated'] for r in done)} updated"
    )


def insights_cmd(
    business: Annotated[str, typer.Option("--business", help="The business.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
    include_expired: Annotated[
        bool, typer.Option("--include-expired", help="Also insights past their validity.")
    ] = False,
) -> None:
    """The business's current insights (the in-app feed), most severe first."""
    from datetime import UTC, datetime

    c, _ = _services()
    try:
        with c.uow_factory() as uow:
            today = None if include_expired else datetime.now(UTC).date()
            items = uow.scope(business).insights.list(current_on=today)
    finally:
        c.dispose()
    if as_json:
        typer.echo(json.dumps([i.to_dict() for i in items], indent=2, ensure_ascii=False))
        return
    for i in items:
        console.print(
            f"[bold]{i.severity.name}[/bold] {i.title}\n  {i.message}\n"
            f"  [dim]{i.source} · confidence {i.confidence:.2f}[/dim]"
        )
    if not items:
        console.print("no current insights")


def digest_cmd(
    business: Annotated[str, typer.Option("--business", help="The business.")],
    period: Annotated[str, typer.Option("--period", help="daily or weekly.")] = "weekly",
    fmt: Annotated[str, typer.Option("--format", help="text, html or json.")] = "text",
) -> None:
    """The daily or weekly digest: unusual activity, taxes due, key cash events."""
    from ledgerlens.explain.digests import to_html, to_json, to_text
    from ledgerlens.explain.render import renderer
    from ledgerlens.pipeline import dispatch
    from ledgerlens.pipeline_insights import BuildDigest

    if period not in ("daily", "weekly") or fmt not in ("text", "html", "json"):
        raise typer.BadParameter("--period daily|weekly, --format text|html|json")
    c, services = _services()
    try:
        d = dispatch(BuildDigest(business, period), services)
    finally:
        c.dispose()
    if d is None:
        err.print("no digest: the business has not consented to insights")
        raise typer.Exit(1)
    r = renderer(d.language)
    typer.echo(to_json(d) if fmt == "json" else to_html(d, r) if fmt == "html" else to_text(d, r))


consent_app = typer.Typer(help="Grant or withdraw a consent purpose (audit-logged).")


def _consent(action: str, business: str, purpose: str, actor: str) -> None:
    from ledgerlens.core.ledger import Purpose
    from ledgerlens.pipeline import dispatch
    from ledgerlens.pipeline_insights import GrantConsent, WithdrawConsent

    try:
        p = Purpose(purpose)
    except ValueError:
        raise typer.BadParameter(f"purpose must be one of {[x.value for x in Purpose]}") from None
    c, services = _services()
    try:
        cmd = GrantConsent if action == "grant" else WithdrawConsent
        out = dispatch(cmd(business, p, actor), services)
    finally:
        c.dispose()
    extra = f"; deleted {out}" if out else ""
    console.print(f"{action} {p.value} for {business}{extra}")


@consent_app.command("grant")
def consent_grant(
    business: Annotated[str, typer.Option("--business")],
    purpose: Annotated[str, typer.Option("--purpose")],
    actor: Annotated[str, typer.Option("--actor")] = "cli",
) -> None:
    """Grant a purpose: insights, offers, model_improvement, data_sharing."""
    _consent("grant", business, purpose, actor)


@consent_app.command("withdraw")
def consent_withdraw(
    business: Annotated[str, typer.Option("--business")],
    purpose: Annotated[str, typer.Option("--purpose")],
    actor: Annotated[str, typer.Option("--actor")] = "cli",
) -> None:
    """Withdraw a purpose: processing stops and what was derived for it is deleted."""
    _consent("withdraw", business, purpose, actor)


def export_all_cmd(
    business: Annotated[str, typer.Option("--business", help="The business.")],
    output: Annotated[Path, typer.Option("--output", help="Directory for the archive.")],
) -> None:
    """Every row of the business (JSON + one CSV per table) and a zip archive of them."""
    from ledgerlens.pipeline import dispatch
    from ledgerlens.pipeline_insights import ExportBusiness

    c, services = _services()
    try:
        archive = dispatch(ExportBusiness(business, output), services)
    finally:
        c.dispose()
    console.print(f"exported → {archive}")


def register(app: typer.Typer) -> None:
    app.command("refresh")(refresh_cmd)
    app.command("insights")(insights_cmd)
    app.command("digest")(digest_cmd)
    app.command("export-all")(export_all_cmd)
    app.add_typer(consent_app, name="consent")
