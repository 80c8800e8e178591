"""The dispatcher: digests on each business's schedule, and every queued e-mail/push, once.

    DispatchDue(now=None, business_id=None)   one pass: queue the digests that are due, then
                                              deliver every outbox row whose time has come

Run it from cron or a systemd timer (``ledgerlens dispatch --once``), as a long-running loop
(``ledgerlens dispatch --loop --interval 60``), or in the background of ``ledgerlens demo``.
Two passes at the same time, or one pass twice, send nothing twice:

1. **Digests.** For each business with the ``insights`` consent whose digest
   (``explain.schedule.digest_due``: frequency, send time, weekday, time zone) is due and not
   yet in the outbox, the digest is built (``BuildDigest``) and one row per channel is inserted
   under the key ``(business, digest_<period>, period_key, channel)``; a second builder's rows
   collide with the first's and are not inserted.
2. **Delivery.** Each due row is *claimed* (a conditional update only one caller wins; the
   claim is committed before the network call), then decided again with the owner's choices
   of that moment (``explain.outbox.route``): quiet hours postpone it to their end, a missing
   consent / mute / channel / address drops it (recorded), otherwise the channel's notifier
   sends it. A failure is retried with exponential backoff and given up after
   ``RetryPolicy.max_attempts`` (status ``failed``, recorded). Every outcome is also written to
   the ``notifications`` log (status, reason, attempts — no address, no text).

Storage: the outbox beside the business's insights (``scope.insights.outbox``, an
``adapters/db/outbox_repository.SqlOutbox`` on the unit of work's connection), or
``services.outbox_factory(uow)`` when a composition root supplies another ``Outbox``. Storage
without an outbox (the in-memory test double) falls back to sending at refresh time only.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from ledgerlens.consent.model import Channel, ConsentState
from ledgerlens.core.ledger import Purpose
from ledgerlens.explain.model import InsightStatus
from ledgerlens.explain.notify import Delivery
from ledgerlens.explain.outbox import (
    Outbox,
    OutboxItem,
    OutboxStatus,
    RetryPolicy,
    Route,
    digest_items,
    route,
    to_message,
)
from ledgerlens.explain.schedule import digest_due, local_zone

__all__ = [
    "DISPATCH_HANDLERS",
    "DispatchDue",
    "DispatchReport",
    "deliver_due",
    "dispatch_due",
    "outbox_of",
    "queue_digests",
]


@dataclass(frozen=True, slots=True)
class DispatchDue:
    now: datetime | None = None
    business_id: str | None = None  # None: every business
    digests: bool = True  # also queue the digests that are due


@dataclass(frozen=True, slots=True)
class DispatchReport:
    """Counts only (no personal data): safe to log and print."""

    digests_queued: int = 0
    sent: int = 0
    held: int = 0
    retrying: int = 0
    failed: int = 0
    dropped: int = 0
    skipped: int = 0  # claimed by another dispatcher meanwhile
    errors: int = 0  # businesses whose digest could not be built (error class logged)
    deliveries: tuple[Delivery, ...] = field(default=(), repr=False)


def _uow(services: Any) -> Any:
    factory = getattr(services, "uow_factory", None)
    if factory is None:
        raise TypeError("Services.uow_factory is not configured")
    return factory()


def outbox_of(services: Any, uow: Any, business_id: str) -> Outbox | None:
    """The outbox inside ``uow``: ``services.outbox_factory(uow)`` when given, else the one the
    storage offers beside the business's insights; None when it has none."""
    factory = getattr(services, "outbox_factory", None)
    if factory is not None:
        return factory(uow)  # type: ignore[no-any-return]
    return getattr(uow.scope(business_id).insights, "outbox", None)


def _require_outbox(services: Any, uow: Any, business_id: str) -> Outbox:
    ob = outbox_of(services, uow, business_id)
    if ob is None:
        raise TypeError("this storage has no notification outbox")
    return ob


def _now(when: datetime | None) -> datetime:
    now = when if when is not None else datetime.now(UTC)
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    return now.astimezone(UTC)


def queue_digests(services: Any, now: datetime, business_id: str | None = None) -> tuple[int, int]:
    """Build and queue every digest due at ``now``; return (rows queued, businesses failed)."""
    from ledgerlens.pipeline_insights import BuildDigest, build_digest

    with _uow(services) as uow:
        ids = [business_id] if business_id else [b.business_id for b in uow.businesses.list()]
    queued = errors = 0
    for bid in ids:
        with _uow(services) as uow:
            scope = uow.scope(bid)
            consent = ConsentState(bid, frozenset(scope.consents.active()))
            if not consent.has(Purpose.INSIGHTS):
                continue  # nothing is built for a business that has not consented
            prefs = scope.insights.preferences()
            due = digest_due(prefs, now)
            if due is None or _require_outbox(services, uow, bid).exists(
                bid, due.kind, due.period_key
            ):
                continue
        try:
            digest = build_digest(BuildDigest(bid, due.period, now), services)
        except Exception as exc:  # noqa: BLE001 - one business must not stop the others
            errors += 1
            _logger().warning("digest_failed", business_id=bid, error=type(exc).__name__)
            continue
        if digest is None:
            continue
        items = digest_items(digest, due.kind, due.period_key, prefs, consent, now)
        with _uow(services) as uow:
            queued += _require_outbox(services, uow, bid).enqueue(items, now)
            uow.commit()
    return queued, errors


