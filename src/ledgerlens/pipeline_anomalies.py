"""Pipeline handlers for unusual transactions and employee-card controls (issue #6).

``pipeline.py`` keeps the command table; these handlers do the work:

* ``DetectAnomalies`` — score the whole business after enrichment: the stored category
  annotations are the detector's ``categories``, the stored "expected" feedback its
  ``feedback``, the business's card policy its per-purchase ``limits``; the verdicts replace the
  stored ones. ``EnrichBusiness`` (and so every import) and ``Recategorize`` run it afterwards;
  real-time ingestion scores the new lines (``score_ingested``).
* ``MarkExpected`` — the owner says "this is expected": the alert's pattern is stored and the
  business re-scored in the same unit of work, so similar alerts stop at once.
* ``SetCardPolicy`` / ``AuthorizeCard`` — a policy document is validated and stored as a new
  version; an authorization evaluates the current version with this month's spend on the card
  (booked card lines plus approvals no booked line matches yet) and stores the decision
  (inputs, outputs, reason codes, policy version, time UTC). When ``Services.audit_log`` is
  set (issue 7A's hash-chained ``decide.audit_chain.AuditLog``) the decision is appended there
  too, after the commit (the log has its own transaction).

Handlers receive the pipeline's ``Services`` (``uow_factory``, and ``audit_log`` when present),
so this module never imports ``pipeline`` at run time.
"""

from __future__ import annotations

import json
import threading
import uuid
from collections import Counter, OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from ledgerlens.analyze.anomalies import (
    AnomalyResult,
    ExpectedFeedback,
    ScoringContext,
    detect_anomalies,
)
from ledgerlens.core.errors import NotFound, ValidationError
from ledgerlens.core.ledger import AnnotationKind, utc_now
from ledgerlens.core.money import Money, validate_currency
from ledgerlens.core.ports import BusinessScope, UnitOfWork
from ledgerlens.decide.card_policies import Authorization, CompiledCardPolicy, compile_policy

if TYPE_CHECKING:
    from ledgerlens.pipeline import Services

__all__ = [
    "AuthorizeCard",
    "CardDecision",
    "DetectAnomalies",
    "DetectionReport",
    "MarkExpected",
    "MarkExpectedResult",
    "ScoringContexts",
    "SetCardPolicy",
    "audit_decision",
    "authorize_card",
    "build_scoring_context",
    "detect_business",
    "detect_in",
    "install_scoring_context",
    "mark_expected",
    "score_ingested",
    "scoring_context_at",
    "set_card_policy",
]

REALTIME_WINDOW = timedelta(days=400)  # history a new line is judged against (a year + slack)
BOOKING_LAG = timedelta(days=5)  # a card purchase is booked within days of its authorization


@dataclass(frozen=True, slots=True)
class DetectAnomalies:
    """Score every transaction of the business and store the verdicts (idempotent)."""

    business_id: str


@dataclass(frozen=True, slots=True)
class MarkExpected:
    """The owner marks one alert "this is expected"; similar alerts are suppressed at once."""

    business_id: str
    transaction_id: str
    member_id: str = ""


@dataclass(frozen=True, slots=True)
class SetCardPolicy:
    """Store a card-policy document (validated) as the business's current version."""

    business_id: str
    document: dict[str, Any]
    member_id: str = ""


@dataclass(frozen=True, slots=True)
class AuthorizeCard:
    """Approve, decline or review one card purchase under the business's stored policy."""

    business_id: str
    card_id: str
    merchant: str
    mcc: str
    amount_minor: int  # positive: the purchase amount
    currency: str
    at: datetime  # tz-aware purchase time


@dataclass(frozen=True, slots=True)
class DetectionReport:
    """What one detection run stored (counts only: no personal data)."""

    business_id: str
    transactions: int
    scored: int  # lines with any evidence (stored verdicts)
    alerts: int  # raised lines
    incidents: int  # raised incidents (a burst or split is one)
    suppressed: int  # lines matching an "expected" pattern
    max_alerts: int
    kinds: dict[str, int]  # raised lines per kind


@dataclass(frozen=True, slots=True)
class MarkExpectedResult:
    stored: bool  # False when this alert had been marked already
    kind: str
    report: DetectionReport


@dataclass(frozen=True, slots=True)
class CardDecision:
    decision_id: str
    authorization: Authorization


