"""SQL store of the explain stage for one business: insights, preferences, notifications,
consent events, and the two whole-business operations consent needs (forget derived data,
export everything).

Withdrawal also deletes the business's notification outbox rows for the purpose
(``outbox_tables``): what was queued is never sent, and the texts derived for it are gone.

``SqlInsightStore`` is reached as ``scope.insights`` (``SqlBusinessScope``) and shares the unit
of work's connection, so a refresh stores its insights atomically with everything else.
Insights are upserted on ``(business_id, dedup_key)``: one row per underlying event.
"""

from __future__ import annotations

import builtins
import json
import uuid
from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime, time
from typing import Any

from sqlalchemy import Connection, delete, func, insert, select, update

from ledgerlens.adapters.db.enrichment_repositories import _upsert
from ledgerlens.adapters.db.guards import ensure_aware
from ledgerlens.adapters.db.insight_tables import (
    consent_events,
    insight_preferences,
    insights,
    notifications,
)
from ledgerlens.adapters.db.outbox_repository import SqlOutbox
from ledgerlens.adapters.db.outbox_tables import notification_outbox
from ledgerlens.adapters.db.tables import businesses, metadata
from ledgerlens.consent.model import Channel, DigestFrequency, Preferences
from ledgerlens.core.ledger import Purpose
from ledgerlens.explain.model import Action, Figure, Insight, InsightStatus

__all__ = ["SqlInsightStore", "preferences_from_json", "preferences_to_json"]

ConnectionSource = Callable[[], Connection]


def preferences_to_json(p: Preferences) -> str:
    return json.dumps(
        {
            "muted_kinds": sorted(p.muted_kinds),
            "buffer_minor": p.buffer_minor,
            "channels": sorted(str(c) for c in p.channels),
            "quiet_start": p.quiet_start.isoformat() if p.quiet_start else None,
            "quiet_end": p.quiet_end.isoformat() if p.quiet_end else None,
            "timezone": p.timezone,
            "digest": str(p.digest),
            "language": p.language,
            "email": p.email,
            "push_url": p.push_url,
            "extra": p.extra,
        },
        sort_keys=True,
    )


def preferences_from_json(business_id: str, text: str) -> Preferences:
    d = json.loads(text)
    return Preferences(
        business_id,
        frozenset(d["muted_kinds"]),
        int(d["buffer_minor"]),
        frozenset(Channel(c) for c in d["channels"]),
        time.fromisoformat(d["quiet_start"]) if d["quiet_start"] else None,
        time.fromisoformat(d["quiet_end"]) if d["quiet_end"] else None,
        d["timezone"],
        DigestFrequency(d["digest"]),
        d["language"],
        d["email"],
        d["push_url"],
        dict(d.get("extra") or {}),
    )


def _row(i: Insight, now: datetime) -> dict[str, Any]:
    payload = {
        "evidence": [f.to_dict() for f in i.evidence],
        "transaction_ids": list(i.transaction_ids),
        "chart": i.chart,
        "actions": [a.to_dict() for a in i.actions],
    }
    return {
        "insight_id": i.insight_id,
        "business_id": i.business_id,
        "kind": str(i.kind),
        "severity": int(i.severity),
        "status": str(i.status),
        "dedup_key": i.dedup_key,
        "title": i.title,
        "message": i.message,
        "language": i.language,
        "payload": json.dumps(payload, sort_keys=True, default=str),
        "confidence": i.confidence,
        "source": i.source,
        "score": float(i.score),
        "event_date": i.event_date,
        "valid_until": i.valid_until,
        "created_at": i.created_at,
        "updated_at": now,
    }


def _insight(r: Any) -> Insight:
    p = json.loads(r.payload)
    return Insight(
        r.insight_id,
        r.business_id,
        r.kind,
        r.severity,
        r.title,
        r.message,
        tuple(Figure.from_dict(f) for f in p["evidence"]),
        tuple(p["transaction_ids"]),
        r.confidence,
        r.source,
        r.created_at,
        r.valid_until,
        r.dedup_key,
        r.event_date,
        p["chart"],
        tuple(Action.from_dict(a) for a in p["actions"]),
        r.status,
        r.language,
        r.score,
    )


