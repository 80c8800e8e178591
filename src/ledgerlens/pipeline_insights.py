"""Pipeline handlers of the explain stage and of consent (issue #8).

    RefreshInsights(business_id)            forecast + anomalies + builders + ranking → stored
    GrantConsent / WithdrawConsent(b, p)    consent changes, audit-logged; withdrawal deletes
                                            what was derived for the purpose, at once
    ExportBusiness(business_id, out_dir)    every row of the business: JSON + CSV + one zip
    EraseBusiness(business_id)              erasure (``BusinessRepository.delete``)

Consent gates the work at its entry: ``RefreshInsights`` checks the ``insights`` purpose
*before* it reads a single transaction, so a business that withdrew is not processed at all;
offers are only turned into insights while the ``offers`` purpose holds. Storage is reached as
``scope.insights`` (``adapters/db/insight_repositories.SqlInsightStore``); senders come from
``services.notifiers`` (channel → ``explain.notify.Notifier``) when the composition root set
them. E-mail and push for new insights go through the notification outbox, queued in the same
transaction as the insights: sent right after the commit when allowed now, or later by the
dispatcher (``pipeline_dispatch.DispatchDue``, which also sends the scheduled digests) when
quiet hours hold them.
"""

from __future__ import annotations

import csv
import json
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from ledgerlens.analyze.cashflow.known_items import OpenInvoice, ScheduledPayment, stored_items
from ledgerlens.consent.model import ConsentState
from ledgerlens.core.errors import NotFound
from ledgerlens.core.ledger import AnnotationKind, ConsentGrant, Purpose
from ledgerlens.explain import service as explain_service
from ledgerlens.explain.digests import Digest
from ledgerlens.explain.digests import build_digest as make_digest
from ledgerlens.explain.events import FxTipInput, OfferInput
from ledgerlens.explain.notify import Delivery, deliver
from ledgerlens.explain.outbox import insight_items
from ledgerlens.explain.ranking import RankPolicy, rank
from ledgerlens.pipeline_dispatch import DISPATCH_HANDLERS, deliver_due, outbox_of

__all__ = [
    "INSIGHT_HANDLERS",
    "BuildDigest",
    "EraseBusiness",
    "ExportBusiness",
    "GrantConsent",
    "RefreshInsights",
    "RefreshPlan",
    "RefreshResult",
    "WithdrawConsent",
    "apply_refresh",
    "plan_refresh",
]


@dataclass(frozen=True, slots=True)
class RefreshInsights:
    business_id: str
    as_of: date | None = None
    now: datetime | None = None
    offers: tuple[OfferInput, ...] = ()
    fx_tips: tuple[FxTipInput, ...] = ()
    notify: bool = True


@dataclass(frozen=True, slots=True)
class RefreshResult:
    """Counts only (no personal data): safe to log and to print."""

    business_id: str
    processed: bool
    reason: str = "ok"
    candidates: int = 0
    published: int = 0
    updated: int = 0
    held: dict[str, int] = field(default_factory=dict)
    deliveries: tuple[Delivery, ...] = ()


@dataclass(frozen=True, slots=True)
class GrantConsent:
    business_id: str
    purpose: Purpose
    actor: str = ""


@dataclass(frozen=True, slots=True)
class WithdrawConsent:
    business_id: str
    purpose: Purpose
    actor: str = ""


@dataclass(frozen=True, slots=True)
class ExportBusiness:
    business_id: str
    out_dir: Path


@dataclass(frozen=True, slots=True)
class EraseBusiness:
    business_id: str


def _uow(services: Any) -> Any:
    factory = getattr(services, "uow_factory", None)
    if factory is None:
        raise TypeError("Services.uow_factory is not configured")
    return factory()


def _now(when: datetime | None) -> datetime:
    return when if when is not None else datetime.now(UTC)