def _uow_factory(services: Services) -> Any:
    if services.uow_factory is None:
        raise TypeError("Services.uow_factory is not configured")
    return services.uow_factory


def _scope(uow: UnitOfWork, business_id: str) -> BusinessScope:
    if uow.businesses.get(business_id) is None:
        raise NotFound(f"unknown business {business_id!r}")
    return uow.scope(business_id)


@lru_cache(maxsize=256)
def _compiled(text: str) -> CompiledCardPolicy:
    """Compile a stored policy once per process (keyed by its canonical JSON text)."""
    return compile_policy(json.loads(text))


def _policy(scope: BusinessScope) -> CompiledCardPolicy | None:
    doc = scope.card_policies.current()
    return None if doc is None else _compiled(json.dumps(doc, sort_keys=True))


def _categories(scope: BusinessScope) -> dict[str, str]:
    return {a.transaction_id: a.value
            for a in scope.annotations.list(AnnotationKind.CATEGORY) if a.value}  # fmt: skip


def _detect(scope: BusinessScope, transactions: Sequence[Any]) -> Any:
    policy = _policy(scope)
    return detect_anomalies(
        transactions,
        categories=_categories(scope),
        limits=policy.per_transaction_limits() if policy else None,
        feedback=scope.feedback.list(),
    )


class ScoringContexts:
    """This process's fitted scoring contexts (``analyze.anomalies.ScoringContext``), one per
    business, least recently used dropped first. Real-time scoring reads and updates them on
    the serving process's one writer thread; the lock only guards the table itself."""

    def __init__(self, max_businesses: int = 64) -> None:
        self.max_businesses = max_businesses
        self._items: OrderedDict[str, ScoringContext] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, business_id: str) -> ScoringContext | None:
        with self._lock:
            ctx = self._items.get(business_id)
            if ctx is not None:
                self._items.move_to_end(business_id)
            return ctx

    def put(self, business_id: str, ctx: ScoringContext) -> None:
        with self._lock:
            self._items[business_id] = ctx
            self._items.move_to_end(business_id)
            while len(self._items) > self.max_businesses:
                self._items.popitem(last=False)

    def drop(self, business_id: str) -> None:
        with self._lock:
            self._items.pop(business_id, None)

    def __len__(self) -> int:
        return len(self._items)


def _contexts(services: Services) -> ScoringContexts | None:
    return getattr(services, "anomaly_contexts", None)


def _context_in(scope: BusinessScope, anchor: date) -> ScoringContext | None:
    """Judge the business's last ~13 months up to ``anchor`` once, as a scoring context."""
    window = scope.transactions.list(since=anchor - REALTIME_WINDOW)
    if not window:
        return None
    policy = _policy(scope)
    return ScoringContext.build(
        window, categories=_categories(scope),
        limits=policy.per_transaction_limits() if policy else None,
        feedback=scope.feedback.list(),
    )  # fmt: skip


def build_scoring_context(business_id: str, services: Services,
                          uow_factory: Any = None) -> ScoringContext | None:  # fmt: skip
    """A fresh context from storage (the background refresh; ``uow_factory``: a read-only
    one, so it runs beside the writer), anchored at the current context's last day."""
    contexts = _contexts(services)
    if contexts is None:
        return None
    current = contexts.get(business_id)
    anchor = date.fromordinal(current.last_day) if current is not None else None
    return scoring_context_at(business_id, anchor, uow_factory or _uow_factory(services))


def scoring_context_at(business_id: str, anchor: date | None,
                       uow_factory: Any) -> ScoringContext | None:  # fmt: skip
    """The business's context judged from storage up to ``anchor`` (its latest line when
    None). Needs nothing but a unit of work, so the API's refresh worker process runs it."""
    with uow_factory() as uow:
        if uow.businesses.get(business_id) is None:
            return None
        scope = uow.scope(business_id)
        if anchor is None:
            latest = [t.booking_date for t in scope.transactions.iter_all()]
            if not latest:
                return None
            anchor = max(latest)
        return _context_in(scope, anchor)


def install_scoring_context(business_id: str, fresh: ScoringContext | None,
                            services: Services) -> int:  # fmt: skip
    """Swap in a context built off the writer thread (run this ON it): lines the old context
    took in while the new one was being built are appended to it, so none is missed.
    Returns how many were carried over."""
    contexts = _contexts(services)
    if contexts is None or fresh is None:
        return 0
    old = contexts.get(business_id)
    carried = []
    if old is not None:
        carried = [t for t in old.txs if t.transaction_id not in fresh.index]
        if carried:
            cats = {t.transaction_id: old.category[old.index[t.transaction_id]] for t in carried}
            if fresh.score(carried, cats) is None:
                contexts.drop(business_id)  # the next POST builds one from storage
                return 0
    contexts.put(business_id, fresh)
    return len(carried)