class SqlInsightStore:
    """Everything the explain stage stores for one business."""

    def __init__(self, connection: ConnectionSource, business_id: str) -> None:
        self._conn = connection
        self.business_id = business_id
        # e-mail/push waiting to go (explain.outbox.Outbox), bound to this business
        self.outbox = SqlOutbox(connection, business_id)

    # -- insights (the in-app feed) -------------------------------------------------------
    def upsert(self, items: Sequence[Insight], now: datetime | None = None) -> int:
        now = now or datetime.now(UTC)
        rows = []
        for i in items:
            if i.business_id != self.business_id:
                raise ValueError(f"insight {i.insight_id!r} belongs to another business")
            rows.append(_row(i, now))
        if not rows:
            return 0
        self._conn().execute(_upsert(self._conn(), insights, ["business_id", "dedup_key"]), rows)
        return len(rows)

    def list(
        self, *, status: str | None = None, current_on: date | None = None, limit: int | None = None
    ) -> list[Insight]:
        c = insights.c
        stmt = select(insights).where(c.business_id == self.business_id)
        if status:
            stmt = stmt.where(c.status == status)
        if current_on is not None:
            stmt = stmt.where(c.valid_until >= current_on)
        stmt = stmt.order_by(c.severity.desc(), c.created_at.desc(), c.insight_id)
        if limit:
            stmt = stmt.limit(limit)
        return [_insight(r) for r in self._conn().execute(stmt)]

    def set_status(self, insight_id: str, status: InsightStatus | str) -> bool:
        res = self._conn().execute(
            update(insights)
            .where(insights.c.business_id == self.business_id, insights.c.insight_id == insight_id)
            .values(status=str(InsightStatus(status)), updated_at=datetime.now(UTC))
        )
        return bool(res.rowcount)

    def count(self) -> int:
        stmt = select(func.count()).select_from(insights)
        return int(
            self._conn()
            .execute(stmt.where(insights.c.business_id == self.business_id))
            .scalar_one()
        )

    def delete_all(self) -> int:
        conn = self._conn()
        conn.execute(delete(notifications).where(notifications.c.business_id == self.business_id))
        res = conn.execute(delete(insights).where(insights.c.business_id == self.business_id))
        return int(res.rowcount or 0)

    # -- preferences ----------------------------------------------------------------------
    def preferences(self) -> Preferences:
        row = (
            self._conn()
            .execute(
                select(insight_preferences.c.payload).where(
                    insight_preferences.c.business_id == self.business_id
                )
            )
            .first()
        )
        return (
            preferences_from_json(self.business_id, row[0])
            if row
            else Preferences(self.business_id)
        )

    def save_preferences(self, prefs: Preferences) -> None:
        if prefs.business_id != self.business_id:
            raise ValueError("preferences of another business")
        row = {
            "business_id": self.business_id,
            "payload": preferences_to_json(prefs),
            "updated_at": datetime.now(UTC),
        }
        self._conn().execute(_upsert(self._conn(), insight_preferences, ["business_id"]), row)

    # -- notifications log and consent events ---------------------------------------------
    def log_notification(
        self, insight_id: str, channel: str, status: str, reason: str, attempts: int, at: datetime
    ) -> None:
        ensure_aware(at, "at")
        self._conn().execute(
            insert(notifications),
            {
                "notification_id": f"ntf_{uuid.uuid4().hex[:24]}",
                "business_id": self.business_id,
                "insight_id": insight_id,
                "channel": channel,
                "status": status,
                "reason": reason[:64],
                "attempts": attempts,
                "created_at": at,
            },
        )

    def notifications(self) -> builtins.list[dict[str, Any]]:
        c = notifications.c
        stmt = select(notifications).where(c.business_id == self.business_id)
        return [dict(r._mapping) for r in self._conn().execute(stmt.order_by(c.created_at))]

    def log_consent(
        self,
        purpose: Purpose | str,
        action: str,
        actor: str,
        at: datetime,
        details: dict[str, Any] | None = None,
    ) -> None:
        ensure_aware(at, "at")
        self._conn().execute(
            insert(consent_events),
            {
                "event_id": f"cev_{uuid.uuid4().hex[:24]}",
                "business_id": self.business_id,
                "purpose": str(Purpose(purpose)),
                "action": action,
                "actor": actor,
                "at": at,
                "details": json.dumps(details or {}, sort_keys=True),
            },
        )

    def consent_events(self) -> builtins.list[dict[str, Any]]:
        c = consent_events.c
        stmt = select(consent_events).where(c.business_id == self.business_id)
        return [dict(r._mapping) for r in self._conn().execute(stmt.order_by(c.at))]

    # -- consent withdrawal and export (whole-business operations) ------------------------
    def forget(self, purpose: Purpose | str) -> dict[str, int]:
        """Delete what was derived for ``purpose``; return rows touched per table."""
        purpose = Purpose(purpose)
        conn, out = self._conn(), {}
        # queued and sent e-mail/push for the purpose (all of them: every message is an insight)
        c = notification_outbox.c
        which = c.business_id == self.business_id
        if purpose is not Purpose.INSIGHTS:
            which = which & (c.purpose == str(purpose))
        out["notification_outbox"] = int(
            conn.execute(delete(notification_outbox).where(which)).rowcount or 0
        )
        if purpose is Purpose.INSIGHTS:
            out["notifications"] = int(
                conn.execute(
                    delete(notifications).where(notifications.c.business_id == self.business_id)
                ).rowcount
                or 0
            )
            out["insights"] = int(
                conn.execute(
                    delete(insights).where(insights.c.business_id == self.business_id)
                ).rowcount
                or 0
            )
        elif purpose is Purpose.OFFERS:
            out["insights"] = int(
                conn.execute(
                    delete(insights).where(
                        insights.c.business_id == self.business_id,
                        insights.c.kind == "product_offer",
                    )
                ).rowcount
                or 0
            )
            for t in metadata.sorted_tables:  # issue 7's offer tables, whatever they are called
                if "offer" in t.name and "business_id" in t.c:
                    out[t.name] = int(
                        conn.execute(delete(t).where(t.c.business_id == self.business_id)).rowcount
                        or 0
                    )
        elif purpose is Purpose.MODEL_IMPROVEMENT:
            corr = metadata.tables.get("corrections")
            if corr is not None:  # it still decides categories; it stops being a label
                out["corrections"] = int(
                    conn.execute(
                        update(corr)
                        .where(corr.c.business_id == self.business_id, corr.c.consented.is_(True))
                        .values(consented=False)
                    ).rowcount
                    or 0
                )
            for name, tab in metadata.tables.items():
                if "training" in name and "business_id" in tab.c:
                    out[name] = int(
                        conn.execute(
                            delete(tab).where(tab.c.business_id == self.business_id)
                        ).rowcount
                        or 0
                    )
        return out

    def export_tables(self) -> dict[str, builtins.list[dict[str, Any]]]:
        """Every row of this business in every table that has a ``business_id`` column."""
        conn, out = self._conn(), {}
        for t in metadata.sorted_tables:
            if "business_id" not in t.c:
                continue
            rows = conn.execute(select(t).where(t.c.business_id == self.business_id))
            out[t.name] = [dict(r._mapping) for r in rows]
        out["businesses"] = [
            dict(r._mapping)
            for r in conn.execute(
                select(businesses).where(businesses.c.business_id == self.business_id)
            )
        ]
        return out

    def remaining_rows(self) -> int:
        """Rows of this business left anywhere (0 after erasure)."""
        conn, total = self._conn(), 0
        for t in metadata.sorted_tables:
            if "business_id" in t.c:
                total += int(
                    conn.execute(
                        select(func.count())
                        .select_from(t)
                        .where(t.c.business_id == self.business_id)
                    ).scalar_one()
                )
        return total
