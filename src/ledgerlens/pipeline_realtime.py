"""Real-time ingestion on SQLite's one writer: queued POSTs stored together, each with its
``Idempotency-Key``, in one transaction.

A POST of one transaction used to be five transactions and ~20 statements: reserve the key
(look-up, insert, commit), store the line, read the business, its accounts, corrections and
profile back, enrich and score, commit, then complete the key (update, commit). On SQLite
every one of them queues on the single writer, so the statements, not the enrichment, set the
throughput. Here instead::

    ingest_keyed([r1, r2, …])             one BEGIN IMMEDIATE … COMMIT for the whole group
        the group's keys looked up (one statement per business)
        for each request: its key ── stored ──> replay / mismatch / in progress (that answer)
                                  └─ free ───> validate and store its lines
        the answers inserted under their keys (one statement per business)
        each business's new lines enriched and scored together
        any failure: the group is rolled back, the businesses' held facts are dropped and
        each request runs again on its own; alone, a refusal (4xx) is rolled back and only
        its answer is stored

The serving process hands in whatever POSTs queued while the writer was busy (``serve.writes.
GroupCommit``): at low load a group is one request; under load its fixed costs are shared.
The key, the lines and their annotations commit together or not at all, so no request is left
reserved or half-done and a retry either replays the stored answer or runs from scratch.

The business's facts that every line needs (the business, its accounts, the owner's
corrections and the vocabulary profile) are kept between requests in ``BusinessFactsCache``:
re-read when any other write of this process has run since (its ``generation`` moved: a
recategorization, a new account, a refresh), after ``ttl_s`` (writes by other processes), and
when a line names an account the cache does not know.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import timedelta

from ledgerlens.core.errors import LedgerLensError, NotFound
from ledgerlens.core.ledger import utc_now
from ledgerlens.core.ports import KeyedAnswer, Reservation, UnitOfWork
from ledgerlens.ingest.realtime import IngestResult
from ledgerlens.pipeline import (
    BusinessFacts,
    IngestTransactions,
    Services,
    judge_ingested,
    store_in,
)

__all__ = [
    "Answer",
    "BusinessFactsCache",
    "KeyedIngest",
    "KeyedOutcome",
    "ingest_keyed",
]

# what the request answers, as stored under its key: (status, content type, body); a status
# of 500 or more is never stored (the request failed; a retry runs it again)
Answer = Callable[[IngestResult | LedgerLensError], tuple[int, str, str]]


@dataclass(frozen=True, slots=True)
class KeyedIngest:
    """One POST: its command and its ``Idempotency-Key`` (scoped by the token subject)."""

    command: IngestTransactions
    subject: str
    key: str
    request_hash: str


@dataclass(frozen=True, slots=True)
class KeyedOutcome:
    """``reservation``: ``new`` with this request's own answer (it ran now), or what was
    already stored under the key; ``result``: the work's result when it ran now and stored."""

    reservation: Reservation
    result: IngestResult | None = None


