"""Anomaly rules and misuse rules on a hand-built business: each fires, and only where it should."""

from __future__ import annotations

from datetime import timedelta

import numpy as np

from ledgerlens.analyze.anomalies import build_features, detect_anomalies, detect_misuse, run_rules
from ledgerlens.analyze.anomalies.features import group_median

from .anomaly_builders import START, ordinary_business


def _verdict(book, tid):  # type: ignore[no-untyped-def]
    return detect_anomalies(book.lines).by_transaction().get(tid)


def test_ordinary_business_raises_nothing() -> None:
    report = detect_anomalies(ordinary_business().lines)
    assert report.alerts == ()
    assert report.n_transactions > 500


def test_group_median_matches_numpy_per_group() -> None:
    codes = np.array([0, 1, 0, 1, 1, 2])
    vals = np.array([5.0, 1.0, 7.0, 3.0, 2.0, 9.0])
    assert group_median(codes, vals).tolist() == [6.0, 2.0, 6.0, 2.0, 2.0, 9.0]


def test_duplicate_payment_is_raised_with_its_earlier_twin() -> None:
    book = ordinary_business()
    first = book.add(120, -731_455, "SEPA CT Lehmann Catering SVWZ INV 6067", "Lehmann Catering")
    dup = book.add(122, -731_455, "SEPA CT Lehmann Catering SVWZ INV 6067", "Lehmann Catering")
    other_ref = book.add(
        200, -731_455, "SEPA CT Lehmann Catering SVWZ INV 6099", "Lehmann Catering"
    )
    report = detect_anomalies(book.lines).by_transaction()
    v = report[dup.transaction_id]
    assert v.is_anomaly and v.kind == "duplicate_payment"
    assert v.source == "rule:anomaly.duplicate_payment"
    assert ("earlier payment", first.transaction_id) in v.evidence
    assert "7,314.55 EUR" in v.reasons[0]
    assert report[first.transaction_id].kind != "duplicate_payment"  # (it is a new payee)
    assert other_ref.transaction_id not in report or report[other_ref.transaction_id].kind != (
        "duplicate_payment"
    )


def test_new_payee_with_a_large_amount_but_not_a_known_one() -> None:
    book = ordinary_business()
    new = book.add(150, -4_500_000, "SEPA CT Northgate Consulting INV 656", "Northgate Consulting")
    known = book.add(160, -300_000, "SEPA CT Weber Imports KG INV x", "Weber Imports KG",
                     iban="DE00123456789012340")  # fmt: skip
    v = _verdict(book, new.transaction_id)
    assert v.is_anomaly and v.kind == "new_payee_large"
    assert "First ever payment to Northgate Consulting" in v.reasons[0]
    w = _verdict(book, known.transaction_id)
    assert w is None or w.kind != "new_payee_large"


def test_new_payee_in_the_first_month_is_not_judged() -> None:
    book = ordinary_business()
    early = book.add(10, -4_500_000, "SEPA CT Northgate Consulting INV 656", "Northgate Consulting")
    v = _verdict(book, early.transaction_id)
    assert v is None or v.kind != "new_payee_large"


def test_spike_on_a_steady_bill() -> None:
    book = ordinary_business()
    spike = next(t for t in book.lines if t.counterparty_name == "STADTWERKE" and t.booking_date
                 > START + timedelta(days=150))  # fmt: skip
    book.lines[book.lines.index(spike)] = type(spike)(**{
        **{s: getattr(spike, s) for s in spike.__slots__}, "amount_minor": -55_000})  # fmt: skip
    v = _verdict(book, spike.transaction_id)
    assert v.is_anomaly and v.kind == "amount_spike"
    assert "times its usual" in v.reasons[0]


def test_card_testing_burst_is_one_incident() -> None:
    book = ordinary_business()
    burst = [book.add(90, -(60 + 17 * k), "DIGI-STORE24 ONLINE INTERNET CD 2222", "DIGI-STORE24",
                      mcc="5816", card="**** 2222", employee="e2") for k in range(7)]  # fmt: skip
    report = detect_anomalies(book.lines)
    alerts = [a for a in report.alerts if a.kind == "card_testing"]
    assert {a.transaction_id for a in alerts} == {t.transaction_id for t in burst}
    assert {a.incident_id for a in alerts} == {burst[0].transaction_id}


