"""Limits and offers on the synthetic test world: the decision columns of the fairness report.

Each test business goes through the production decide path (``decide.service.decide_business``:
signals from its lines with the world's categories standing in for enrichment, the 13-week
forecast, the rule tables, the risk model's probability) twice, as a bank would review it:

- **three months before the history end**: the card limit it had (``REVIEW_GAP_DAYS``);
- **at the history end**, where the distress truth is anchored: the new card limit (raised, held
  or lowered against the previous one, with the rules' hysteresis: the dead band on the amount
  and, for a worse band, the minimum rise of the probability since the first review) and the
  lending offers.

Decisions (1 = the outcome the business wants), each with the reason code behind a refusal:

- ``card_limit_not_lowered``: the card limit was raised or held at the review;
- ``card_limit_15pct_capacity``: the card limit is at least 15 % of monthly operating inflow
  less debt service (bands A–C are allowed 20–40 %, D 10 %, E 5 %; a likely forecast
  shortfall halves the target);
- ``credit_offered``: at least one of the five lending products offered;
- ``<product>_offered``: that product offered, judged only on businesses with the need it
  serves (invoices paid to them, a seasonal dip, net capacity for a term loan), found by asking
  the same rules with the best band and a long history, so need is not mistaken for bias.

The business is seen over the same 6, 12 or 18-month window as the risk evaluation
(``risk_data``), so history length is the "business age" axis. Work runs in a process pool.
"""

from __future__ import annotations

import csv
from concurrent.futures import ProcessPoolExecutor
from dataclasses import replace
from datetime import timedelta
from pathlib import Path
from typing import Any

import numpy as np

from ledgerlens.ml.fairness import DecisionColumn

__all__ = ["OFFER_PRODUCTS", "REVIEW_GAP_DAYS", "decision_columns", "review_business"]

REVIEW_GAP_DAYS = 91
LIMIT_SHARE_PCT = 15  # card limit / capacity: bands A-C reach it unless a shortfall halves it
OFFER_PRODUCTS = ("overdraft", "credit_line", "invoice_financing", "seasonal_line", "term_loan")
# the business's own figures rule the product out: it has no need for it (decide.offers)
_NO_NEED = frozenset(
    {"OFFER_NO_INFLOW", "OFFER_NO_INVOICES", "OFFER_NOT_SEASONAL", "OFFER_NO_NET_CAPACITY"}
)

_STATE: dict[str, Any] = {}


def _init(model_json: bytes, version: str) -> None:
    """Per worker: the model, rule tables, catalog and ECB rates, loaded once."""
    from ledgerlens.analyze.risk.model import RiskModel
    from ledgerlens.decide.recommend import load_catalog
    from ledgerlens.decide.rules import DecisionRules
    from ledgerlens.enrich.transfers import EcbRates

    _STATE.update(
        model=RiskModel.from_json(model_json),
        version=version,
        rules=DecisionRules.load(),
        catalog=load_catalog(),
        fx=EcbRates.load(),
    )


def _risk(bid: str, probability: float) -> Any:
    from ledgerlens.analyze.risk.model import band_of
    from ledgerlens.decide.model import RiskAssessment

    return RiskAssessment(
        bid, probability, band_of(probability), (), f"model:risk@{_STATE['version']}"
    )


def _decide(job: dict[str, Any], txs: list[Any], probability: float, consented: bool) -> Any:
    from ledgerlens.decide.service import decide_business, forecast_business

    bid, base, accounts = job["business_id"], job["base_currency"], job["accounts"]
    as_of = max(t.booking_date for t in txs)
    fx = _STATE["fx"]
    rates = {
        a.currency: (fx.rate(a.currency, base, as_of) or (1.0,))[0]
        for a in accounts
        if a.currency != base
    }
    fc = forecast_business(bid, base, accounts, txs, fx_to_base=rates)
    return decide_business(
        bid,
        base,
        accounts,
        txs,
        _STATE["rules"],
        _STATE["catalog"],
        consented=consented,
        categories=job["categories"],
        forecast_result=fc,
        risk=_risk(bid, probability),
        fx_rates=fx,
        previous_limits=job.get("previous_limits"),
        previous_probability=job.get("previous_probability"),
    )


