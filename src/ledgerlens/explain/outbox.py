"""The notification outbox as values, and the policy that moves an item along it.

Every message that interrupts the owner (e-mail, push) — an insight held during quiet hours, a
daily or weekly digest — is first written to an outbox row keyed by
``(business, kind, period_key, channel)``; only the dispatcher sends it. That key is what makes
delivery exactly once per period however often (or however concurrently) the dispatcher runs:
the row is created at most once, and only the dispatcher that *claims* it sends it.

Life of a row (``OutboxStatus``)::

    pending ──claim──> sending ──ok──────────────> sent
       ^                 │ ├──quiet hours─> pending (not_before = end of quiet hours)
       │                 │ ├──channel failed, attempts < max─> pending (not_before = backoff)
       └── lease expired ┘ ├──attempts = max───────────────> failed   (given up, recorded)
                           └──consent/mute/channel gone────> dropped  (with the reason)

Pure: the SQL store is ``adapters/db/outbox_repository.py``; the loop is ``pipeline_dispatch``.
"""

from __future__ import annotations

import enum
import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Protocol

from ledgerlens.consent.model import Channel, ConsentState, Preferences
from ledgerlens.consent.policy import allowed, next_allowed
from ledgerlens.core.ledger import Purpose
from ledgerlens.explain.digests import Digest, to_html, to_json, to_text
from ledgerlens.explain.model import Insight, InsightKind
from ledgerlens.explain.notify import Delivery, OutgoingMessage, message_for
from ledgerlens.explain.render import renderer

__all__ = [
    "DIGEST_TOPIC",
    "Outbox",
    "OutboxItem",
    "OutboxStatus",
    "RetryPolicy",
    "Route",
    "digest_items",
    "digest_reference",
    "insight_items",
    "outbox_id",
    "route",
    "to_message",
]

DIGEST_TOPIC = "digest"  # what a muted kind must say to silence digests on every channel


class OutboxStatus(enum.StrEnum):
    PENDING = "pending"
    SENDING = "sending"  # claimed by one dispatcher until ``lease_until``
    SENT = "sent"
    FAILED = "failed"  # given up after ``RetryPolicy.max_attempts``
    DROPPED = "dropped"  # not to be sent any more (consent, mute, channel, item gone)


def outbox_id(business_id: str, kind: str, period_key: str, channel: str) -> str:
    """Deterministic: the same message for the same period is the same row everywhere."""
    raw = "\x1f".join((business_id, kind, period_key, str(channel))).encode()
    return "obx_" + hashlib.sha256(raw).hexdigest()[:28]


@dataclass(frozen=True, slots=True)
class OutboxItem:
    """One message for one channel. ``kind`` is ``insight``, ``digest_daily`` or
    ``digest_weekly``; ``period_key`` is the insight id or the digest's period
    (``2026-12-07``, ``2026-W50``); ``topic`` is what mute is checked against (the insight's
    kind, or ``digest``); ``reference`` is what receivers deduplicate on (``Idempotency-Key``)."""

    business_id: str
    kind: str
    period_key: str
    channel: str
    purpose: str
    topic: str
    reference: str
    not_before: datetime
    subject: str
    text: str
    html: str = ""
    payload: dict[str, object] = field(default_factory=dict)
    status: OutboxStatus = OutboxStatus.PENDING
    attempts: int = 0
    last_error: str = ""
    created_at: datetime | None = None
    sent_at: datetime | None = None
    lease_until: datetime | None = None

    @property
    def outbox_id(self) -> str:
        return outbox_id(self.business_id, self.kind, self.period_key, self.channel)


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """Backoff between failed attempts: ``base_s · 2^(n−1)``, at most ``cap_s``; a row is given
    up after ``max_attempts`` attempts. ``lease_s`` is how long a claim protects a row from a
    second dispatcher (a crashed one's claim expires and the row is tried again)."""

    max_attempts: int = 5
    base_s: float = 60.0
    cap_s: float = 6 * 3600.0
    lease_s: float = 300.0

    def next_try(self, attempts: int, now: datetime) -> datetime:
        delay = min(self.cap_s, self.base_s * 2 ** max(0, attempts - 1))
        return now + timedelta(seconds=delay)

    def lease(self, now: datetime) -> datetime:
        return now + timedelta(seconds=self.lease_s)


@dataclass(frozen=True, slots=True)
class Route:
    action: str  # send | hold | drop
    reason: str  # ok | quiet_hours | no_consent | muted | channel_off | no_address | digest_off
    until: datetime | None = None  # for hold: the first moment it may go


def route(item: OutboxItem, prefs: Preferences, consent: ConsentState, now: datetime) -> Route:
    """What to do with ``item`` at ``now`` under the owner's *current* choices: consent, mute,
    channel and address are read again at send time, so a change made after the item was
    queued is honoured; quiet hours postpone, everything else that says no drops."""
    if not consent.has(Purpose(item.purpose)):
        return Route("drop", "no_consent")
    if item.kind.startswith("digest_") and str(prefs.digest) != item.kind.removeprefix("digest_"):
        return Route("drop", "digest_off")
    verdict = allowed(prefs, consent, item.topic, item.channel, now)
    if verdict.ok:
        return Route("send", "ok")
    if verdict.reason == "quiet_hours":
        return Route("hold", "quiet_hours", next_allowed(prefs, now))
    return Route("drop", verdict.reason)


