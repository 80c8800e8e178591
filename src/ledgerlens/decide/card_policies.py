"""Employee-card spending policies as data, enforced at authorization time.

An owner writes rules per role ("drivers: fuel, tolls and parking, up to 150 a purchase and
1,200 a month, weekdays 06:00–20:00") and overrides per employee; ``compile_policy`` turns the
JSON document (``decide/data/card_policy_example.json``) into lookup tables once, and
``CompiledCardPolicy.authorize`` answers approve / decline / review in microseconds, because a
card network waits for the answer.

Rules (each has a test that approves and one that declines, tests/unit/decide):

* card → employee → role, else ``UNKNOWN_CARD``;
* ``blocked_merchants`` → ``MERCHANT_BLOCKED`` (normalized names; a prefix of the printed
  name matches);
* ``blocked_mccs`` → ``MCC_BLOCKED`` (codes or ranges: "7995", "7800-7802");
* ``allowed_mccs`` / ``allowed_categories`` → ``MCC_NOT_ALLOWED`` / ``CATEGORY_NOT_ALLOWED``:
  when either list is set, the purchase must match one of them (category = the MCC's leaf);
* ``per_transaction_limit`` → ``OVER_TRANSACTION_LIMIT`` (amount > limit);
* ``monthly_limit`` → ``OVER_MONTHLY_LIMIT`` (spent this month + amount > limit);
* ``weekends: false`` → ``WEEKEND_NOT_ALLOWED`` (Saturday, Sunday in the policy time zone);
* ``hours: ["06:00", "20:00"]`` → ``OUTSIDE_HOURS`` (local; a window may wrap midnight);
* an amount not in the policy currency → ``CURRENCY_MISMATCH``.

Review (not decline): ``review_above`` (``REVIEW_AMOUNT``), no or unknown MCC while an allow
list is set (``REVIEW_UNKNOWN_MCC``). Any decline wins over review; no reason = approve
(``WITHIN_POLICY``). Every ``Authorization`` carries its inputs, outputs, reason codes and the
policy id and version, so the lead's audit log can store it as is. Pure: no clock, no I/O.
"""

from __future__ import annotations

import enum
import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from importlib import resources
from typing import Any
from zoneinfo import ZoneInfo

from ledgerlens.core.errors import LedgerLensError, ValidationError
from ledgerlens.core.money import Money, to_minor, validate_currency
from ledgerlens.enrich.counterparties import mcc_category, name_key

__all__ = [
    "Authorization",
    "CompiledCardPolicy",
    "Decision",
    "ReasonCode",
    "compile_policy",
    "load_example_policy",
]


class Decision(enum.StrEnum):
    APPROVE = "approve"
    DECLINE = "decline"
    REVIEW = "review"


class ReasonCode(enum.StrEnum):
    WITHIN_POLICY = "WITHIN_POLICY"
    UNKNOWN_CARD = "UNKNOWN_CARD"
    MERCHANT_BLOCKED = "MERCHANT_BLOCKED"
    MCC_BLOCKED = "MCC_BLOCKED"
    MCC_NOT_ALLOWED = "MCC_NOT_ALLOWED"
    CATEGORY_NOT_ALLOWED = "CATEGORY_NOT_ALLOWED"
    OVER_TRANSACTION_LIMIT = "OVER_TRANSACTION_LIMIT"
    OVER_MONTHLY_LIMIT = "OVER_MONTHLY_LIMIT"
    WEEKEND_NOT_ALLOWED = "WEEKEND_NOT_ALLOWED"
    OUTSIDE_HOURS = "OUTSIDE_HOURS"
    CURRENCY_MISMATCH = "CURRENCY_MISMATCH"
    REVIEW_AMOUNT = "REVIEW_AMOUNT"
    REVIEW_UNKNOWN_MCC = "REVIEW_UNKNOWN_MCC"


_REVIEW_CODES = frozenset({ReasonCode.REVIEW_AMOUNT, ReasonCode.REVIEW_UNKNOWN_MCC})
_RULE_FIELDS = frozenset({
    "allowed_mccs", "allowed_categories", "blocked_mccs", "blocked_merchants",
    "per_transaction_limit", "monthly_limit", "review_above", "weekends", "hours",
})  # fmt: skip


@dataclass(frozen=True, slots=True)
class Authorization:
    """One decision with everything the audit log needs (inputs, outputs, codes, version)."""

    decision: Decision
    reason_codes: tuple[ReasonCode, ...]
    policy_id: str
    policy_version: str
    card_id: str
    employee_id: str
    role: str
    merchant: str
    mcc: str
    amount_minor: int
    currency: str
    time: datetime
    spent_this_month_minor: int

    @property
    def source(self) -> str:
        return f"rule:card_policy:{self.policy_id}@{self.policy_version}"

    def as_record(self) -> dict[str, Any]:
        """A JSON-ready dict (amounts as integer minor units, time as ISO 8601)."""
        return {
            "decision": self.decision.value,
            "reason_codes": [c.value for c in self.reason_codes],
            "policy_id": self.policy_id,
            "policy_version": self.policy_version,
            "source": self.source,
            "inputs": {
                "card_id": self.card_id, "employee_id": self.employee_id, "role": self.role,
                "merchant": self.merchant, "mcc": self.mcc, "amount_minor": self.amount_minor,
                "currency": self.currency, "time": self.time.isoformat(),
                "spent_this_month_minor": self.spent_this_month_minor,
            },
        }  # fmt: skip