def test_three_small_coffees_are_not_a_burst() -> None:
    book = ordinary_business()
    for k in range(3):
        book.add(91, -(250 + k), "COSTA COFFEE", "COSTA COFFEE", mcc="5814", card="**** 1111")
    assert detect_anomalies(book.lines).alerts == ()


def test_casino_on_saturday_night_is_card_misuse() -> None:
    book = ordinary_business()
    sat = START + timedelta(days=110 + (5 - (START + timedelta(days=110)).weekday()) % 7)
    day = (sat - START).days
    casino = book.add(day, -48_000,
                      f"Kartenzahlung girocard SPIELBANK//Berlin/DE {sat:%d.%m.%Y} 23:40 Karte",
                      "SPIELBANK", mcc="7995", card="**** 1111", employee="e1")  # fmt: skip
    v = _verdict(book, casino.transaction_id)
    assert v.is_anomaly and v.kind == "card_misuse"
    assert "gambling" in v.reasons[0] and "Saturday" in v.reasons[0] and "23:00" in v.reasons[0]
    f = build_features(book.lines)
    assert f.hour[book.lines.index(casino)] == 23


def test_split_purchase_under_the_policy_limit() -> None:
    book = ordinary_business()
    parts = [book.add(140, -amount, "Kartenzahlung girocard BAUHAUS//Berlin/DE 14:10 Karte",
                      "BAUHAUS", mcc="5200", card="**** 1111", employee="e1")
             for amount in (14_000, 13_500)]  # fmt: skip
    limits = {"**** 1111": 15_000}
    f = build_features(book.lines)
    hits = [h for h in detect_misuse(f, book.lines, limits=limits) if h.rule_id ==
            "misuse.split_purchase"]  # fmt: skip
    assert {book.lines[h.index].transaction_id for h in hits} == {p.transaction_id for p in parts}
    assert not [h for h in detect_misuse(f, book.lines, limits={"**** 1111": 30_000})
                if h.rule_id == "misuse.split_purchase"]  # fmt: skip
    report = detect_anomalies(book.lines, limits=limits)
    assert {a.transaction_id for a in report.alerts} == {p.transaction_id for p in parts}


def test_weekend_fuel_and_big_cash_compare_an_employee_with_colleagues() -> None:
    book = ordinary_business()
    for week in range(20, 30):
        sat = 7 * week + 5
        book.add(sat, -6_000, "ARAL WEEKEND", "ARAL", mcc="5541", card="**** 3333", employee="e3")
    for k in range(5):
        book.add(30 + k * 20, -10_000, "ATM CASH", "", mcc="6011", card="**** 1111", employee="e1")
    big = book.add(200, -60_000, "ATM CASH", "", mcc="6011", card="**** 1111", employee="e1")
    f = build_features(book.lines)
    rules = {(h.rule_id, book.lines[h.index].transaction_id) for h in detect_misuse(f, book.lines)}
    assert ("misuse.round_cash", big.transaction_id) in rules
    assert sum(r == "misuse.weekend_fuel" for r, _ in rules) == 10
    profile = {h.rule_id for h in detect_misuse(build_features(ordinary_business().lines),
                                                ordinary_business().lines)}  # fmt: skip
    assert "misuse.weekend_fuel" not in profile and "misuse.round_cash" not in profile


def test_internal_transfer_legs_are_not_new_payees() -> None:
    book = ordinary_business()
    out = book.add(150, -4_000_000, "UMBUCHUNG AUF SPARKONTO", "Own Savings", account="a1")
    book.add(150, 4_000_000, "UMBUCHUNG VON GIROKONTO", "Own Current", account="a2")
    f = build_features(book.lines)
    assert f.internal[book.lines.index(out)]
    assert not [h for h in run_rules(f, book.lines) if book.lines[h.index] is out]