def to_message(item: OutboxItem, prefs: Preferences) -> OutgoingMessage:
    """The message a notifier sends, addressed with the owner's current address."""
    channel = Channel(item.channel)
    to = prefs.email if channel is Channel.EMAIL else prefs.push_url
    return OutgoingMessage(
        item.business_id,
        item.reference,
        to,
        item.subject,
        item.text,
        item.html,
        dict(item.payload),
        kind="insight" if item.kind == "insight" else item.kind,
    )


class Outbox(Protocol):
    """Storage of outbox rows (``adapters/db/outbox_repository.SqlOutbox``)."""

    def enqueue(self, items: Sequence[OutboxItem], now: datetime) -> int:
        """Insert the rows that do not exist yet (same key = same row); return how many."""
        ...

    def exists(self, business_id: str, kind: str, period_key: str) -> bool: ...

    def due(self, now: datetime, business_id: str | None = None, limit: int = 100) -> list[str]:
        """Ids of rows to try now: pending with ``not_before`` ≤ now, or claims whose lease
        ran out."""
        ...

    def claim(self, outbox_id: str, now: datetime, lease_until: datetime) -> OutboxItem | None:
        """Take the row for this dispatcher (None when another one has it or it is done)."""
        ...

    def finish(
        self,
        outbox_id: str,
        status: OutboxStatus,
        now: datetime,
        *,
        reason: str = "",
        attempts: int | None = None,
        not_before: datetime | None = None,
    ) -> None: ...

    def forget(self, business_id: str, purpose: str) -> int:
        """Delete every row of the business for ``purpose`` (consent withdrawn)."""
        ...

    def list(self, business_id: str) -> list[OutboxItem]: ...


def _purpose_of(insight: Insight) -> Purpose:
    return Purpose.OFFERS if insight.kind is InsightKind.PRODUCT_OFFER else Purpose.INSIGHTS


def insight_items(
    published: Sequence[Insight], prefs: Preferences, consent: ConsentState, now: datetime
) -> tuple[list[OutboxItem], list[Delivery]]:
    """Outbox rows for newly published insights on each interrupting channel the owner chose,
    and a ``held`` record for every (insight, channel) the policy stops or postpones now.

    Quiet hours postpone (the row waits until they end); mute, a channel without an address
    or a missing consent stop it (no row: nothing to send later).
    """
    items: list[OutboxItem] = []
    held: list[Delivery] = []
    for ins in published:
        for channel in sorted(prefs.channels - {Channel.IN_APP}):
            verdict = allowed(prefs, consent, str(ins.kind), channel, now)
            if not verdict.ok:
                held.append(Delivery(ins.insight_id, str(channel), "held", verdict.reason))
                if verdict.reason != "quiet_hours":
                    continue
            msg = message_for(ins, prefs, channel)
            items.append(
                OutboxItem(
                    ins.business_id,
                    "insight",
                    ins.insight_id,
                    str(channel),
                    str(_purpose_of(ins)),
                    str(ins.kind),
                    ins.insight_id,
                    next_allowed(prefs, now),
                    msg.subject,
                    msg.text,
                    msg.html,
                    msg.payload,
                )
            )
    return items, held


def digest_reference(business_id: str, kind: str, period_key: str) -> str:
    raw = "\x1f".join((business_id, kind, period_key)).encode()
    return "dgs_" + hashlib.sha256(raw).hexdigest()[:28]


def digest_items(
    digest: Digest,
    kind: str,
    period_key: str,
    prefs: Preferences,
    consent: ConsentState,
    now: datetime,
) -> list[OutboxItem]:
    """One row per channel for a built digest: in-app is delivered by being stored (``sent``);
    e-mail and push wait for the end of quiet hours when it is due inside them. Channels the
    policy refuses now (no address, muted ``digest``, no consent) get no row."""
    r = renderer(digest.language)
    text, html = to_text(digest, r), to_html(digest, r)
    subject = text.splitlines()[0]
    payload = json.loads(to_json(digest))
    ref = digest_reference(digest.business_id, kind, period_key)
    out: list[OutboxItem] = []
    for channel in sorted(prefs.channels | {Channel.IN_APP}):
        verdict = allowed(prefs, consent, DIGEST_TOPIC, channel, now)
        if not verdict.ok and verdict.reason != "quiet_hours":
            continue
        in_app = channel is Channel.IN_APP
        out.append(
            OutboxItem(
                digest.business_id,
                kind,
                period_key,
                str(channel),
                str(Purpose.INSIGHTS),
                DIGEST_TOPIC,
                ref,
                now if in_app else next_allowed(prefs, now),
                subject,
                text,
                html,
                payload,
                OutboxStatus.SENT if in_app else OutboxStatus.PENDING,
                1 if in_app else 0,
                "ok" if in_app else "",
                now,
                now if in_app else None,
            )
        )
    return out