@dataclass(frozen=True, slots=True)
class _Rules:
    """One employee's effective rules, precompiled to sets and integers."""

    employee_id: str
    role: str
    allowed: bytes | None  # 10,000 flags by MCC (1 = allowed); None = no allow list
    allow_codes: tuple[ReasonCode, ...]  # which lists made the allow set
    blocked: bytes  # 10,000 flags by MCC
    blocked_merchants: tuple[tuple[str, ...], ...]
    per_transaction_limit: int | None
    monthly_limit: int | None
    review_above: int | None
    weekends: bool
    hours: tuple[int, int] | None  # minutes since midnight, [start, end)


@cache
def _mcc_leaves() -> tuple[str, ...]:
    """Taxonomy leaf of every MCC 0000–9999 ("" when unknown), computed once."""
    out = []
    for m in range(10_000):
        hint = mcc_category(f"{m:04d}")
        out.append(hint[0] if hint else "")
    return tuple(out)


def _mcc_set(specs: list[str], where: str) -> set[int]:
    out: set[int] = set()
    for spec in specs:
        lo, _, hi = str(spec).partition("-")
        try:
            a, b = int(lo), int(hi or lo)
        except ValueError as exc:
            raise ValidationError(f"{where}: bad MCC or range {spec!r}") from exc
        if not (0 <= a <= b <= 9999):
            raise ValidationError(f"{where}: MCC out of range {spec!r}")
        out.update(range(a, b + 1))
    return out


def _minutes(text: str, where: str) -> int:
    h, _, m = text.partition(":")
    try:
        value = int(h) * 60 + int(m)
    except ValueError as exc:
        raise ValidationError(f"{where}: bad time {text!r} (HH:MM)") from exc
    if not 0 <= value <= 24 * 60:
        raise ValidationError(f"{where}: bad time {text!r}")
    return value


def _compile_rules(employee_id: str, role: str, raw: Mapping[str, Any], currency: str,
                   where: str) -> _Rules:  # fmt: skip
    unknown = set(raw) - _RULE_FIELDS - {"role"}
    if unknown:
        raise ValidationError(f"{where}: unknown fields {sorted(unknown)}")

    def money(key: str) -> int | None:
        v = raw.get(key)
        return None if v is None else to_minor(str(v), currency)

    allowed: bytes | None = None
    codes: list[ReasonCode] = []
    if "allowed_mccs" in raw or "allowed_categories" in raw:
        flags = bytearray(10_000)
        for m in _mcc_set(raw.get("allowed_mccs", []), where):
            flags[m] = 1
        cats = set(raw.get("allowed_categories", []))
        if cats:
            for m, leaf in enumerate(_mcc_leaves()):
                if leaf in cats:
                    flags[m] = 1
        allowed = bytes(flags)
        if "allowed_mccs" in raw:
            codes.append(ReasonCode.MCC_NOT_ALLOWED)
        if "allowed_categories" in raw:
            codes.append(ReasonCode.CATEGORY_NOT_ALLOWED)
    blocked = bytearray(10_000)
    for m in _mcc_set(raw.get("blocked_mccs", []), where):
        blocked[m] = 1
    hours = raw.get("hours")
    return _Rules(
        employee_id=employee_id,
        role=role,
        allowed=allowed,
        allow_codes=tuple(codes),
        blocked=bytes(blocked),
        blocked_merchants=tuple(
            tuple(name_key(n).split()) for n in raw.get("blocked_merchants", [])
        ),
        per_transaction_limit=money("per_transaction_limit"),
        monthly_limit=money("monthly_limit"),
        review_above=money("review_above"),
        weekends=bool(raw.get("weekends", True)),
        hours=None if hours is None else (_minutes(hours[0], where), _minutes(hours[1], where)),
    )


