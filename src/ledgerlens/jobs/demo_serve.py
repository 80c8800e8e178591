"""``ledgerlens demo``: a synthetic portfolio, the whole pipeline, then the API and the app.

``prepare_demo`` generates a world (``ledgerlens.synth``), loads it straight into the database
(``world_loader.load_world``), loads the shipped models once, and runs the pipeline per
business with progress bars: enrichment (categories, transfers, recurring series; the anomaly
stage runs inside it), insights when that stage is present, and the forecast that picks the
demo owners (the businesses whose cash gap is most visible first). ``run_full_demo`` adds the
weekly digest (or a summary), the demo logins and uvicorn on 127.0.0.1, with the digest and
notification dispatcher (``start_dispatcher``) running in a background thread while it serves.
Tests and the screenshot command call ``prepare_demo`` on their own small database.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from ledgerlens.bootstrap import Container
from ledgerlens.core.errors import NotFound
from ledgerlens.core.ledger import Role

__all__ = [
    "DemoOwner",
    "DemoPortfolio",
    "demo_login",
    "prepare_demo",
    "run_full_demo",
    "start_dispatcher",
]

DEMO_SEED = 2026
DEMO_MONTHS = 18


@dataclass(frozen=True, slots=True)
class DemoOwner:
    business_id: str
    name: str
    gap_probability: float  # the highest weekly shortfall risk in the next 13 weeks
    gap_week: str  # ISO week start of the first week at risk ("" when none)


@dataclass(slots=True)
class DemoPortfolio:
    businesses: int
    transactions: int
    owners: list[DemoOwner]  # riskiest first
    notes: list[str] = field(default_factory=list)  # stages that were skipped, and why


def _progress(console: Console) -> Progress:
    return Progress(
        TextColumn("{task.description:<28}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=False,
    )


def _command(name: str) -> Any:
    """A pipeline command class by name, when a stage has registered it (else None)."""
    import importlib

    import ledgerlens.pipeline as pipeline

    for module in ("ledgerlens.pipeline", "ledgerlens.pipeline_insights"):
        try:
            cmd = getattr(importlib.import_module(module), name, None)
        except ImportError:
            continue
        if cmd is not None and cmd in pipeline.HANDLERS:
            return cmd
    return None


def _world_now(container: Container, business_id: str) -> Any:
    """The demo world's "now": the evening of its last booked day. The synthetic world
    ends on a fixed day, so judged by the wall clock its recent events would already be stale
    (expired) and the feed empty."""
    from datetime import UTC, datetime, time

    with container.uow_factory() as uow:
        last = max((t.booking_date for t in uow.scope(business_id).transactions.iter_all()),
                   default=None)  # fmt: skip
    if last is None:
        return None
    return datetime.combine(last, time(18), UTC)


def _insights(container: Container, services: Any, business_id: str) -> str:
    """Grant the demo owner's insights consent and refresh insights; '' or why it was skipped."""
    import ledgerlens.pipeline as pipeline

    refresh = _command("RefreshInsights")
    if refresh is None:
        return "insights: the insights stage is not wired into the pipeline yet"
    try:
        grant = _command("GrantConsent")
        if grant is not None:
            from ledgerlens.core.ledger import Purpose

            for purpose in (Purpose.INSIGHTS,):
                pipeline.dispatch(grant(business_id, purpose, "demo-owner"), services)
        pipeline.dispatch(refresh(business_id, now=_world_now(container, business_id)), services)
    except Exception as exc:  # noqa: BLE001 - a stage still being built must not stop the demo
        return f"insights: skipped ({type(exc).__name__})"
    return ""


def prepare_demo(
    container: Container,
    businesses: int,
    console: Console,
    *,
    months: int = DEMO_MONTHS,
    seed: int = DEMO_SEED,
) -> DemoPortfolio:
    """Generate, load and process a demo portfolio in ``container``'s database."""
    from ledgerlens.jobs.world_loader import load_world
    from ledgerlens.pipeline import EnrichBusiness, dispatch
    from ledgerlens.serve.forecasting import load_forecast
    from ledgerlens.synth.world import generate_world

    notes: list[str] = []
    with _progress(console) as bars:
        gen = bars.add_task("generating businesses", total=businesses)
        world = generate_world(
            businesses, months, seed, progress=lambda d, t: bars.update(gen, completed=d, total=t)
        )
        load = bars.add_task("loading the ledger", total=businesses)
        n_biz, n_tx = load_world(
            container.uow_factory, world, progress=lambda d, t: bars.update(load, completed=d)
        )
        models = bars.add_task("loading the shipped models", total=1)
        services = container.services()
        bars.update(models, completed=1)
        ids = [b.business_id for b in world.businesses]
        enrich = bars.add_task("enrich + anomalies", total=len(ids))
        for bid in ids:
            dispatch(EnrichBusiness(bid), services)
            bars.advance(enrich)
        owners: list[DemoOwner] = []
        fc_task = bars.add_task("forecast", total=len(ids))
        for b in world.businesses:
            try:
                bf = load_forecast(container.uow_factory, b.business_id)
            except NotFound as exc:  # a business without lines has no forecast
                notes.append(f"forecast {b.business_id}: {type(exc).__name__}")
                bars.advance(fc_task)
                continue
            top = max((w.shortfall_probability for w in bf.fc.weeks), default=0.0)
            start = bf.gap.week_start.isoformat() if bf.gap is not None else ""
            owners.append(DemoOwner(b.business_id, b.name, top, start))
            bars.advance(fc_task)
        ins_task = bars.add_task("insights", total=len(ids))
        for bid in ids:
            why = _insights(container, services, bid)
            bars.advance(ins_task)
            if why:
                notes.append(why)
                bars.update(ins_task, completed=len(ids))
                break
    # owners whose gap week is highlighted first; a gap in a few weeks shows best
    owners.sort(key=lambda o: (not o.gap_week, -o.gap_probability, o.business_id))
    return DemoPortfolio(n_biz, n_tx, owners, notes)


