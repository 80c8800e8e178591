"""The decision audit log on SQL: append-only rows, hash-chained per business.

``append`` continues each business's chain inside one transaction (a concurrent writer that
took the same position loses on the unique constraint and retries from the new head);
``verify_chain`` re-reads every row and recomputes every hash, so a row edited or deleted with
raw SQL is reported. The log never updates or deletes rows itself (erasure of a whole business
goes through ``BusinessRepository.delete``).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Engine, func, insert, select
from sqlalchemy.exc import IntegrityError

from ledgerlens.adapters.db.audit_tables import decision_audit
from ledgerlens.decide.audit_chain import (
    AuditEntry,
    AuditQuery,
    ChainReport,
    chain_entries,
    decision_from_record,
    verify_entries,
)
from ledgerlens.decide.model import Decision

__all__ = ["SqlAuditLog"]

_RETRIES = 5


def _row(e: AuditEntry) -> dict[str, Any]:
    return {
        "business_id": e.business_id,
        "position": e.position,
        "decided_at": e.decided_at,
        "kind": e.kind,
        "subject": e.subject,
        "inputs": e.inputs_json,
        "outputs": e.outputs_json,
        "reason_codes": json.dumps(list(e.reason_codes)),
        "reasons": json.dumps(list(e.reasons), ensure_ascii=False),
        "versions": json.dumps(list(e.versions)),
        "confidence": e.confidence,
        "source": e.source,
        "prev_hash": e.prev_hash,
        "hash": e.hash,
    }


def _entry(r: Any) -> AuditEntry:
    m = r._mapping
    return AuditEntry(
        business_id=m["business_id"],
        position=m["position"],
        decided_at=m["decided_at"],
        kind=m["kind"],
        subject=m["subject"],
        inputs_json=m["inputs"],
        outputs_json=m["outputs"],
        reason_codes=tuple(json.loads(m["reason_codes"])),
        reasons=tuple(json.loads(m["reasons"])),
        versions=tuple(json.loads(m["versions"])),
        confidence=m["confidence"],
        source=m["source"],
        prev_hash=m["prev_hash"],
        hash=m["hash"],
        sequence=m["sequence"],
    )


class SqlAuditLog:
    """``decide.audit_chain.AuditLog`` on SQLAlchemy Core (SQLite, PostgreSQL)."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def append(self, decisions: Sequence[Decision]) -> list[AuditEntry]:
        if not decisions:
            return []
        for attempt in range(_RETRIES):
            try:
                with self._engine.begin() as conn:
                    heads = self._heads(conn, {d.business_id for d in decisions})
                    entries = chain_entries(decisions, heads)
                    conn.execute(insert(decision_audit), [_row(e) for e in entries])
                return entries
            except IntegrityError:
                if attempt == _RETRIES - 1:
                    raise
        raise AssertionError("unreachable")

    def __call__(self, uow: Any, business_id: str, kind: str, record: dict[str, Any]) -> None:
        """The record-style hook other stages call (``services.audit_log(uow, …)``). The entry
        is written in its own transaction: the chain must not wait on the caller's."""
        self.append([decision_from_record(business_id, kind, record)])

    @staticmethod
    def _heads(conn: Any, business_ids: set[str]) -> dict[str, tuple[int, str]]:
        t = decision_audit
        last = (
            select(t.c.business_id, func.max(t.c.position).label("pos"))
            .where(t.c.business_id.in_(sorted(business_ids)))
            .group_by(t.c.business_id)
            .subquery()
        )
        stmt = select(t.c.business_id, t.c.position, t.c.hash).join(
            last, (t.c.business_id == last.c.business_id) & (t.c.position == last.c.pos)
        )
        return {r[0]: (r[1], r[2]) for r in conn.execute(stmt)}

    def entries(self, business_id: str, kind: str | None = None) -> list[AuditEntry]:
        t = decision_audit
        stmt = select(t).where(t.c.business_id == business_id)
        if kind is not None:
            stmt = stmt.where(t.c.kind == kind)
        with self._engine.connect() as conn:
            return [_entry(r) for r in conn.execute(stmt.order_by(t.c.position))]

    def page(self, business_id: str, query: AuditQuery) -> list[AuditEntry]:
        t = decision_audit
        stmt = select(t).where(t.c.business_id == business_id)
        if query.kind is not None:
            stmt = stmt.where(t.c.kind == query.kind)
        if query.subject is not None:
            stmt = stmt.where(t.c.subject == query.subject)
        if query.since is not None:
            stmt = stmt.where(t.c.decided_at >= query.since)
        if query.until is not None:
            stmt = stmt.where(t.c.decided_at < query.until)
        if query.before is not None:
            stmt = stmt.where(t.c.position < query.before)
        stmt = stmt.order_by(t.c.position.desc()).limit(query.limit)
        with self._engine.connect() as conn:
            return [_entry(r) for r in conn.execute(stmt)]

    def heads(self) -> dict[str, tuple[int, str]]:
        """Latest (position, hash) per business: anchor these elsewhere to catch truncation."""
        t = decision_audit
        with self._engine.connect() as conn:
            ids = {r[0] for r in conn.execute(select(t.c.business_id).distinct())}
            return self._heads(conn, ids) if ids else {}

    def verify_chain(self, business_id: str | None = None) -> ChainReport:
        t = decision_audit
        stmt = select(t).order_by(t.c.business_id, t.c.position)
        if business_id is not None:
            stmt = stmt.where(t.c.business_id == business_id)
        with self._engine.connect() as conn:
            return verify_entries(_entry(r) for r in conn.execute(stmt))