def _refusal(codes: tuple[str, ...]) -> str:
    """The code that refused an offer: the eligibility rule's own code when the table said no
    (``ELIG_RISK_BAND_E``, ``ELIG_HISTORY_UNDER_6M``…), else the blocker (``OFFER_TOO_SMALL``…)."""
    if "OFFER_NOT_ELIGIBLE" in codes:
        return next((c for c in codes if c.startswith("ELIG_")), "OFFER_NOT_ELIGIBLE")
    blockers = [c for c in codes if c.startswith("OFFER_") and c != "OFFER_MADE"]
    return blockers[-1] if blockers else (codes[-1] if codes else "")


def review_business(job: dict[str, Any]) -> dict[str, Any]:
    """Both reviews of one business (a pool task); plain values out."""
    from ledgerlens.analyze.risk.features import build_features
    from ledgerlens.decide.offers import decide_offers
    from ledgerlens.ingest.formats.canonical_csv import read_canonical_transactions
    from ledgerlens.ml.risk_data import history_start

    txs = read_canonical_transactions(Path(job["csv"]))
    end = max(t.booking_date for t in txs)
    txs = [t for t in txs if t.booking_date >= history_start(end, job["months"])]
    earlier = end - timedelta(days=REVIEW_GAP_DAYS)
    before = [t for t in txs if t.booking_date <= earlier] or txs[:1]
    model = _STATE["model"]
    p_before = float(model.predict_proba([build_features(before).values])[0, 1])
    first = _decide(job, before, p_before, consented=False)
    previous = {d.subject.removesuffix("_limit"): d.outputs["limit_minor"] for d in first.limits}
    now = _decide(
        {**job, "previous_limits": previous, "previous_probability": p_before},
        txs,
        job["probability"],
        consented=True,
    )
    card = next(d for d in now.limits if d.subject == "card_limit")
    out: dict[str, Any] = {
        "business_id": job["business_id"],
        "band_before": first.risk.risk_band,
        "probability_before": p_before,
        "band": now.risk.risk_band,
        "card_change": card.outputs["change"],
        "card_limit_minor": card.outputs["limit_minor"],
        "card_target_minor": card.outputs["target_minor"],
        "card_previous_minor": previous.get("card", 0),
        "card_codes": list(card.reason_codes),
        "monthly_inflow_minor": now.signals.monthly_inflow_minor,
        "capacity_minor": now.signals.monthly_inflow_minor - now.signals.debt_service_minor,
        "capacity_before_minor": (
            first.signals.monthly_inflow_minor - first.signals.debt_service_minor
        ),
    }
    # need: the same rules asked with the best band and a long history
    best = decide_offers(
        replace(now.signals, history_months=max(now.signals.history_months, 24)),
        _risk(job["business_id"], 0.0),
        _STATE["rules"],
    )
    needs = {d.subject: not (_NO_NEED & set(d.reason_codes)) for d in best}
    for d in now.offers:
        out[f"{d.subject}_offered"] = bool(d.outputs["offered"])
        out[f"{d.subject}_needed"] = needs[d.subject]
        out[f"{d.subject}_refusal"] = "" if d.outputs["offered"] else _refusal(d.reason_codes)
    return out


def _limit_lowered_cause(r: dict[str, Any]) -> str:
    """Why the card limit went down, from the decision's own figures."""
    if "LIMIT_FORECAST_SHORTFALL" in r["card_codes"]:
        return "LIMIT_FORECAST_SHORTFALL"
    if r["band"] > r["band_before"] and "LIMIT_BAND_WITHIN_NOISE" not in r["card_codes"]:
        return "LIMIT_BAND_WORSE"
    return "LIMIT_INFLOW_FELL"