def _still_current(scope: Any, item: OutboxItem, now: datetime, zone: Any) -> bool:
    """An insight is e-mailed later only while it is still in the feed, current and not
    dismissed or acted on by the owner meanwhile."""
    today = now.astimezone(zone).date()
    for ins in scope.insights.list(current_on=today):
        if ins.insight_id == item.reference:
            return ins.status not in (InsightStatus.DISMISSED, InsightStatus.ACTED)
    return False


def _deliver_one(
    services: Any, business_id: str, outbox_id: str, now: datetime, policy: RetryPolicy
) -> Delivery | None:
    """Claim, decide, send and record one row; None when another dispatcher has it."""
    with _uow(services) as uow:
        ob = _require_outbox(services, uow, business_id)
        item = ob.claim(outbox_id, now, policy.lease(now))
        uow.commit()
        if item is None:
            return None  # another dispatcher won it, or it is done
        scope = uow.scope(item.business_id)
        consent = ConsentState(item.business_id, frozenset(scope.consents.active()))
        prefs = scope.insights.preferences()
        decided = route(item, prefs, consent, now)
        current = item.kind != "insight" or _still_current(scope, item, now, local_zone(prefs))
        if decided.action == "send" and not current:
            decided = Route("drop", "insight_gone")
        ref, channel = item.reference, item.channel
        if decided.action != "send":
            if decided.action == "hold":
                ob.finish(outbox_id, OutboxStatus.PENDING, now, reason="quiet_hours",
                          not_before=decided.until)  # fmt: skip
            else:
                ob.finish(outbox_id, OutboxStatus.DROPPED, now, reason=decided.reason)
            status = "held" if decided.action == "hold" else "dropped"
            done = Delivery(ref, channel, status, decided.reason, item.attempts)
            scope.insights.log_notification(ref, channel, status, done.reason, done.attempts, now)
            uow.commit()
            return done
    notifiers = getattr(services, "notifiers", None) or {}
    sender = notifiers.get(Channel(channel)) or notifiers.get(channel)
    attempts = item.attempts + 1
    if sender is None:
        status, reason, row = "dropped", "no_notifier", OutboxStatus.DROPPED
        attempts = item.attempts
    else:
        try:
            sender.send(to_message(item, prefs))
            status, reason, row = "sent", "ok", OutboxStatus.SENT
        except Exception as exc:  # noqa: BLE001 - a channel down must not stop the dispatcher
            reason = type(exc).__name__
            if attempts >= policy.max_attempts:
                status, row = "failed", OutboxStatus.FAILED
            else:
                status, row = "retrying", OutboxStatus.PENDING
    with _uow(services) as uow:
        _require_outbox(services, uow, business_id).finish(
            outbox_id,
            row,
            now,
            reason=reason,
            attempts=attempts,
            not_before=policy.next_try(attempts, now) if status == "retrying" else None,
        )
        uow.scope(item.business_id).insights.log_notification(
            ref, channel, status, reason, attempts, now
        )
        uow.commit()
    return Delivery(ref, channel, status, reason, attempts)


def deliver_due(
    services: Any,
    now: datetime,
    business_id: str | None = None,
    policy: RetryPolicy | None = None,
    limit: int = 500,
) -> tuple[list[Delivery], int]:
    """Send every outbox row due at ``now`` (of one business, or all): the outcome of each, and
    how many rows another dispatcher took first."""
    policy = policy or getattr(services, "retry_policy", None) or RetryPolicy()
    with _uow(services) as uow:
        ids = [business_id] if business_id else [b.business_id for b in uow.businesses.list()]
        due: list[tuple[str, str]] = []
        for bid in ids:
            ob = outbox_of(services, uow, bid)
            if ob is not None:
                due += [(bid, oid) for oid in ob.due(now, bid, limit)]
    out: list[Delivery] = []
    skipped = 0
    for bid, oid in due:
        d = _deliver_one(services, bid, oid, now, policy)
        if d is None:
            skipped += 1
        else:
            out.append(d)
    return out, skipped


def dispatch_due(cmd: DispatchDue, services: Any) -> DispatchReport:
    """One dispatcher pass (see the module docstring)."""
    now = _now(cmd.now)
    queued, errors = queue_digests(services, now, cmd.business_id) if cmd.digests else (0, 0)
    done, skipped = deliver_due(services, now, cmd.business_id)
    count = {s: sum(1 for d in done if d.status == s) for s in (
        "sent", "held", "retrying", "failed", "dropped")}  # fmt: skip
    return DispatchReport(
        queued,
        count["sent"],
        count["held"],
        count["retrying"],
        count["failed"],
        count["dropped"],
        skipped,
        errors,
        tuple(done),
    )


def _logger() -> Any:
    import structlog

    return structlog.get_logger("ledgerlens.dispatch")


DISPATCH_HANDLERS: dict[type, Callable[[Any, Any], Any]] = {DispatchDue: dispatch_due}