def _summary(business_id: str, n: int, results: Sequence[AnomalyResult], max_alerts: int
             ) -> DetectionReport:  # fmt: skip
    raised = [r for r in results if r.is_anomaly]
    return DetectionReport(
        business_id, n, len(results), len(raised), len({r.incident_id for r in raised}),
        sum(1 for r in results if r.suppressed_by), max_alerts,
        dict(sorted(Counter(r.kind for r in raised).items())),
    )  # fmt: skip


def detect_in(uow: UnitOfWork, business_id: str) -> DetectionReport:
    """Score the whole business inside ``uow`` and replace its stored verdicts (caller commits)."""
    scope = _scope(uow, business_id)
    txs = list(scope.transactions.iter_all())
    report = _detect(scope, txs)
    scope.anomalies.replace_all(report.results)
    return _summary(business_id, len(txs), report.results, report.max_alerts)


def detect_business(cmd: DetectAnomalies, services: Services) -> DetectionReport:
    with _uow_factory(services)() as uow:
        report = detect_in(uow, cmd.business_id)
        uow.commit()
    return report


def score_ingested(business_id: str, transaction_ids: Sequence[str], booked: tuple[date, date],
                   services: Services, *, uow: UnitOfWork | None = None,
                   lines: Sequence[Any] = (), categories: dict[str, str] | None = None,
                   business_known: bool = False) -> list[AnomalyResult]:  # fmt: skip
    """Score real-time lines against the business's last ~13 months and store their verdicts
    (and those of lines in the same incident, e.g. a card-testing burst they complete).
    Older verdicts are left as the last full run decided them.

    With ``services.anomaly_contexts`` (the API process) the lines are scored against the
    business's fitted context (``ScoringContext``: built once, refreshed in the background)
    in time proportional to the lines; without, or when the lines fall outside what the
    context can judge, the window is re-read and re-judged as a whole. ``uow``: an open unit
    of work to run in (the caller commits); ``lines``: the new lines already loaded;
    ``categories``: their fresh categories; ``business_known``: the caller has checked in
    ``uow`` that the business exists."""
    if uow is None:
        with _uow_factory(services)() as own:
            keep = score_ingested(business_id, transaction_ids, booked, services, uow=own,
                                  lines=lines, categories=categories)  # fmt: skip
            own.commit()
        return keep
    scope = uow.scope(business_id) if business_known else _scope(uow, business_id)
    new = set(transaction_ids)
    contexts = _contexts(services)
    keep = None
    if contexts is not None:
        ctx = contexts.get(business_id)
        if ctx is None:  # a cold business: judge its history once (includes these lines)
            ctx = _context_in(scope, booked[1])
            if ctx is not None:
                contexts.put(business_id, ctx)
        if ctx is not None:
            txs = [t for t in lines if t.transaction_id in new]
            if len(txs) < len(new):
                txs = [t for t in (scope.transactions.get(i) for i in sorted(new)) if t]
            keep = ctx.score(txs, categories)
            if keep is None:
                contexts.drop(business_id)
    if keep is None:
        window = scope.transactions.list(since=booked[1] - REALTIME_WINDOW)
        report = _detect(scope, window)
        incidents = {r.incident_id for r in report.results if r.transaction_id in new}
        keep = [
            r
            for r in report.results
            if r.transaction_id in new or (r.is_anomaly and r.incident_id in incidents)
        ]
    scope.anomalies.upsert(keep)
    return keep


def mark_expected(cmd: MarkExpected, services: Services) -> MarkExpectedResult:
    """Store the owner's confirmation of one alert's pattern and re-score, atomically."""
    with _uow_factory(services)() as uow:
        scope = _scope(uow, cmd.business_id)
        tx = scope.transactions.get(cmd.transaction_id)
        if tx is None:
            raise NotFound(f"no transaction {cmd.transaction_id!r} in {cmd.business_id!r}")
        verdict = next((r for r in scope.anomalies.list()
                        if r.transaction_id == cmd.transaction_id), None)  # fmt: skip
        if verdict is None or not verdict.feedback_key:
            raise ValidationError(
                f"transaction {cmd.transaction_id!r} has no anomaly verdict to mark as expected"
            )
        stored = scope.feedback.add(
            ExpectedFeedback(
                cmd.business_id,
                cmd.transaction_id,
                verdict.kind,
                verdict.feedback_key,
                abs(tx.amount_minor),
                utc_now(),
                cmd.member_id,
            )
        )
        report = detect_in(uow, cmd.business_id)
        uow.commit()
    return MarkExpectedResult(stored, verdict.kind, report)