def _columns(rows: list[dict[str, Any]]) -> dict[str, DecisionColumn]:
    cols: dict[str, DecisionColumn] = {}
    lowered = [r["card_change"] == "lowered" for r in rows]
    cols["card_limit_not_lowered"] = DecisionColumn(
        [int(not x) for x in lowered],
        f"card limit raised or held at the review {REVIEW_GAP_DAYS} days after the last",
        refusals=[_limit_lowered_cause(r) if x else "" for r, x in zip(rows, lowered, strict=True)],
    )
    generous = [
        r["capacity_minor"] > 0
        and r["card_limit_minor"] * 100 >= LIMIT_SHARE_PCT * r["capacity_minor"]
        for r in rows
    ]
    cols[f"card_limit_{LIMIT_SHARE_PCT}pct_capacity"] = DecisionColumn(
        [int(x) for x in generous],
        f"card limit at least {LIMIT_SHARE_PCT} % of monthly operating inflow less debt service",
        refusals=[
            ""
            if x
            else (
                "LIMIT_FORECAST_SHORTFALL"
                if "LIMIT_FORECAST_SHORTFALL" in r["card_codes"]
                else f"RISK_BAND_{r['band']}"
            )
            for r, x in zip(rows, generous, strict=True)
        ],
    )
    any_offer = [any(r[f"{p}_offered"] for p in OFFER_PRODUCTS) for r in rows]
    cols["credit_offered"] = DecisionColumn(
        [int(x) for x in any_offer],
        "at least one lending product offered (overdraft, credit line, invoice financing, "
        "seasonal line, term loan)",
        refusals=[
            "" if x else r["overdraft_refusal"] for r, x in zip(rows, any_offer, strict=True)
        ],
    )
    for p in OFFER_PRODUCTS:
        cols[f"{p}_offered"] = DecisionColumn(
            [int(r[f"{p}_offered"]) for r in rows],
            f"{p.replace('_', ' ')} offered, among businesses with the need it serves",
            applies=[bool(r[f"{p}_needed"]) for r in rows],
            refusals=[r[f"{p}_refusal"] for r in rows],
        )
    return cols


def decision_columns(
    world_dir: Path,
    business_ids: list[str],
    history_months: list[int],
    probabilities: np.ndarray,
    model_json: bytes,
    version: str,
    *,
    workers: int = 2,
    log: Any = lambda _m: None,
) -> tuple[dict[str, DecisionColumn], dict[str, Any]]:
    """(decision columns in ``business_ids`` order, a summary of what was decided)."""
    from ledgerlens.ml.synth_data import _read_accounts, load_truth

    world_dir = Path(world_dir)
    accounts = _read_accounts(world_dir)
    with (world_dir / "businesses.csv").open(encoding="utf-8", newline="") as fh:
        base = {r["business_id"]: r["base_currency"] for r in csv.DictReader(fh)}
    log("reading the categories (stand-in for enrichment)")
    truth = load_truth(world_dir)
    jobs = [
        {
            "business_id": bid,
            "csv": str(world_dir / "csv" / f"{bid}.csv"),
            "base_currency": base[bid],
            "accounts": accounts.get(bid, []),
            "categories": dict(truth[bid].category) if bid in truth else {},
            "months": months,
            "probability": float(p),
        }
        for bid, months, p in zip(business_ids, history_months, probabilities, strict=True)
    ]
    log(f"limits and offers: two reviews of {len(jobs)} businesses")
    if workers > 1:
        with ProcessPoolExecutor(workers, initializer=_init, initargs=(model_json, version)) as ex:
            rows = list(ex.map(review_business, jobs, chunksize=4))
    else:
        _init(model_json, version)
        rows = [review_business(j) for j in jobs]
    changes = {c: sum(r["card_change"] == c for r in rows) for c in ("raised", "held", "lowered")}
    summary = {
        "review_gap_days": REVIEW_GAP_DAYS,
        "card_limit_changes": changes,
        "band_moves": {
            "worse": sum(r["band"] > r["band_before"] for r in rows),
            "same": sum(r["band"] == r["band_before"] for r in rows),
            "better": sum(r["band"] < r["band_before"] for r in rows),
        },
        "band_worse_within_noise": sum("LIMIT_BAND_WITHIN_NOISE" in r["card_codes"] for r in rows),
        "mean_probability_before": round(
            float(np.mean([r["probability_before"] for r in rows])), 4
        ),
        "mean_probability": round(float(np.mean(probabilities)), 4),
        "mean_abs_probability_change": round(
            float(
                np.mean(np.abs(np.asarray(probabilities) - [r["probability_before"] for r in rows]))
            ),
            4,
        ),
        "offered": {p: sum(r[f"{p}_offered"] for r in rows) for p in OFFER_PRODUCTS},
        "needed": {p: sum(r[f"{p}_needed"] for r in rows) for p in OFFER_PRODUCTS},
        "as_of_note": "decisions at each business's history end; previous limit "
        f"{REVIEW_GAP_DAYS} days earlier",
    }
    return _columns(rows), summary