def demo_login(container: Container, owner: DemoOwner, port: int, ttl_hours: float = 12.0) -> str:
    """The login URL of a demo owner (a development token in the fragment, never sent to
    the server in a request line or a log)."""
    from ledgerlens.serve.security import issue_dev_token
    from ledgerlens.serve.settings import ServeSettings

    token = issue_dev_token(
        ServeSettings().auth, f"owner-{owner.business_id}", {owner.business_id: Role.OWNER},
        ttl_hours,
    )  # fmt: skip
    return f"http://127.0.0.1:{port}/app#token={token}"


def _digest(container: Container, business_id: str) -> str | None:
    """The weekly digest as text; None when no stage builds digests or the business has not
    granted the insights consent. A digest that fails to build raises (never a silent None)."""
    import ledgerlens.pipeline as pipeline

    build = _command("BuildDigest")
    if build is None:
        return None
    from ledgerlens.explain.digests import to_text
    from ledgerlens.explain.render import renderer

    digest = pipeline.dispatch(build(business_id), container.services())
    return to_text(digest, renderer(digest.language)) if digest is not None else None


def _print_digest(container: Container, owner: DemoOwner, console: Console) -> bool:
    """Print the first owner's weekly digest; False (logged at error level with the exception,
    and shown) when building it failed, so the demo exits non-zero instead of hiding it."""
    import structlog

    try:
        text = _digest(container, owner.business_id)
    except Exception as exc:  # noqa: BLE001 - logged with its traceback, then exit 1
        structlog.get_logger("ledgerlens.demo").exception(
            "demo_digest_failed", business_id=owner.business_id, error=type(exc).__name__
        )
        console.print(
            f"[bold red]error:[/bold red] the weekly digest of {owner.name} could not be built "
            f"({type(exc).__name__}: {exc})",
            highlight=False,
        )
        return False
    console.print(f"[bold]Weekly digest of {owner.name}[/bold]")
    console.print(text or "(no digest yet: see the summary above)")
    return True


def _summary(portfolio: DemoPortfolio) -> Table:
    table = Table(title="Demo owners (riskiest cash outlook first)")
    for col in ("business", "name", "first week at risk", "highest weekly risk"):
        table.add_column(col)
    for o in portfolio.owners[:5]:
        table.add_row(o.business_id, o.name, o.gap_week or "none", f"{o.gap_probability:.0%}")
    return table


def run_full_demo(
    businesses: int,
    port: int,
    console: Console,
    *,
    examples: Path | None = None,
    serve: bool = True,
) -> int:
    """Import the sample statements, build the demo portfolio, print the digest and the logins,
    then serve API + app (blocking; ``serve=False`` stops before, for scripts and tests)."""
    import uvicorn

    from ledgerlens.bootstrap import bootstrap, configure_logging
    from ledgerlens.config import get_settings
    from ledgerlens.serve.app import create_app

    configure_logging(get_settings().log_json)
    container = bootstrap(load_models=True)
    try:
        code = 0
        if examples is not None:
            from ledgerlens.jobs.demo import run_demo

            code = run_demo(container, examples, console)
        portfolio = prepare_demo(container, businesses, console)
        console.print(
            f"{portfolio.businesses} businesses, {portfolio.transactions} new transactions "
            f"in {container.settings.db.url.split('///')[-1]}"
        )
        for note in dict.fromkeys(portfolio.notes):
            console.print(f"note: {note}")
        console.print(_summary(portfolio))
        if portfolio.owners and not _print_digest(container, portfolio.owners[0], console):
            return 1  # a broken digest stops the demo before serving (ledgerlens demo exits 1)
        console.print("[bold]Demo logins[/bold] (open one in a browser; 360×640 works best):")
        for o in portfolio.owners[:3]:
            console.print(f"  {o.name} ({o.business_id}):", highlight=False)
            # one unbroken line, so the link can be copied whole
            console.print(demo_login(container, o, port), soft_wrap=True, highlight=False)
        if not serve:
            return code
        console.print(f"Serving the API and the app on http://127.0.0.1:{port}/app (Ctrl+C stops)")
        dispatcher = start_dispatcher(container, console)
        try:
            uvicorn.run(
                create_app(container), host="127.0.0.1", port=port, workers=1, access_log=False,
                log_level="warning", lifespan="on",
            )  # fmt: skip
        finally:
            dispatcher.stop()
    finally:
        container.dispose()
    return 0


def start_dispatcher(container: Container, console: Console, interval_s: float = 60.0) -> Any:
    """The digest and notification dispatcher in a background thread of the serving process
    (``jobs.dispatcher.DispatcherLoop``), as a deployment runs ``ledgerlens dispatch --loop``
    beside the server; the caller stops it when serving ends."""
    from types import SimpleNamespace

    from ledgerlens.jobs.dispatcher import DispatcherLoop

    services = SimpleNamespace(uow_factory=container.uow_factory, notifiers=container.notifiers())
    loop = DispatcherLoop(services, interval_s).start()
    console.print(
        f"Digests and notifications: dispatcher running every {interval_s:g} s in the background"
    )
    return loop
