"""SQL repositories of the enrich stage: annotations, corrections and business profiles.

Bound to one business like every tenant repository (``SqlBusinessScope``): reads filter by its
``business_id``; writes refuse rows of another business, or rows about a transaction that is not
this business's, with ``ValueError`` (a programming error). Annotations are upserted on their
key ``(transaction_id, kind)`` with ``INSERT … ON CONFLICT DO UPDATE`` (SQLite and PostgreSQL),
so a re-run replaces instead of duplicating, also under concurrent runs.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Sequence
from functools import lru_cache
from typing import Any

from sqlalchemy import Connection, Row, and_, delete, exists, insert, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from ledgerlens.adapters.db.enrichment_tables import (
    annotations_table,
    corrections,
    enrichment_profiles,
)
from ledgerlens.adapters.db.guards import ensure_aware, ensure_same_business
from ledgerlens.adapters.db.repositories import _TX_COLUMNS
from ledgerlens.adapters.db.tables import consent_grants, transactions
from ledgerlens.core.ledger import Annotation, AnnotationKind, Purpose, Transaction, utc_now
from ledgerlens.enrich.corrections import Correction

__all__ = ["SqlAnnotationRepository", "SqlCorrectionRepository"]

ConnectionSource = Callable[[], Connection]
_CHUNK = 1000  # ids per IN (...) list and rows per executemany: well under SQLite's limits


def _chunks(items: Sequence[Any], size: int = _CHUNK) -> Iterable[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _upsert(conn: Connection, table: Any, keys: list[str]) -> Any:
    """``INSERT … ON CONFLICT (keys) DO UPDATE`` setting every other column to the new row's.

    Built once per (dialect, table, keys): building it walks every column (~1 ms, once per
    real-time POST before); statements are immutable, so sharing one is safe."""
    return _upsert_for(conn.dialect.name, table, tuple(keys))


@lru_cache(maxsize=64)
def _upsert_for(dialect: str, table: Any, keys: tuple[str, ...]) -> Any:
    if dialect == "sqlite":
        stmt: Any = sqlite_insert(table)
    elif dialect == "postgresql":
        stmt = pg_insert(table)
    else:
        raise NotImplementedError(f"no upsert for dialect {dialect!r}")
    others = {c.name: stmt.excluded[c.name] for c in table.c if c.name not in keys}
    return stmt.on_conflict_do_update(index_elements=list(keys), set_=others)


def _owned_transactions(
    conn: Connection, business_id: str, ids: set[str], known: set[str] | None = None
) -> None:
    """Refuse rows about a transaction of another business (or about no transaction).
    ``known``: ids this business inserted in the open transaction (no look-up needed)."""
    wanted = sorted(ids - known) if known else sorted(ids)
    if not wanted:
        return
    ids = set(wanted)
    owned: set[str] = set()
    for chunk in _chunks(wanted):
        owned.update(
            conn.execute(
                select(transactions.c.transaction_id).where(
                    transactions.c.business_id == business_id,
                    transactions.c.transaction_id.in_(chunk),
                )
            ).scalars()
        )
    foreign = ids - owned
    if foreign:
        raise ValueError(
            f"transaction(s) {sorted(foreign)[:5]} are not transactions of {business_id!r}"
        )


class _Scoped:
    def __init__(self, connection: ConnectionSource, business_id: str) -> None:
        self._conn = connection
        self.business_id = business_id


def _annotation(row: Row[Any]) -> Annotation:
    m = row._mapping
    return Annotation(
        transaction_id=m["transaction_id"],
        business_id=m["business_id"],
        kind=AnnotationKind(m["kind"]),
        value=m["value"],
        confidence=float(m["confidence"]),
        source=m["source"],
        reasons=tuple(json.loads(m["reasons"])),
        evidence=json.loads(m["evidence"]),
        created_at=m["created_at"],
    )


class SqlAnnotationRepository(_Scoped):
    """``core.ports.AnnotationRepository`` over SQL (see the module docstring)."""

    def __init__(
        self, connection: ConnectionSource, business_id: str, stored_now: set[str] | None = None
    ) -> None:
        super().__init__(connection, business_id)
        self._stored_now = stored_now  # the scope's ids inserted in the open transaction

    def upsert(self, annotations_: Sequence[Annotation]) -> int:
        if not annotations_:
            return 0
        rows: dict[tuple[str, str], dict[str, Any]] = {}
        for a in annotations_:
            ensure_same_business(
                self.business_id, a.business_id, f"annotation of {a.transaction_id!r}"
            )
            ensure_aware(a.created_at, "annotation created_at")
            # the last of two annotations with one key wins, as two upserts in a row would
            rows[(a.transaction_id, str(a.kind))] = {
                "transaction_id": a.transaction_id,
                "kind": str(a.kind),
                "business_id": a.business_id,
                "value": a.value,
                "confidence": float(a.confidence),
                "source": a.source,
                "reasons": json.dumps(list(a.reasons), ensure_ascii=False),
                "evidence": json.dumps(a.evidence, ensure_ascii=False, sort_keys=True),
                "created_at": a.created_at,
            }
        conn = self._conn()
        _owned_transactions(conn, self.business_id, {k[0] for k in rows}, self._stored_now)
        stmt = _upsert(conn, annotations_table, ["transaction_id", "kind"])
        values = list(rows.values())
        for chunk in _chunks(values):
            conn.execute(stmt, list(chunk))
        return len(values)

    def for_transactions(self, transaction_ids: Sequence[str]) -> list[Annotation]:
        out: list[Annotation] = []
        conn = self._conn()
        for chunk in _chunks(sorted(set(transaction_ids))):
            stmt = (
                select(annotations_table)
                .where(
                    annotations_table.c.business_id == self.business_id,
                    annotations_table.c.transaction_id.in_(chunk),
                )
                .order_by(annotations_table.c.transaction_id, annotations_table.c.kind)
            )
            out.extend(_annotation(r) for r in conn.execute(stmt))
        return out

    def list(self, kind: AnnotationKind | str) -> list[Annotation]:
        stmt = (
            select(annotations_table)
            .where(
                annotations_table.c.business_id == self.business_id,
                annotations_table.c.kind == str(AnnotationKind(kind)),
            )
            .order_by(annotations_table.c.transaction_id)
        )
        return [_annotation(r) for r in self._conn().execute(stmt)]

    def delete(self, kind: AnnotationKind | str) -> int:
        result = self._conn().execute(
            delete(annotations_table).where(
                annotations_table.c.business_id == self.business_id,
                annotations_table.c.kind == str(AnnotationKind(kind)),
            )
        )
        return int(result.rowcount)

    def save_profile(self, words: Sequence[str]) -> None:
        conn = self._conn()
        row = {
            "business_id": self.business_id,
            "words": json.dumps(list(words), ensure_ascii=False),
            "updated_at": utc_now(),
        }
        conn.execute(_upsert(conn, enrichment_profiles, ["business_id"]), [row])

    def profile(self) -> tuple[str, ...] | None:
        words = (
            self._conn()
            .execute(
                select(enrichment_profiles.c.words).where(
                    enrichment_profiles.c.business_id == self.business_id
                )
            )
            .scalar()
        )
        return None if words is None else tuple(json.loads(words))


_CORRECTION_COLUMNS = (
    corrections.c.correction_id,
    corrections.c.business_id,
    corrections.c.transaction_id,
    corrections.c.category,
    corrections.c.counterparty_key,
    corrections.c.direction,
    corrections.c.text,
    corrections.c.consented,
    corrections.c.created_at,
)


class SqlCorrectionRepository(_Scoped):
    """``core.ports.CorrectionRepository`` over SQL, storing ``enrich.corrections.Correction``.

    ``list()`` returns corrections without their ``example`` (the memory needs only the key,
    direction, text and category); the labelled examples come from ``training_examples()``,
    which reads the transaction itself and only while the consent is active.
    """

    def add(self, correction: Correction, member_id: str = "") -> None:
        c = correction
        ensure_same_business(self.business_id, c.business_id, f"correction {c.correction_id!r}")
        ensure_aware(c.created_at, "correction created_at")
        conn = self._conn()
        _owned_transactions(conn, self.business_id, {c.transaction_id})
        row = {
            "correction_id": c.correction_id,
            "business_id": c.business_id,
            "transaction_id": c.transaction_id,
            "member_id": member_id,
            "category": c.category,
            "counterparty_key": c.counterparty_key,
            "direction": c.direction,
            "text": c.text,
            "consented": bool(c.consented),
            "created_at": c.created_at,
        }
        conn.execute(insert(corrections), row)

    def training_examples(self) -> list[tuple[Transaction, str]]:
        consent_active = exists().where(
            consent_grants.c.business_id == self.business_id,
            consent_grants.c.purpose == str(Purpose.MODEL_IMPROVEMENT),
            consent_grants.c.withdrawn_at.is_(None),
        )
        stmt = (
            select(*_TX_COLUMNS, corrections.c.category)
            .select_from(
                corrections.join(
                    transactions,
                    and_(
                        transactions.c.transaction_id == corrections.c.transaction_id,
                        transactions.c.business_id == corrections.c.business_id,
                    ),
                )
            )
            .where(
                corrections.c.business_id == self.business_id,
                corrections.c.consented.is_(True),
                consent_active,
            )
            .order_by(corrections.c.created_at, corrections.c.correction_id)
        )
        return [(Transaction(*row[:-1]), row[-1]) for row in self._conn().execute(stmt)]

    def list(self) -> list[Correction]:
        stmt = (
            select(*_CORRECTION_COLUMNS)
            .where(corrections.c.business_id == self.business_id)
            .order_by(corrections.c.created_at, corrections.c.correction_id)
        )
        return [Correction(*row) for row in self._conn().execute(stmt)]