def _snapshot(
    scope: Any,
    business: Any,
    consent: ConsentState,
    as_of: date | None,
    offers: tuple[OfferInput, ...] = (),
    fx_tips: tuple[FxTipInput, ...] = (),
    services: Any = None,
) -> explain_service.BusinessSnapshot:
    """Read what one analysis needs (stored anomaly verdicts when issue 6 stored any)."""
    anomalies = getattr(scope, "anomalies", None)
    stored = anomalies.list(raised_only=True) if anomalies is not None else []
    txs = list(scope.transactions.iter_all())
    accounts = scope.accounts.list()
    # the business's open invoices and scheduled payments (``known_items``) at the as-of day
    scheduled: list[ScheduledPayment] = []
    invoices: list[OpenInvoice] = []
    if txs:
        day = as_of or max(t.booking_date for t in txs)
        scheduled, invoices = stored_items(scope.known_items.list(status="open"), day, txs)
    return explain_service.BusinessSnapshot(
        business=business,
        accounts=accounts,
        transactions=txs,
        annotations=scope.annotations.list(AnnotationKind.CATEGORY),
        as_of=as_of,
        open_invoices=invoices,
        scheduled=scheduled,
        scheduled_stored=True,
        offers=offers if consent.has(Purpose.OFFERS) else (),
        fx_tips=fx_tips or _fx_tips(services, txs, accounts),
        anomalies=stored or None,
    )


def _fx_tips(services: Any, txs: list[Any], accounts: list[Any]) -> tuple[FxTipInput, ...]:
    """FX tips from decide (issue 7) when the composition root gave ECB rates."""
    rates = getattr(services, "fx_rates", None)
    if rates is None:
        return ()
    from ledgerlens.decide.fx_tips import fx_tips
    from ledgerlens.explain.decisions import fx_tip_inputs

    return tuple(fx_tip_inputs(fx_tips(txs, accounts, rates)))


@dataclass(frozen=True, slots=True)
class RefreshPlan:
    """What ``plan_refresh`` computed from a read: the candidates to rank and store."""

    cmd: RefreshInsights
    now: datetime
    candidates: tuple[Any, ...] = ()
    processed: bool = True
    reason: str = "ok"


def plan_refresh(cmd: RefreshInsights, services: Any, uow_factory: Any = None) -> RefreshPlan:
    """The expensive half of a refresh, in a read transaction: read the business, forecast,
    build the candidates. ``uow_factory``: a read-only one lets it run beside the writer
    (the API's background refresh); nothing is written here."""
    now = _now(cmd.now)
    with (uow_factory or getattr(services, "uow_factory", None) or _no_uow)() as uow:
        business = uow.businesses.get(cmd.business_id)
        if business is None:
            raise NotFound(f"unknown business {cmd.business_id!r}")
        scope = uow.scope(cmd.business_id)
        consent = ConsentState(cmd.business_id, frozenset(scope.consents.active()))
        if not consent.has(Purpose.INSIGHTS):
            return RefreshPlan(cmd, now, processed=False, reason="no_consent")
        store = scope.insights
        prefs = store.preferences()
        previous = store.list()
        snap = _snapshot(scope, business, consent, cmd.as_of, cmd.offers, cmd.fx_tips, services)
    run = explain_service.analyze_business(snap, prefs, now, previous)
    return RefreshPlan(cmd, now, tuple(run.candidates))


def _no_uow() -> Any:
    raise TypeError("Services.uow_factory is not configured")


