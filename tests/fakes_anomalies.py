"""In-memory twins of the anomaly and card-control storage ports (results, feedback, policies,
decisions), with the semantics of ``adapters/db/anomaly_repositories``: scoped reads, foreign
writes refused with ``ValueError``, feedback once per (transaction, pattern), policy versions
immutable. ``fakes.py`` wires them into ``InMemoryBusinessScope``; the rows live in
``InMemoryStore.anomaly_rows`` (a dict of lists/dicts, copied by ``copy()``).
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime
from typing import Any

from ledgerlens.adapters.db.guards import ensure_aware, ensure_masked_card, ensure_same_business
from ledgerlens.analyze.anomalies import AnomalyResult, ExpectedFeedback
from ledgerlens.core.errors import ValidationError
from ledgerlens.core.ledger import utc_now
from ledgerlens.decide.card_policies import Authorization

__all__ = [
    "InMemoryAnomalyRepository",
    "InMemoryCardDecisionRepository",
    "InMemoryCardPolicyRepository",
    "InMemoryFeedbackRepository",
    "copy_anomaly_rows",
    "empty_anomaly_rows",
    "erase_anomaly_rows",
]


def empty_anomaly_rows() -> dict[str, Any]:
    return {"results": {}, "feedback": [], "policies": [], "decisions": []}


def copy_anomaly_rows(rows: dict[str, Any]) -> dict[str, Any]:
    return {
        "results": dict(rows["results"]),
        "feedback": list(rows["feedback"]),
        "policies": list(rows["policies"]),
        "decisions": list(rows["decisions"]),
    }


def erase_anomaly_rows(rows: dict[str, Any], business_id: str) -> None:
    rows["results"] = {k: v for k, v in rows["results"].items() if v[0] != business_id}
    rows["feedback"] = [f for f in rows["feedback"] if f.business_id != business_id]
    rows["policies"] = [p for p in rows["policies"] if p[0] != business_id]
    rows["decisions"] = [d for d in rows["decisions"] if d[0] != business_id]


class _Scoped:
    def __init__(self, store: Callable[[], Any], business_id: str) -> None:
        self._store = store
        self.business_id = business_id

    def _rows(self) -> dict[str, Any]:
        return self._store().anomaly_rows  # type: ignore[no-any-return]

    def _owned(self, ids: set[str]) -> None:
        txs = self._store().transactions
        foreign = {t for t in ids if t not in txs or txs[t][1].business_id != self.business_id}
        if foreign:
            raise ValueError(
                f"transaction(s) {sorted(foreign)[:5]} are not transactions of {self.business_id!r}"
            )


class InMemoryAnomalyRepository(_Scoped):
    def _write(self, results: Sequence[AnomalyResult]) -> int:
        if not results:
            return 0
        self._owned({r.transaction_id for r in results})
        for r in results:
            self._rows()["results"][r.transaction_id] = (self.business_id, r)
        return len({r.transaction_id for r in results})

    def replace_all(self, results: Sequence[AnomalyResult]) -> int:
        rows = self._rows()
        rows["results"] = {k: v for k, v in rows["results"].items() if v[0] != self.business_id}
        return self._write(results)

    def upsert(self, results: Sequence[AnomalyResult]) -> int:
        return self._write(results)

    def list(self, *, raised_only: bool = False) -> list[AnomalyResult]:
        out = [r for b, r in self._rows()["results"].values() if b == self.business_id]
        if raised_only:
            out = [r for r in out if r.is_anomaly]
        return sorted(out, key=lambda r: (-r.score, r.transaction_id))


class InMemoryFeedbackRepository(_Scoped):
    def add(self, feedback: ExpectedFeedback) -> bool:
        fb = feedback
        ensure_same_business(self.business_id, fb.business_id, f"feedback on {fb.transaction_id!r}")
        ensure_aware(fb.created_at, "feedback created_at")
        self._owned({fb.transaction_id})
        rows = self._rows()
        if any((f.transaction_id, f.key) == (fb.transaction_id, fb.key) for f in rows["feedback"]):
            return False
        rows["feedback"].append(
            dataclasses.replace(
                fb, amount_minor=abs(fb.amount_minor), created_at=fb.created_at.astimezone(UTC)
            )
        )
        return True

    def list(self) -> list[ExpectedFeedback]:
        mine = [f for f in self._rows()["feedback"] if f.business_id == self.business_id]
        return sorted(mine, key=lambda f: (f.created_at, f.transaction_id))


class InMemoryCardPolicyRepository(_Scoped):
    def save(self, document: dict[str, Any], created_by: str = "") -> None:
        version, policy_id = str(document.get("version", "")), str(document.get("policy_id", ""))
        if not version or not policy_id:
            raise ValidationError("card policy: policy_id and version are required")
        text = json.dumps(document, ensure_ascii=False, sort_keys=True)
        rows = self._rows()
        for b, v, stored, _ in rows["policies"]:
            if (b, v) == (self.business_id, version):
                if stored != text:
                    raise ValidationError(f"card policy version {version!r} is already stored")
                return
        rows["policies"].append((self.business_id, version, text, utc_now()))

    def current(self) -> dict[str, Any] | None:
        mine = [p for p in self._rows()["policies"] if p[0] == self.business_id]
        if not mine:
            return None
        return dict(json.loads(max(mine, key=lambda p: (p[3], p[1]))[2]))

    def get(self, version: str) -> dict[str, Any] | None:
        for b, v, text, _ in self._rows()["policies"]:
            if (b, v) == (self.business_id, version):
                return dict(json.loads(text))
        return None


class InMemoryCardDecisionRepository(_Scoped):
    def add(self, decision_id: str, authorization: Authorization) -> None:
        ensure_masked_card(authorization.card_id)
        ensure_aware(authorization.time, "authorization time")
        record = json.loads(json.dumps(authorization.as_record()))
        created = utc_now()
        record.update(decision_id=decision_id, created_at=created.isoformat())
        self._rows()["decisions"].append((self.business_id, authorization.time, record))

    def approved(self, card_id: str, since: datetime) -> list[tuple[datetime, int, str]]:
        return [
            (datetime.fromisoformat(r["inputs"]["time"]).astimezone(UTC),
             r["inputs"]["amount_minor"], r["inputs"]["currency"])
            for r in self.list(card_id, since)
            if r["decision"] == "approve"
        ]  # fmt: skip

    def booked_outflows(
        self, card_id: str, since: date, until: date
    ) -> list[tuple[date, int, str]]:
        return [
            (t.booking_date, -t.amount_minor, t.currency)
            for _, t in self._store().transactions.values()
            if t.business_id == self.business_id and t.card_id == card_id
            and t.amount_minor < 0 and since <= t.booking_date <= until
        ]  # fmt: skip

    def list(
        self, card_id: str | None = None, since: datetime | None = None
    ) -> list[dict[str, Any]]:
        mine = [(t, r) for b, t, r in self._rows()["decisions"] if b == self.business_id]
        if since is not None:
            mine = [(t, r) for t, r in mine if t >= since]
        if card_id is not None:
            mine = [(t, r) for t, r in mine if r["inputs"]["card_id"] == card_id]
        return [r for _, r in sorted(mine, key=lambda tr: (tr[0], tr[1]["created_at"]))]
