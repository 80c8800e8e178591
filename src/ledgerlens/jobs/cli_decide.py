"""CLI: decisions and their audit log (issue 7A).

    ledgerlens offers --business ID [--json]        decide (and audit) everything, show offers
    ledgerlens limits --business ID [--json]        … show the card and payment limits
    ledgerlens recommend --business ID [--json]     … show the recommendations and FX tips
    ledgerlens audit verify [--business ID]         re-check the hash chain (exit 1 if broken)
    ledgerlens evaluate-recommendations [--businesses N --seed S] [--json]

Each of the first three runs the pipeline's ``DecideForBusiness`` (so every decision shown is
also in the audit log) and prints its part. ``register(app)`` adds them to the main app.
"""

from __future__ import annotations

import json
from typing import Annotated, Any

import typer
from rich.console import Console

__all__ = ["register"]

console = Console()
err = Console(stderr=True)
BusinessOpt = Annotated[str, typer.Option("--business", help="A business in the database.")]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON.")]


def _decide(business_id: str) -> Any:
    from ledgerlens.adapters.db.audit import SqlAuditLog
    from ledgerlens.bootstrap import _load_decision_rules, _load_fx_rates, bootstrap
    from ledgerlens.core.errors import NotFound
    from ledgerlens.pipeline import Services, dispatch
    from ledgerlens.pipeline_decide import DecideForBusiness

    c = bootstrap()
    try:
        services = Services(
            importer=c.importer,
            uow_factory=c.uow_factory,
            fx_rates=_load_fx_rates(),
            audit_log=SqlAuditLog(c.engine),  # type: ignore[arg-type]
            decision_rules=_load_decision_rules(),
        )
        try:
            return dispatch(DecideForBusiness(business_id), services)
        except NotFound as exc:
            err.print(f"error: {exc}")
            raise typer.Exit(2) from exc
    finally:
        c.dispose()


def _as_dict(d: Any) -> dict[str, Any]:
    return {
        "kind": str(d.kind),
        "subject": d.subject,
        "outputs": d.outputs,
        "reason_codes": list(d.reason_codes),
        "reasons": list(d.reasons),
        "versions": list(d.versions),
        "confidence": d.confidence,
    }


def _show(report: Any, which: list[Any], as_json: bool, title: str) -> None:
    b = report.decisions
    if as_json:
        typer.echo(
            json.dumps(
                {
                    "business_id": report.business_id,
                    "consented": report.consented,
                    "risk": {
                        "probability_of_distress": b.risk.probability_of_distress,
                        "risk_band": b.risk.risk_band,
                        "reasons": list(b.risk.reasons),
                        "model_version": b.risk.model_version,
                    },
                    title: [_as_dict(d) for d in which],
                    "audited": len(report.audited),
                },
                indent=2,
                default=str,
            )
        )
        return
    console.print(
        f"[bold]{report.business_id}[/] risk band {b.risk.risk_band} "
        f"(p={b.risk.probability_of_distress:.3f}, {b.risk.model_version}); "
        f"{len(report.audited)} decisions audited"
    )
    if not which:
        console.print(f"no {title}" + ("" if report.consented else " (no offers consent)"))
    for d in which:
        console.print(f"- {d.subject}: {d.reasons[0] if d.reasons else ''}")
        console.print(f"  codes: {', '.join(d.reason_codes)}", style="dim")


def register(app: typer.Typer) -> None:
    """Add ``offers``, ``limits``, ``recommend``, ``audit verify`` and
    ``evaluate-recommendations`` to the main app."""

    @app.command("offers")
    def offers_cmd(business: BusinessOpt, as_json: JsonOpt = False) -> None:
        """Tailored lending offers (amount, term, price, why), within the rule caps."""
        r = _decide(business)
        _show(r, r.decisions.offers, as_json, "offers")

    @app.command("limits")
    def limits_cmd(business: BusinessOpt, as_json: JsonOpt = False) -> None:
        """Dynamic card and payment limits, with the reason for each change."""
        r = _decide(business)
        _show(r, r.decisions.limits, as_json, "limits")

    @app.command("recommend")
    def recommend_cmd(business: BusinessOpt, as_json: JsonOpt = False) -> None:
        """Product recommendations (shown ones) and FX tips (needs the offers consent)."""
        from ledgerlens.decide.fx_tips import tip_decision

        r = _decide(business)
        shown = [d for d in r.decisions.recommendations if d.outputs.get("shown")]
        tips = [tip_decision(business, t) for t in r.decisions.tips]
        _show(r, shown + tips, as_json, "recommendations")

    audit_app = typer.Typer(help="The hash-chained decision audit log.", no_args_is_help=True)

    @audit_app.command("verify")
    def verify_cmd(
        business: Annotated[str | None, typer.Option("--business")] = None,
        as_json: JsonOpt = False,
    ) -> None:
        """Recompute every hash; exit 1 when any entry was edited or deleted."""
        from ledgerlens.adapters.db.audit import SqlAuditLog
        from ledgerlens.bootstrap import bootstrap

        c = bootstrap()
        try:
            rep = SqlAuditLog(c.engine).verify_chain(business)  # type: ignore[arg-type]
        finally:
            c.dispose()
        if as_json:
            typer.echo(
                json.dumps(
                    {
                        "ok": rep.ok,
                        "businesses": rep.businesses,
                        "entries": rep.entries,
                        "problems": list(rep.problems),
                    }
                )
            )
        else:
            state = "[green]intact[/]" if rep.ok else "[red]BROKEN[/]"
            console.print(
                f"audit chain {state}: {rep.entries} entries, {rep.businesses} businesses"
            )
            for p in rep.problems:
                console.print(f"- {p}")
        if not rep.ok:
            raise typer.Exit(1)

    app.add_typer(audit_app, name="audit")

    @app.command("evaluate-recommendations")
    def eval_cmd(
        businesses: Annotated[int, typer.Option("--businesses")] = 120,
        seed: Annotated[int, typer.Option("--seed")] = 7070,
        as_json: JsonOpt = False,
    ) -> None:
        """Precision and recall of recommendations against the synthetic world's product truth."""
        from ledgerlens.ml.recommend_eval import evaluate_world, render

        res = evaluate_world(businesses, seed)
        typer.echo(json.dumps(res, indent=2) if as_json else render(res))
