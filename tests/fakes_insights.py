"""In-memory twin of ``adapters/db/insight_repositories.SqlInsightStore`` (issue 8).

Rows live in ``InMemoryStore.insight_rows`` (a dict of lists/dicts keyed by business), copied on
unit-of-work begin and erased with the business, so the in-memory backend shows the same
consent, export and erasure behaviour as SQL.
"""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime
from typing import Any

from ledgerlens.consent.model import Preferences
from ledgerlens.core.ledger import Purpose
from ledgerlens.explain.model import Insight, InsightStatus

__all__ = [
    "InMemoryInsightStore",
    "copy_insight_rows",
    "empty_insight_rows",
    "erase_insight_rows",
]


def empty_insight_rows() -> dict[str, Any]:
    return {"insights": {}, "preferences": {}, "notifications": [], "consent_events": []}


def copy_insight_rows(rows: dict[str, Any]) -> dict[str, Any]:
    return {
        "insights": dict(rows["insights"]),
        "preferences": dict(rows["preferences"]),
        "notifications": list(rows["notifications"]),
        "consent_events": list(rows["consent_events"]),
    }


def erase_insight_rows(rows: dict[str, Any], business_id: str) -> None:
    rows["insights"] = {k: v for k, v in rows["insights"].items() if k[0] != business_id}
    rows["preferences"].pop(business_id, None)
    for name in ("notifications", "consent_events"):
        rows[name] = [r for r in rows[name] if r["business_id"] != business_id]


class InMemoryInsightStore:
    def __init__(self, store: Callable[[], Any], business_id: str) -> None:
        self._store = store
        self.business_id = business_id

    def _rows(self) -> dict[str, Any]:
        return self._store().insight_rows  # type: ignore[no-any-return]

    def upsert(self, items: Sequence[Insight], now: datetime | None = None) -> int:
        for i in items:
            if i.business_id != self.business_id:
                raise ValueError(f"insight {i.insight_id!r} belongs to another business")
            self._rows()["insights"][(self.business_id, i.dedup_key)] = i
        return len(items)

    def _mine(self) -> list[Insight]:
        return [v for k, v in self._rows()["insights"].items() if k[0] == self.business_id]

    def list(
        self, *, status: str | None = None, current_on: date | None = None, limit: int | None = None
    ) -> list[Insight]:
        out = [
            i
            for i in self._mine()
            if (not status or str(i.status) == status)
            and (current_on is None or i.valid_until >= current_on)
        ]
        out.sort(key=lambda i: (-int(i.severity), -i.created_at.timestamp(), i.insight_id))
        return out[:limit] if limit else out

    def set_status(self, insight_id: str, status: InsightStatus | str) -> bool:
        for k, v in self._rows()["insights"].items():
            if k[0] == self.business_id and v.insight_id == insight_id:
                self._rows()["insights"][k] = dataclasses.replace(v, status=InsightStatus(status))
                return True
        return False

    def count(self) -> int:
        return len(self._mine())

    def delete_all(self) -> int:
        n = self.count()
        erase = {k for k in self._rows()["insights"] if k[0] == self.business_id}
        for k in erase:
            del self._rows()["insights"][k]
        rows = self._rows()
        rows["notifications"] = [
            r for r in rows["notifications"] if r["business_id"] != self.business_id
        ]
        return n

    def preferences(self) -> Preferences:
        return self._rows()["preferences"].get(self.business_id) or Preferences(self.business_id)

    def save_preferences(self, prefs: Preferences) -> None:
        if prefs.business_id != self.business_id:
            raise ValueError("preferences of another business")
        self._rows()["preferences"][self.business_id] = prefs

    def log_notification(
        self, insight_id: str, channel: str, status: str, reason: str, attempts: int, at: datetime
    ) -> None:
        self._rows()["notifications"].append(
            {
                "notification_id": f"ntf_{uuid.uuid4().hex[:24]}",
                "business_id": self.business_id,
                "insight_id": insight_id,
                "channel": channel,
                "status": status,
                "reason": reason,
                "attempts": attempts,
                "created_at": at.astimezone(UTC),
            }
        )

    def notifications(self) -> list[dict[str, Any]]:
        return [r for r in self._rows()["notifications"] if r["business_id"] == self.business_id]

    def log_consent(
        self,
        purpose: Purpose | str,
        action: str,
        actor: str,
        at: datetime,
        details: dict[str, Any] | None = None,
    ) -> None:
        import json

        self._rows()["consent_events"].append(
            {
                "event_id": f"cev_{uuid.uuid4().hex[:24]}",
                "business_id": self.business_id,
                "purpose": str(Purpose(purpose)),
                "action": action,
                "actor": actor,
                "at": at.astimezone(UTC),
                "details": json.dumps(details or {}, sort_keys=True),
            }
        )

    def consent_events(self) -> list[dict[str, Any]]:
        return [r for r in self._rows()["consent_events"] if r["business_id"] == self.business_id]

    def forget(self, purpose: Purpose | str) -> dict[str, int]:
        purpose = Purpose(purpose)
        if purpose is Purpose.INSIGHTS:
            notes = len(self.notifications())
            return {"notifications": notes, "insights": self.delete_all()}
        if purpose is Purpose.OFFERS:
            keys = [
                k
                for k, v in self._rows()["insights"].items()
                if k[0] == self.business_id and str(v.kind) == "product_offer"
            ]
            for k in keys:
                del self._rows()["insights"][k]
            return {"insights": len(keys)}
        if purpose is Purpose.MODEL_IMPROVEMENT:
            s = self._store()
            n = 0
            fresh = []
            for c, m in s.corrections:
                if getattr(c, "business_id", None) == self.business_id and c.consented:
                    c = dataclasses.replace(c, consented=False)
                    n += 1
                fresh.append((c, m))
            s.corrections = fresh
            return {"corrections": n}
        return {}

    def export_tables(self) -> dict[str, list[dict[str, Any]]]:
        s, bid = self._store(), self.business_id
        asdict = dataclasses.asdict
        return {
            "businesses": [asdict(b) for b in s.businesses.values() if b.business_id == bid],
            "accounts": [asdict(a) for a in s.accounts.values() if a.business_id == bid],
            "transactions": [asdict(t) for _, t in s.transactions.values() if t.business_id == bid],
            "annotations": [asdict(a) for a in s.annotations.values() if a.business_id == bid],
            "consent_grants": [asdict(g) for g in s.consents if g.business_id == bid],
            "insights": [i.to_dict() for i in self._mine()],
            "notifications": self.notifications(),
            "consent_events": self.consent_events(),
        }

    def remaining_rows(self) -> int:
        return sum(len(v) for v in self.export_tables().values())