def set_card_policy(cmd: SetCardPolicy, services: Services) -> DetectionReport:
    """Validate (``compile_policy`` raises ``ValidationError``), store as a new version, and
    re-score: the policy's per-purchase limits feed split-purchase detection."""
    compile_policy(cmd.document)
    with _uow_factory(services)() as uow:
        scope = _scope(uow, cmd.business_id)
        scope.card_policies.save(dict(cmd.document), cmd.member_id)
        report = detect_in(uow, cmd.business_id)
        uow.commit()
    return report


def _spent_this_month(scope: BusinessScope, policy: CompiledCardPolicy, card_id: str,
                      at: datetime) -> int:  # fmt: skip
    """Booked card outflows this (policy-local) month, plus this month's approvals that no
    booked line matches yet (same amount, booked on the day or up to ``BOOKING_LAG`` later):
    authorized but not booked, they still count against the monthly limit."""
    local = at.astimezone(policy.tz).date()
    start = local.replace(day=1)
    lines = [(d, amount) for d, amount, cur in
             scope.card_decisions.booked_outflows(card_id, start, local + BOOKING_LAG)
             if cur == policy.currency]  # fmt: skip
    spent = sum(amount for d, amount in lines if d <= local)
    unmatched = sorted(lines)
    month_start = datetime.combine(start, time(0), policy.tz)
    for when_at, amount, cur in sorted(scope.card_decisions.approved(card_id, month_start)):
        when = when_at.astimezone(policy.tz).date()
        if cur != policy.currency or when > local:
            continue
        booked = next((b for b in unmatched
                       if b[1] == amount and when <= b[0] <= when + BOOKING_LAG), None)  # fmt: skip
        if booked is None:
            spent += amount
        else:
            unmatched.remove(booked)
    return spent


def authorize_card(cmd: AuthorizeCard, services: Services) -> CardDecision:
    """Evaluate the stored policy, store the decision (and append it to the audit log when one
    is configured), return it."""
    if cmd.at.tzinfo is None or cmd.at.utcoffset() is None:
        raise ValidationError("authorization time must be timezone-aware")
    if cmd.amount_minor <= 0:
        raise ValidationError("authorization amount must be positive")
    currency = validate_currency(cmd.currency)
    with _uow_factory(services)() as uow:
        scope = _scope(uow, cmd.business_id)
        policy = _policy(scope)
        if policy is None:
            raise NotFound(f"business {cmd.business_id!r} has no card policy")
        spent = _spent_this_month(scope, policy, cmd.card_id, cmd.at)
        auth = policy.authorize(cmd.card_id, cmd.merchant, cmd.mcc,
                                Money(cmd.amount_minor, currency), cmd.at,
                                spent_this_month=Money(spent, policy.currency))  # fmt: skip
        decision_id = f"dec_{uuid.uuid4().hex[:24]}"
        scope.card_decisions.add(decision_id, auth)
        uow.commit()
    if services.audit_log is not None:  # issue 7A's hash-chained log
        services.audit_log.append([audit_decision(cmd.business_id, decision_id, auth)])
    return CardDecision(decision_id, auth)


def audit_decision(business_id: str, decision_id: str, auth: Authorization) -> Any:
    """The authorization as a ``decide.model.Decision`` for the hash-chained audit log
    (kind ``limit``: a card authorization enforces the owner's spending limits; subject
    ``card_authorization``)."""
    from ledgerlens.decide.model import Decision, DecisionKind

    record = auth.as_record()
    return Decision(
        business_id=business_id,
        kind=DecisionKind.LIMIT,
        subject="card_authorization",
        outputs={"decision": record["decision"], "decision_id": decision_id},
        inputs=record["inputs"],
        reason_codes=tuple(record["reason_codes"]),
        versions=(f"rules:card_policy:{auth.policy_id}@{auth.policy_version}",),
        confidence=1.0,
        source=auth.source,
    )
