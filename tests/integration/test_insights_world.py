"""Insights over every business of a small synthetic world, refreshed weekly: the last eight
weeks of the history and the 13 hidden weeks after it (each refresh fed only the lines up to
its day; ``ml.insight_eval``).

Checks, on every insight: evidence, source and confidence are present; every money figure in
the message is one of the evidence figures; the evidence figures agree with the transactions
they cite. Then the noise and recall figures of issue 8: ≤ 3 insights per business per week on
average over all 21 weeks while ≥ 90 % of the true anomalies are raised by the refresh that
first sees them and ≥ 90 % of the true cash gaps are warned of at least a day before the
balance goes below zero (this world, seed 4242: 3 gaps, all foreseeable, warned 22–51 days
ahead; 28 anomaly lines, all in the history). The older measure, warned at the history end,
reaches 2 of the 3 there.
"""

from __future__ import annotations

import re

import pytest

from ledgerlens.core.ledger import Transaction
from ledgerlens.explain.model import Insight, InsightKind
from ledgerlens.explain.render import renderer
from ledgerlens.ml.insight_eval import WorldRun, noise_recall, replay_world
from ledgerlens.ml.synth_data import write_synthetic_world

N_BUSINESSES = 12
MONEY = re.compile(r"-?(?:US\$|£|€|\$)\d[\d,]*\.\d\d|-?\d[\d.]*,\d\d\s?(?:£|€|\$)")


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> WorldRun:
    world = write_synthetic_world(N_BUSINESSES, 9, 4242, tmp_path_factory.mktemp("w"), workers=1)
    return replay_world(world, weeks=8, weeks_ahead=13)


def _all(run: WorldRun) -> list[Insight]:
    return [i for v in run.final.values() for i in v] + [
        i for v in run.candidates.values() for i in v
    ]


def test_every_insight_has_evidence_source_and_confidence(run: WorldRun) -> None:
    items = _all(run)
    assert len(items) >= N_BUSINESSES
    for i in items:
        assert i.evidence and i.source and 0.0 < i.confidence <= 1.0, i.insight_id
        assert i.source.startswith(("rule:", "model:")), i.source
        assert i.title and i.message and i.dedup_key


def test_every_money_figure_in_a_message_is_an_evidence_figure(run: WorldRun) -> None:
    checked = 0
    for i in _all(run):
        r = renderer(i.language)
        money = [(f.amount_minor, f.currency) for f in i.evidence if f.amount_minor is not None]
        allowed = {r.money(a, c) for a, c in money} | {r.money(-a, c) for a, c in money}
        for token in MONEY.findall(i.message):
            assert token in allowed, (i.kind, token, i.message)
            checked += 1
    assert checked > 20


def test_evidence_figures_match_the_transactions_they_cite(run: WorldRun) -> None:
    txs: dict[str, Transaction] = {
        t.transaction_id: t for d in run.businesses for t in d.transactions
    }
    checked = 0
    for i in _all(run):
        cited = [txs[t] for t in i.transaction_ids]
        if i.kind in (InsightKind.UNUSUAL_TRANSACTION, InsightKind.CARD_POLICY):
            assert i.figure("amount").amount_minor == sum(abs(t.amount_minor) for t in cited)
            checked += 1
        elif i.kind is InsightKind.DUPLICATE_PAYMENT:
            first, second = cited
            assert i.figure("amount").amount_minor == abs(second.amount_minor)
            assert i.figure("earlier payment").amount_minor == abs(first.amount_minor)
            checked += 1
        elif i.kind is InsightKind.PRICE_RISE:
            assert i.figure("new amount").amount_minor == abs(cited[0].amount_minor)
            checked += 1
        elif i.kind is InsightKind.TAX_DUE and any(
            f.label == "output_vat_minor" for f in i.evidence
        ):
            out, inp = i.figure("output_vat_minor"), i.figure("input_vat_minor")
            assert i.figure("estimated amount").amount_minor == (out.amount_minor or 0) - (
                inp.amount_minor or 0
            )
            checked += 1
        elif i.kind is InsightKind.TAX_DUE:  # estimated from the last payments of that tax
            paid = [txs[t] for t in str(i.figure("transaction_ids").value).split(",")]
            mean = round(sum(-t.amount_minor for t in paid) / len(paid))
            assert i.figure("estimated amount").amount_minor == mean
            assert i.figure("mean_payment_minor").amount_minor == mean
            checked += 1
    assert checked >= 10


def test_noise_and_recall(run: WorldRun) -> None:
    figures = noise_recall(run)
    print("\n", figures)
    f = {k: v for k, v in figures.items() if not isinstance(v, str)}  # the numbers
    assert f["weeks"] == 21 and f["insights_per_business_week"] <= 3.0
    assert f["true_anomaly_lines"] >= 5 and f["anomaly_recall"] >= 0.9
    # every true gap warned of, about its weeks, at least a week before the balance is negative
    assert f["gaps"] == 3 and f["gap_recall"] >= 0.9 and f["lead_days_min"] >= 7
    assert f["flagged_gaps"] >= 1 and f["flagged_gaps_raised"] == 1.0
    assert f["gaps_missed_held_by_ranking"] == 0
    # more warnings about real short weeks than false alarms
    assert f["cash_warnings_on_target"] > f["cash_warnings_false_alarm"]
    # the older measure (history weeks only, warned at the history end) is kept beside it
    # (on this small world it is 1 or 2 of 3 gaps depending on the forecast version; a warning
    # at the history end is also a warning before the gap, so it can never exceed the above)
    assert f["history_end_gap_recall"] <= f["gap_recall"]
    assert f["history_end_anomaly_recall"] >= 0.9


def test_hidden_weeks_are_replayed_with_their_lines(run: WorldRun) -> None:
    ahead = [r for r in run.refreshes if r.origin > run.history_end]
    assert len(ahead) == 13 * N_BUSINESSES
    assert all(r.lines_until is not None and r.lines_until <= r.origin for r in run.refreshes)
    # the hidden lines really arrive, week by week
    assert all(r.lines_until is not None and r.lines_until > run.history_end for r in ahead)
    for b, refs in run.by_business.items():
        fed = [r.lines_fed for r in refs]
        assert fed == sorted(fed) and fed[-1] > fed[run.weeks - 1], b