def apply_refresh(plan: RefreshPlan, services: Any) -> RefreshResult:
    """The short write half: re-read consent, preferences and the stored insights (an owner
    may have muted, dismissed or withdrawn while the plan was computed), rank the planned
    candidates against them, store, queue notifications, commit."""
    cmd, now = plan.cmd, plan.now
    if not plan.processed:
        return RefreshResult(cmd.business_id, False, plan.reason)
    with _uow(services) as uow:
        if uow.businesses.get(cmd.business_id) is None:
            raise NotFound(f"unknown business {cmd.business_id!r}")
        scope = uow.scope(cmd.business_id)
        consent = ConsentState(cmd.business_id, frozenset(scope.consents.active()))
        if not consent.has(Purpose.INSIGHTS):  # withdrawn meanwhile: store nothing
            return RefreshResult(cmd.business_id, False, "no_consent")
        store = scope.insights
        prefs = store.preferences()
        previous = store.list()
        wanted = [c for c in plan.candidates if str(c.kind) not in prefs.muted_kinds]
        ranked = rank(wanted, previous, now, RankPolicy())
        store.upsert([*ranked.published, *ranked.updated], now)
        deliveries: list[Delivery] = []
        notifiers = getattr(services, "notifiers", None) or {}
        outbox = outbox_of(services, uow, cmd.business_id) if cmd.notify else None

        def log(d: Delivery) -> None:
            store.log_notification(d.insight_id, d.channel, d.status, d.reason, d.attempts, now)

        if cmd.notify and ranked.published and outbox is None:  # storage without an outbox
            deliveries = deliver(ranked.published, prefs, consent, now, notifiers, log)
        elif outbox is not None and ranked.published:
            # transactional outbox: queued with the insights they announce, sent after commit;
            # what quiet hours hold waits in the outbox for the dispatcher
            items, stopped = insight_items(ranked.published, prefs, consent, now)
            outbox.enqueue(items, now)
            for d in stopped:
                log(d)
            deliveries = stopped
        uow.commit()
    if outbox is not None and notifiers:
        sent, _ = deliver_due(services, now, cmd.business_id)
        deliveries = [*deliveries, *sent]
    held: dict[str, int] = {}
    for _, why in ranked.held:
        held[why] = held.get(why, 0) + 1
    return RefreshResult(
        cmd.business_id,
        True,
        "ok",
        len(plan.candidates),
        len(ranked.published),
        len(ranked.updated),
        held,
        tuple(deliveries),
    )


def refresh_insights(cmd: RefreshInsights, services: Any) -> RefreshResult:
    """Analyse one business and store what ranking publishes; nothing without consent.
    Two transactions: a read that computes (``plan_refresh``) and a short write
    (``apply_refresh``), so writers never queue behind the forecast."""
    return apply_refresh(plan_refresh(cmd, services), services)


def audit_takes_consent() -> bool:
    """Whether issue 7's audit log knows the ``consent`` kind (its ``DecisionKind`` enum)."""
    from ledgerlens.decide.model import DecisionKind

    return "consent" in {k.value for k in DecisionKind}


def _audit(services: Any, uow: Any, cmd: Any, action: str, deleted: dict[str, int]) -> None:
    """Also into issue 7's hash-chained decision audit log when the composition root wired it
    (``services.audit_log``); ``consent_events`` keeps every change either way."""
    audit = getattr(services, "audit_log", None)
    if audit is None or not audit_takes_consent():
        return
    record = {
        "decision_id": f"consent:{Purpose(cmd.purpose).value}:{action}",
        "purpose": Purpose(cmd.purpose).value,
        "action": action,
        "actor": cmd.actor,
        "deleted": deleted,
        "reason_codes": [f"CONSENT_{action.upper()}"],
        "source": "rule:consent",
    }
    audit(uow, cmd.business_id, "consent", record)


def grant_consent(cmd: GrantConsent, services: Any) -> None:
    now = datetime.now(UTC)
    with _uow(services) as uow:
        scope = uow.scope(cmd.business_id)
        if Purpose(cmd.purpose) not in scope.consents.active():
            scope.consents.grant(
                ConsentGrant(cmd.business_id, Purpose(cmd.purpose), now, granted_by=cmd.actor)
            )
        scope.insights.log_consent(cmd.purpose, "grant", cmd.actor, now)
        uow.commit()
        _audit(services, uow, cmd, "grant", {})