class CompiledCardPolicy:
    """A policy document compiled for fast, pure authorization."""

    def __init__(self, policy_id: str, version: str, currency: str, tz: ZoneInfo,
                 by_card: dict[str, _Rules]) -> None:  # fmt: skip
        self.policy_id = policy_id
        self.version = version
        self.currency = currency
        self.tz = tz
        self._by_card = by_card

    def per_transaction_limits(self) -> dict[str, int]:
        """Card id → per-purchase limit (minor units), for split-purchase detection."""
        return {c: r.per_transaction_limit for c, r in self._by_card.items()
                if r.per_transaction_limit is not None}  # fmt: skip

    def authorize(
        self,
        card: str,
        merchant: str,
        mcc: str,
        amount: Money,
        time: datetime,
        *,
        spent_this_month: Money,
    ) -> Authorization:
        """Approve, decline or review one card purchase (``time`` tz-aware)."""
        rules = self._by_card.get(card)
        codes: list[ReasonCode] = []
        if rules is None:
            codes.append(ReasonCode.UNKNOWN_CARD)
        elif amount.currency != self.currency or spent_this_month.currency != self.currency:
            codes.append(ReasonCode.CURRENCY_MISMATCH)
        else:
            self._check(rules, merchant, mcc, amount.amount_minor, time,
                        spent_this_month.amount_minor, codes)  # fmt: skip
        if not codes:
            decision, codes = Decision.APPROVE, [ReasonCode.WITHIN_POLICY]
        elif all(c in _REVIEW_CODES for c in codes):
            decision = Decision.REVIEW
        else:
            decision = Decision.DECLINE
        return Authorization(
            decision, tuple(codes), self.policy_id, self.version, card,
            rules.employee_id if rules else "", rules.role if rules else "", merchant, mcc,
            amount.amount_minor, amount.currency, time, spent_this_month.amount_minor,
        )  # fmt: skip

    def _check(self, r: _Rules, merchant: str, mcc: str, amount: int, time: datetime,
               spent: int, codes: list[ReasonCode]) -> None:  # fmt: skip
        if r.blocked_merchants:
            words = tuple(name_key(merchant).split())
            if any(words[: len(b)] == b for b in r.blocked_merchants):
                codes.append(ReasonCode.MERCHANT_BLOCKED)
        code = int(mcc) if len(mcc) == 4 and mcc.isdigit() else -1
        if code >= 0 and r.blocked[code]:
            codes.append(ReasonCode.MCC_BLOCKED)
        if r.allowed is not None:
            if code < 0:
                codes.append(ReasonCode.REVIEW_UNKNOWN_MCC)
            elif not r.allowed[code]:
                codes.extend(r.allow_codes)
        if r.per_transaction_limit is not None and amount > r.per_transaction_limit:
            codes.append(ReasonCode.OVER_TRANSACTION_LIMIT)
        if r.monthly_limit is not None and spent + amount > r.monthly_limit:
            codes.append(ReasonCode.OVER_MONTHLY_LIMIT)
        if not r.weekends or r.hours is not None:
            local = time.astimezone(self.tz)
            if not r.weekends and local.weekday() >= 5:
                codes.append(ReasonCode.WEEKEND_NOT_ALLOWED)
            if r.hours is not None:
                minute = local.hour * 60 + local.minute
                start, end = r.hours
                inside = (
                    start <= minute < end if start <= end else (minute >= start or minute < end)
                )
                if not inside:
                    codes.append(ReasonCode.OUTSIDE_HOURS)
        if r.review_above is not None and amount > r.review_above and not codes:
            codes.append(ReasonCode.REVIEW_AMOUNT)


def compile_policy(doc: Mapping[str, Any]) -> CompiledCardPolicy:
    """Validate a policy document and compile it; ``ValidationError`` names what is wrong."""
    try:
        policy_id, version = str(doc["policy_id"]), str(doc["version"])
        currency = validate_currency(str(doc["currency"]))
        tz = ZoneInfo(str(doc.get("timezone", "UTC")))
    except (KeyError, ValueError, TypeError, LedgerLensError) as exc:
        raise ValidationError(f"card policy: {exc!r}") from exc
    roles: Mapping[str, Mapping[str, Any]] = doc.get("roles", {})
    employees: Mapping[str, Mapping[str, Any]] = doc.get("employees", {})
    by_employee: dict[str, _Rules] = {}
    for emp, over in employees.items():
        role = str(over.get("role", doc.get("default_role", "")))
        if role not in roles:
            raise ValidationError(f"card policy: employee {emp!r} has unknown role {role!r}")
        merged = {**roles[role], **{k: v for k, v in over.items() if k != "role"}}
        by_employee[emp] = _compile_rules(emp, role, merged, currency, f"employee {emp}")
    by_card: dict[str, _Rules] = {}
    for card, emp in doc.get("cards", {}).items():
        if emp not in by_employee:
            raise ValidationError(f"card policy: card {card!r} names unknown employee {emp!r}")
        by_card[card] = by_employee[emp]
    return CompiledCardPolicy(policy_id, version, currency, tz, by_card)


def load_example_policy() -> dict[str, Any]:
    """The documented example policy (``decide/data/card_policy_example.json``)."""
    text = resources.files("ledgerlens.decide").joinpath("data", "card_policy_example.json")
    return json.loads(text.read_text("utf-8"))
