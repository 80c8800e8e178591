"""Card policies: every rule has a purchase it approves and one it declines (must-show #4)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from ledgerlens.core.errors import ValidationError
from ledgerlens.core.money import Money
from ledgerlens.decide.card_policies import (
    Decision,
    ReasonCode,
    compile_policy,
    load_example_policy,
)

WEEKDAY_NOON = datetime(2026, 12, 2, 11, 0, tzinfo=UTC)  # Wednesday, 12:00 in Berlin
SATURDAY_NOON = datetime(2026, 12, 5, 11, 0, tzinfo=UTC)
ZERO = Money(0, "EUR")


def eur(text: str) -> Money:
    return Money.of(text, "EUR")


def policy(**rules: object):  # type: ignore[no-untyped-def]
    """One card, one employee, one role holding exactly ``rules``."""
    return compile_policy({
        "policy_id": "t", "version": "v7", "currency": "EUR", "timezone": "Europe/Berlin",
        "roles": {"r": rules}, "employees": {"e1": {"role": "r"}}, "cards": {"**** 1111": "e1"},
    })  # fmt: skip


def auth(p, merchant="SHELL", mcc="5541", amount="50.00", time=WEEKDAY_NOON, spent=ZERO):  # type: ignore[no-untyped-def]
    return p.authorize("**** 1111", merchant, mcc, eur(amount), time, spent_this_month=spent)


# (rules, approved purchase, declined purchase, the decline's reason code)
CASES = {
    "blocked_merchants": (
        {"blocked_merchants": ["GROSVENOR CASINO"]},
        {"merchant": "SHELL"},
        {"merchant": "Grosvenor Casino Leicester"},
        ReasonCode.MERCHANT_BLOCKED,
    ),
    "blocked_mccs": (
        {"blocked_mccs": ["7800-7802", "7995"]},
        {"mcc": "5541"},
        {"mcc": "7995"},
        ReasonCode.MCC_BLOCKED,
    ),
    "blocked_mcc_range": (
        {"blocked_mccs": ["7800-7802"]},
        {"mcc": "7803"},
        {"mcc": "7801"},
        ReasonCode.MCC_BLOCKED,
    ),
    "allowed_mccs": (
        {"allowed_mccs": ["5541", "5542"]},
        {"mcc": "5542"},
        {"mcc": "5812"},
        ReasonCode.MCC_NOT_ALLOWED,
    ),
    "allowed_categories": (
        {"allowed_categories": ["opex.vehicle_fuel"]},
        {"mcc": "5541"},
        {"mcc": "5944"},
        ReasonCode.CATEGORY_NOT_ALLOWED,
    ),
    "per_transaction_limit": (
        {"per_transaction_limit": "150.00"},
        {"amount": "150.00"},
        {"amount": "150.01"},
        ReasonCode.OVER_TRANSACTION_LIMIT,
    ),
    "monthly_limit": (
        {"monthly_limit": "1000.00"},
        {"amount": "100.00", "spent": eur("900.00")},
        {"amount": "100.01", "spent": eur("900.00")},
        ReasonCode.OVER_MONTHLY_LIMIT,
    ),
    "weekends": (
        {"weekends": False},
        {"time": WEEKDAY_NOON},
        {"time": SATURDAY_NOON},
        ReasonCode.WEEKEND_NOT_ALLOWED,
    ),
    "hours": (
        {"hours": ["06:00", "20:00"]},
        {"time": datetime(2026, 12, 2, 18, 59, tzinfo=UTC)},  # 19:59 in Berlin
        {"time": datetime(2026, 12, 2, 19, 0, tzinfo=UTC)},  # 20:00 in Berlin
        ReasonCode.OUTSIDE_HOURS,
    ),
    "hours_overnight": (
        {"hours": ["22:00", "06:00"]},
        {"time": datetime(2026, 12, 2, 23, 30, tzinfo=UTC)},  # 00:30 in Berlin
        {"time": WEEKDAY_NOON},
        ReasonCode.OUTSIDE_HOURS,
    ),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_each_rule_approves_and_declines(name: str) -> None:
    rules, ok, bad, code = CASES[name]
    p = policy(**rules)
    approved = auth(p, **ok)
    assert approved.decision is Decision.APPROVE
    assert approved.reason_codes == (ReasonCode.WITHIN_POLICY,)
    declined = auth(p, **bad)
    assert declined.decision is Decision.DECLINE
    assert code in declined.reason_codes


def test_review_above_amount_reviews_and_below_approves() -> None:
    p = policy(review_above="100.00", per_transaction_limit="500.00")
    assert auth(p, amount="100.00").decision is Decision.APPROVE
    review = auth(p, amount="100.01")
    assert review.decision is Decision.REVIEW
    assert review.reason_codes == (ReasonCode.REVIEW_AMOUNT,)
    declined = auth(p, amount="500.01")  # a decline is never softened to a review
    assert declined.decision is Decision.DECLINE
    assert ReasonCode.REVIEW_AMOUNT not in declined.reason_codes


def test_missing_mcc_under_an_allow_list_is_reviewed() -> None:
    p = policy(allowed_mccs=["5541"])
    assert auth(p, mcc="5541").decision is Decision.APPROVE
    assert auth(p, mcc="").reason_codes == (ReasonCode.REVIEW_UNKNOWN_MCC,)


def test_unknown_card_and_foreign_currency_are_declined() -> None:
    p = policy()
    assert auth(p).decision is Decision.APPROVE
    unknown = p.authorize("**** 9999", "SHELL", "5541", eur("5.00"), WEEKDAY_NOON,
                          spent_this_month=ZERO)  # fmt: skip
    assert unknown.reason_codes == (ReasonCode.UNKNOWN_CARD,)
    usd = p.authorize("**** 1111", "SHELL", "5541", Money.of("5.00", "USD"), WEEKDAY_NOON,
                      spent_this_month=ZERO)  # fmt: skip
    assert usd.decision is Decision.DECLINE
    assert usd.reason_codes == (ReasonCode.CURRENCY_MISMATCH,)


def test_employee_override_beats_role_and_the_record_is_auditable() -> None:
    doc = load_example_policy()
    p = compile_policy(doc)
    # e_driver_02 has a monthly limit of 800 instead of the drivers' 1,200
    spent = eur("750.00")
    one = p.authorize("**** 1111", "SHELL", "5541", eur("60.00"), WEEKDAY_NOON,
                      spent_this_month=spent)  # fmt: skip
    two = p.authorize("**** 2222", "SHELL", "5541", eur("60.00"), WEEKDAY_NOON,
                      spent_this_month=spent)  # fmt: skip
    assert one.decision is Decision.APPROVE
    assert two.reason_codes == (ReasonCode.OVER_MONTHLY_LIMIT,)
    rec = two.as_record()
    assert rec["policy_version"] == doc["version"] and rec["policy_id"] == doc["policy_id"]
    assert rec["inputs"]["employee_id"] == "e_driver_02"
    assert (
        rec["inputs"]["amount_minor"] == 6000 and rec["inputs"]["spent_this_month_minor"] == 75000
    )
    assert rec["source"] == f"rule:card_policy:{doc['policy_id']}@{doc['version']}"
    assert p.per_transaction_limits()["**** 3333"] == 50000


@pytest.mark.parametrize(
    "broken",
    [
        {"roles": {"r": {"blocked_mccs": ["99999"]}}},
        {"roles": {"r": {"hours": ["6am", "20:00"]}}},
        {"roles": {"r": {"per_transaction_limit": "1.234"}}},
        {"roles": {"r": {"colour": "red"}}},
        {"employees": {"e1": {"role": "nope"}}},
        {"cards": {"**** 1111": "ghost"}},
        {"currency": "XYZ"},
    ],
)
def test_broken_documents_are_refused(broken: dict) -> None:
    doc = {"policy_id": "t", "version": "1", "currency": "EUR", "roles": {"r": {}},
           "employees": {"e1": {"role": "r"}}, "cards": {"**** 1111": "e1"}}  # fmt: skip
    doc.update(broken)
    with pytest.raises(ValidationError):
        compile_policy(doc)
