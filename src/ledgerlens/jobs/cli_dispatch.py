"""CLI: ``ledgerlens dispatch`` sends the scheduled digests and every queued e-mail/push.

    ledgerlens dispatch [--once]          one pass (cron, a systemd timer), then exit
    ledgerlens dispatch --loop [--interval 60]   a pass every S seconds until SIGTERM/Ctrl+C
    ledgerlens dispatch --once --now 2026-12-07T07:05:00+01:00   replay a moment (tests, demos)

Thin: builds the container and its notifiers (``LEDGERLENS_NOTIFY__*``), runs
``jobs.dispatcher.DispatcherLoop``, prints counts (never an address or a message).
"""

from __future__ import annotations

import json
import signal
from datetime import datetime
from types import SimpleNamespace
from typing import Annotated, Any

import typer
from rich.console import Console

__all__ = ["register"]

console = Console()
err = Console(stderr=True)


def _when(text: str | None) -> datetime | None:
    if text is None:
        return None
    try:
        when = datetime.fromisoformat(text)
    except ValueError:
        raise typer.BadParameter("--now must be an ISO 8601 timestamp") from None
    if when.tzinfo is None:
        raise typer.BadParameter("--now needs a UTC offset (e.g. 2026-12-07T07:05:00+00:00)")
    return when


def dispatch_cmd(
    once: Annotated[bool, typer.Option("--once", help="One pass, then exit (default).")] = False,
    loop: Annotated[bool, typer.Option("--loop", help="A pass every --interval seconds.")] = False,
    interval: Annotated[
        float, typer.Option("--interval", min=1.0, help="Seconds between passes (--loop).")
    ] = 60.0,
    now: Annotated[
        str | None, typer.Option("--now", help="Pretend it is this moment (ISO, with offset).")
    ] = None,
    business: Annotated[str | None, typer.Option("--business", help="Only this business.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the counts as JSON.")] = False,
) -> None:
    """Queue the digests that are due (each business's frequency, send time, time zone) and
    deliver every outbox row whose time has come — exactly once per period and channel."""
    from ledgerlens.bootstrap import bootstrap, configure_logging
    from ledgerlens.config import get_settings
    from ledgerlens.jobs.dispatcher import DispatcherLoop, counts_of
    from ledgerlens.pipeline import dispatch
    from ledgerlens.pipeline_dispatch import DispatchDue

    if once and loop:
        raise typer.BadParameter("give --once or --loop, not both")
    if loop and now is not None:
        raise typer.BadParameter("--now goes with --once (a loop follows the clock)")
    when = _when(now)
    configure_logging(get_settings().log_json)
    c = bootstrap()
    services: Any = SimpleNamespace(uow_factory=c.uow_factory, notifiers=c.notifiers())
    try:
        if not loop:
            report = dispatch(DispatchDue(now=when, business_id=business), services)
            counts = counts_of(report)
            if as_json:
                typer.echo(json.dumps(counts, sort_keys=True))
            else:
                console.print(", ".join(f"{k} {v}" for k, v in counts.items()))
            return
        runner = DispatcherLoop(services, interval)

        def stop(*_: object) -> None:
            runner.stop(timeout_s=0)

        signal.signal(signal.SIGTERM, stop)
        signal.signal(signal.SIGINT, stop)
        err.print(f"dispatching every {interval:g} s (SIGTERM or Ctrl+C stops)")
        runner.run_forever()
        err.print(f"stopped after {runner.passes} passes ({runner.failures} failed)")
    finally:
        c.dispose()


def register(app: typer.Typer) -> None:
    app.command("dispatch")(dispatch_cmd)
