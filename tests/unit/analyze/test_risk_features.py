"""Cash-flow features of the risk score, each checked against a ledger computed by hand."""

from __future__ import annotations

from datetime import timedelta

import pytest

from ledgerlens.analyze.risk.features import FEATURES, MONOTONE, build_features, feature_matrix

from .risk_builders import START, Ledger, steady_business


def test_feature_schema_has_a_direction_for_every_feature() -> None:
    assert set(MONOTONE) == set(FEATURES)
    assert MONOTONE["days_below_zero_share"] == 1
    assert MONOTONE["months_of_cash"] == -1


def test_days_below_zero_counts_end_of_day_balances_carried_forward() -> None:
    led = Ledger(opening_minor=0)
    led.add(0, 10_000, name="A")
    led.add(2, -30_000, name="SUPPLIER")  # -20 000 from day 2 ...
    led.add(7, 50_000, name="A")  # ... to day 6: 5 of 10 days
    led.add(9, -1_000, name="SUPPLIER")
    f = build_features(led.lines).as_dict()
    assert f["days_below_zero_share"] == pytest.approx(0.5)


def test_one_customer_means_full_concentration_two_equal_means_half() -> None:
    one = Ledger()
    two = Ledger()
    for m in range(6):
        one.add(m * 30, 100_000, name="ONLY CUSTOMER")
        two.add(m * 30, 50_000, name="CUSTOMER A")
        two.add(m * 30 + 1, 50_000, name="CUSTOMER B")
    assert build_features(one.lines).as_dict()["inflow_hhi"] == pytest.approx(1.0)
    assert build_features(two.lines).as_dict()["inflow_hhi"] == pytest.approx(0.5)


def test_own_account_moves_are_neither_revenue_nor_cost() -> None:
    led = steady_business(months=6)
    base = build_features(led.lines).as_dict()
    led2 = steady_business(months=6)
    led2.add(40, -700_000, text="to savings")
    led2.add(41, 700_000, account="acc2", text="from current")
    moved = build_features(led2.lines).as_dict()
    assert moved["net_margin"] == pytest.approx(base["net_margin"])
    assert moved["inflow_hhi"] == pytest.approx(base["inflow_hhi"])


def test_loan_repayments_by_keyword_or_by_category_make_debt_service() -> None:
    led = steady_business(months=6, revenue_minor=1_000_000)
    for m in range(6):
        led.add(m * 30 + 15, -100_000, name="BANK LOAN", text="LOAN PMT 123")
    f = build_features(led.lines).as_dict()
    assert f["debt_service_ratio"] == pytest.approx(0.1, rel=1e-6)

    plain = steady_business(months=6, revenue_minor=1_000_000)
    ids = [
        plain.add(m * 30 + 15, -100_000, name="ACME FINANCE", text="monthly").transaction_id
        for m in range(6)
    ]
    assert build_features(plain.lines).as_dict()["debt_service_ratio"] == 0.0
    cats = {tid: "financing.loan_repayment" for tid in ids}
    assert build_features(plain.lines, categories=cats).as_dict()[
        "debt_service_ratio"
    ] == pytest.approx(0.1, rel=1e-6)


def test_returned_direct_debits_are_counted() -> None:
    led = steady_business(months=6)
    clean = build_features(led.lines).as_dict()["returned_items_per_month"]
    led.add(50, 20_000, text="RUECKLASTSCHRIFT Rücklastschrift MREF+1")
    led.add(80, 20_000, text="RETURNED DD unpaid")
    assert clean == 0.0
    assert build_features(led.lines).as_dict()["returned_items_per_month"] > 0.0


def test_growth_and_recent_change_follow_the_revenue_trend() -> None:
    up = build_features(steady_business(12, growth=0.05).lines).as_dict()
    down = build_features(steady_business(12, growth=-0.05).lines).as_dict()
    flat = build_features(steady_business(12).lines).as_dict()
    assert (
        up["revenue_growth_monthly"]
        > flat["revenue_growth_monthly"]
        > down["revenue_growth_monthly"]
    )
    assert up["recent_revenue_change"] > 0 > down["recent_revenue_change"]


def test_a_silent_biggest_customer_and_late_payers_are_seen() -> None:
    led = Ledger(opening_minor=1_000_000)
    for m in range(12):
        if m < 8:
            led.add(m * 30 + 2, 900_000, name="BIG CUSTOMER")
        # a small customer paying at erratic intervals (late)
        led.add(m * 30 + (0 if m % 2 else 25), 50_000, name="SLOW PAYER")
        led.add(m * 30 + 20, -100_000, name="RENT")
    f = build_features(led.lines).as_dict()
    assert f["top_customer_silence"] > 3.0
    assert f["late_payer_share"] == pytest.approx(0.5)
    on_time = build_features(steady_business(12).lines).as_dict()
    assert on_time["late_payer_share"] == 0.0
    assert on_time["top_customer_silence"] < 1.5


def test_as_of_ignores_later_lines_and_short_history_is_young() -> None:
    led = steady_business(months=12)
    cut = START + timedelta(days=95)
    f = build_features(led.lines, as_of=cut)
    assert f.as_of == cut
    # the first line is on day 3
    assert f.as_dict()["business_age_months"] == pytest.approx((95 - 3 + 1) / 30.4375)
    assert f.transactions == sum(t.booking_date <= cut for t in led.lines)


def test_more_cash_means_more_months_of_cash() -> None:
    thin = build_features(steady_business(6, opening_minor=0).lines).as_dict()
    thick = build_features(steady_business(6, opening_minor=5_000_000).lines).as_dict()
    assert thick["months_of_cash"] > thin["months_of_cash"]
    assert thick["min_balance_months"] > thin["min_balance_months"]


def test_matrix_and_errors() -> None:
    rows = [build_features(steady_business(3).lines) for _ in range(2)]
    assert feature_matrix(rows).shape == (2, len(FEATURES))
    with pytest.raises(ValueError):
        build_features([])


def test_an_empty_annotation_map_means_not_enriched() -> None:
    led = steady_business(months=6)
    led.add(40, -700_000, text="to savings")
    led.add(41, 700_000, account="acc2", text="from current")
    bare = build_features(led.lines).values
    assert build_features(led.lines, categories={}).values == bare
    tagged = {t.transaction_id: "transfer.internal" for t in led.lines[-2:]}
    assert build_features(led.lines, categories=tagged).values == bare