def withdraw_consent(cmd: WithdrawConsent, services: Any) -> dict[str, int]:
    """Stop processing for the purpose and delete what was derived for it, in one transaction."""
    now = datetime.now(UTC)
    with _uow(services) as uow:
        scope = uow.scope(cmd.business_id)
        scope.consents.withdraw(Purpose(cmd.purpose), now)
        deleted: dict[str, int] = scope.insights.forget(cmd.purpose)
        scope.insights.log_consent(cmd.purpose, "withdraw", cmd.actor, now, deleted)
        uow.commit()
        _audit(services, uow, cmd, "withdraw", deleted)
    return deleted


def _cell(v: Any) -> Any:
    return v.isoformat() if isinstance(v, (date, datetime)) else v


def export_business(cmd: ExportBusiness, services: Any) -> Path:
    """All of the business's rows: ``data.json``, one CSV per table, and a zip of them."""
    with _uow(services) as uow:
        if uow.businesses.get(cmd.business_id) is None:
            raise NotFound(f"unknown business {cmd.business_id!r}")
        tables = uow.scope(cmd.business_id).insights.export_tables()
    out = Path(cmd.out_dir) / cmd.business_id
    out.mkdir(parents=True, exist_ok=True)
    data = {
        name: [{k: _cell(v) for k, v in row.items()} for row in rows]
        for name, rows in tables.items()
    }
    (out / "data.json").write_text(
        json.dumps(data, indent=1, sort_keys=True, default=str), encoding="utf-8"
    )
    files = [out / "data.json"]
    for name, rows in data.items():
        if not rows:
            continue
        path = out / f"{name}.csv"
        with path.open("w", encoding="utf-8", newline="") as fh:
            w = csv.DictWriter(fh, fieldnames=list(rows[0]), lineterminator="\n")
            w.writeheader()
            w.writerows(rows)
        files.append(path)
    archive = Path(cmd.out_dir) / f"{cmd.business_id}_export.zip"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as z:
        for f in files:
            z.write(f, f"{cmd.business_id}/{f.name}")
    return archive


def erase_business(cmd: EraseBusiness, services: Any) -> int:
    """Delete every row of the business; return how many remain (0)."""
    with _uow(services) as uow:
        uow.businesses.delete(cmd.business_id)
        uow.commit()
        return int(uow.scope(cmd.business_id).insights.remaining_rows())


@dataclass(frozen=True, slots=True)
class BuildDigest:
    business_id: str
    period: str = "weekly"  # daily | weekly
    now: datetime | None = None


def build_digest(cmd: BuildDigest, services: Any) -> Digest | None:
    """The digest from stored insights and a fresh forecast; None without the consent."""
    now = _now(cmd.now)
    with _uow(services) as uow:
        business = uow.businesses.get(cmd.business_id)
        if business is None:
            raise NotFound(f"unknown business {cmd.business_id!r}")
        scope = uow.scope(cmd.business_id)
        consent = ConsentState(cmd.business_id, frozenset(scope.consents.active()))
        if not consent.has(Purpose.INSIGHTS):
            return None
        prefs = scope.insights.preferences()
        stored = scope.insights.list()
        snap = _snapshot(scope, business, consent, None)
    run = explain_service.analyze_business(snap, prefs, now, stored)
    return make_digest(cmd.business_id, cmd.period, now, stored, run.fc, run.taxes, prefs.language)


INSIGHT_HANDLERS: dict[type, Callable[[Any, Any], Any]] = {
    RefreshInsights: refresh_insights,
    BuildDigest: build_digest,
    GrantConsent: grant_consent,
    WithdrawConsent: withdraw_consent,
    ExportBusiness: export_business,
    EraseBusiness: erase_business,
    **DISPATCH_HANDLERS,  # DispatchDue: scheduled digests and the outbox (pipeline_dispatch)
}