class BusinessFactsCache:
    """Per-business ``BusinessFacts`` held between real-time requests (see the module doc).

    ``generation``: a counter the caller bumps whenever something else may have written (the
    serving process's write lane counts the jobs it runs); facts loaded under another value
    are read again. Used from the one writer thread; the lock only guards the table."""

    def __init__(
        self,
        ttl_s: float = 5.0,
        generation: Callable[[], int] = lambda: 0,
        max_businesses: int = 256,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.ttl_s = ttl_s
        self.max_businesses = max_businesses
        self._generation = generation
        self._clock = clock
        self._items: OrderedDict[str, tuple[BusinessFacts, int, float]] = OrderedDict()
        self._lock = threading.Lock()
        self.reads = 0  # how often facts were read from storage (tests, metrics)

    def get(
        self, uow: UnitOfWork, business_id: str, account_ids: Sequence[str] = ()
    ) -> BusinessFacts | None:
        """The business's facts, read in ``uow`` unless held and still valid; ``None``: no
        such business. ``account_ids``: accounts the caller needs; an unknown one re-reads."""
        now, generation = self._clock(), self._generation()
        with self._lock:
            held = self._items.get(business_id)
        if held is not None:
            facts, seen, at = held
            known = {a.account_id for a in facts.accounts}
            if seen == generation and now - at < self.ttl_s and known.issuperset(account_ids):
                return facts
        self.reads += 1
        fresh = BusinessFacts.read(uow, business_id)
        with self._lock:
            if fresh is None:
                self._items.pop(business_id, None)
                return None
            self._items[business_id] = (fresh, generation, now)
            self._items.move_to_end(business_id)
            while len(self._items) > self.max_businesses:
                self._items.popitem(last=False)
        return fresh

    def drop(self, business_id: str) -> None:
        """Forget one business's facts (the next ``get`` reads them)."""
        with self._lock:
            self._items.pop(business_id, None)

    def clear(self) -> None:
        with self._lock:
            self._items.clear()


def ingest_keyed(
    requests: Sequence[KeyedIngest],
    services: Services,
    answer: Answer,
    cache: BusinessFactsCache,
    lease_s: float = 300.0,
) -> list[KeyedOutcome | BaseException]:
    """Run ``requests`` in one transaction (see the module doc); per request its outcome, or
    the exception it failed with (nothing of it stored). ``lease_s``: a key reserved by the
    reserve-then-complete path and unfinished for this long is taken over (its owner died)."""
    try:
        return list(_run(requests, services, answer, cache, lease_s, alone=False))
    except Exception:  # noqa: BLE001 - each request runs again on its own, and answers
        pass
    # held facts may be what failed (the business erased or changed by another process)
    for business_id in {r.command.business_id for r in requests}:
        cache.drop(business_id)
    out: list[KeyedOutcome | BaseException] = []
    for request in requests:
        try:
            out.extend(_run((request,), services, answer, cache, lease_s, alone=True))
        except Exception as exc:  # noqa: BLE001 - handed to that request's caller
            out.append(exc)
    return out


def _run(
    requests: Sequence[KeyedIngest],
    services: Services,
    answer: Answer,
    cache: BusinessFactsCache,
    lease_s: float,
    alone: bool,
) -> list[KeyedOutcome]:
    if services.uow_factory is None:
        raise TypeError("Services.uow_factory is not configured")
    with services.uow_factory() as uow:
        try:
            outcomes = []
            stored: dict[str, tuple[BusinessFacts, list[tuple[IngestTransactions, IngestResult]]]]
            stored = {}
            # each business's keys looked up in one statement and the answers inserted in one;
            # a key sent twice in the group goes one request at a time instead, so the second
            # sees the first's answer (``None``)
            found = _look_up(uow, requests)
            answers: dict[str, list[KeyedAnswer]] = {}
            for i, request in enumerate(requests):
                seen = found[i] if found is not None else _find(uow, request)
                outcome, ran = _one(uow, request, seen, services, answer, cache, lease_s)
                outcomes.append(outcome)
                if ran is None or outcome.result is None:
                    continue
                facts, kept = ran
                business_id = request.command.business_id
                stored.setdefault(business_id, (facts, []))[1].append(
                    (request.command, outcome.result)
                )
                if found is None:
                    _record(uow, business_id, [kept])
                else:
                    answers.setdefault(business_id, []).append(kept)
            for business_id, kept_answers in answers.items():
                _record(uow, business_id, kept_answers)
            # then each business's new lines, enriched and scored together
            for business_id, (facts, batches) in stored.items():
                judge_ingested(uow, business_id, batches, services, facts)
        except LedgerLensError as refusal:
            if not alone:  # the group runs again one by one (``ingest_keyed``)
                raise
            status, content_type, body = answer(refusal)
            if status >= 500:
                raise
            uow.rollback()  # the refusal's writes, if any, go; its answer stays
            request = requests[0]
            scope = uow.scope(request.command.business_id)
            taken = scope.idempotency.find(request.subject, request.key, request.request_hash)
            if taken is not None:  # taken meanwhile by another process: that answer counts
                return [KeyedOutcome(taken)]
            scope.idempotency.record(request.subject, request.key, request.request_hash,
                                     status, content_type, body)  # fmt: skip
            outcomes = [KeyedOutcome(Reservation("new", status, content_type, body))]
        uow.commit()
    return outcomes


def _look_up(uow: UnitOfWork, requests: Sequence[KeyedIngest]) -> list[Reservation | None] | None:
    """Every request's key as stored, one statement per business; ``None`` when a key comes
    twice in the group (then each is looked up in turn, after the one before recorded)."""
    names = [(r.command.business_id, r.subject, r.key) for r in requests]
    if len(set(names)) < len(names):
        return None
    by_business: dict[str, list[int]] = {}
    for i, request in enumerate(requests):
        by_business.setdefault(request.command.business_id, []).append(i)
    out: list[Reservation | None] = [None] * len(requests)
    for business_id, positions in by_business.items():
        asked = [(requests[i].subject, requests[i].key, requests[i].request_hash)
                 for i in positions]  # fmt: skip
        for i, reservation in zip(
            positions, uow.scope(business_id).idempotency.find_many(asked), strict=True
        ):
            out[i] = reservation
    return out


def _find(uow: UnitOfWork, request: KeyedIngest) -> Reservation | None:
    keys = uow.scope(request.command.business_id).idempotency
    return keys.find(request.subject, request.key, request.request_hash)


def _record(uow: UnitOfWork, business_id: str, answers: Sequence[KeyedAnswer]) -> None:
    if uow.scope(business_id).idempotency.record_many(answers) != len(answers):
        raise RuntimeError("an idempotency key was taken inside its own write transaction")


def _one(
    uow: UnitOfWork,
    request: KeyedIngest,
    found: Reservation | None,
    services: Services,
    answer: Answer,
    cache: BusinessFactsCache,
    lease_s: float,
) -> tuple[KeyedOutcome, tuple[BusinessFacts, KeyedAnswer] | None]:
    """One request given what its key ``found``: a stored answer, or its lines stored (not
    yet judged) with the facts they were checked against and the answer for the caller to
    record under the key."""
    cmd = request.command
    if found is not None and found.state == "in_progress":
        stale = utc_now() - timedelta(seconds=lease_s)
        keys = uow.scope(cmd.business_id).idempotency
        if keys.release_stale(request.subject, request.key, stale):
            found = None  # its owner died mid-way: this request runs it
    if found is not None:
        return KeyedOutcome(found), None
    facts = cache.get(uow, cmd.business_id, [r.account_id for r in cmd.rows])
    if facts is None:
        raise NotFound(f"unknown business {cmd.business_id!r}")
    result = store_in(uow, cmd, services, facts)
    status, content_type, body = answer(result)
    kept = KeyedAnswer(request.subject, request.key, request.request_hash, status, content_type,
                       body)  # fmt: skip
    return KeyedOutcome(Reservation("new", status, content_type, body), result), (facts, kept)
