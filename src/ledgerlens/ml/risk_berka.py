"""The risk model on real data: PKDD'99 "Berka" Czech bank loans (see the folder's PROVENANCE.md).

354 accounts hold a loan whose transactions are in ``trans_test.csv``; ``loan_status_full.csv``
labels them (B = finished unpaid, D = running in debt → bad; A, C → good: 30 bad). For each loan
the features use ONLY transactions booked before the loan date, so nothing from the loan's own
life (its repayments, its arrears) leaks into the score.

Compared in the same run, on the same folds (repeated stratified 5-fold cross-validation, fixed
seed): our features + monotone LightGBM (refit per fold, calibrated inside the fold), a logistic
regression on simple aggregates (mean / min balance, mean monthly credits and debits, number of
lines, history length), and the synthetic-trained model applied as is (no refit: how far the
synthetic world transfers to real accounts).
"""

from __future__ import annotations

import csv
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np

from ledgerlens.analyze.risk.features import RiskFeatures, build_features, feature_matrix
from ledgerlens.core.ledger import Transaction

__all__ = ["BERKA_DIR", "SPLIT_SEED", "berka_dataset", "evaluate_berka"]

BERKA_DIR = "pkdd99-berka-czech-bank"
SPLIT_SEED = 20261204
FOLDS, REPEATS = 5, 5
_BAD = {"B", "D"}


def _yymmdd(text: str) -> date:
    t = text.strip()
    return date(1900 + int(t[:2]), int(t[2:4]), int(t[4:6]))


def _read(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as fh:
        return [
            {k.strip('"'): (v or "").strip('"') for k, v in row.items()}
            for row in csv.DictReader(fh, delimiter=";")
        ]


def berka_dataset(folder: Path) -> tuple[list[RiskFeatures], np.ndarray, np.ndarray]:
    """(features, labels, simple aggregates) per loan, from transactions before its date."""
    loans = {r["account_id"]: r for r in _read(folder / "loan_test.csv")}
    with (folder / "loan_status_full.csv").open(encoding="utf-8", newline="") as fh:
        status = {r["loan_id"]: r["status"] for r in csv.DictReader(fh)}
    by_account: dict[str, list[Transaction]] = {}
    for r in _read(folder / "trans_test.csv"):
        acc = r["account_id"]
        if acc not in loans:
            continue
        booked = _yymmdd(r["date"])
        if booked >= _yymmdd(loans[acc]["date"]):
            continue  # only what the bank knew when it granted the loan
        sign = 1 if r["type"] == "credit" else -1
        partner = f"{r['bank']} {r['account']}".strip()
        by_account.setdefault(acc, []).append(
            Transaction(
                transaction_id=f"berka{r['trans_id']}",
                business_id=f"berka{acc}",
                account_id=f"berka{acc}",
                booking_date=booked,
                value_date=booked,
                amount_minor=sign * round(float(r["amount"]) * 100),
                currency="CZK",
                description=f"{r['operation']} {r['k_symbol']}".strip(),
                counterparty_name=partner,
                balance_after_minor=round(float(r["balance"]) * 100),
                bank_reference=r["trans_id"],
            )
        )
    feats, labels, aggs = [], [], []
    for acc, loan in sorted(loans.items(), key=lambda kv: int(kv[0])):
        txs = by_account.get(acc)
        if not txs:
            continue
        txs.sort(key=lambda t: (t.booking_date, int(t.bank_reference)))
        feats.append(build_features(txs))
        labels.append(int(status[loan["loan_id"]] in _BAD))
        aggs.append(_aggregates(txs))
    return feats, np.asarray(labels), np.asarray(aggs, dtype=np.float64)


def _aggregates(txs: list[Transaction]) -> list[float]:
    """The baseline's inputs: what a credit analyst reads off a statement in a minute."""
    bal = np.asarray([t.balance_after_minor or 0 for t in txs], dtype=np.float64) / 100
    amt = np.asarray([t.amount_minor for t in txs], dtype=np.float64) / 100
    months = max((txs[-1].booking_date - txs[0].booking_date).days / 30.4375, 1.0)
    return [
        bal.mean(),
        bal.min(),
        amt[amt > 0].sum() / months,
        -amt[amt < 0].sum() / months,
        len(txs) / months,
        months,
    ]


def evaluate_berka(
    folder: Path,
    synthetic_model: Any | None = None,
    *,
    model_params: dict | None = None,
    repeats: int = REPEATS,
) -> dict[str, Any]:
    """Out-of-fold AUCs of our model and the baseline on the same folds; see the module doc."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import roc_auc_score
    from sklearn.model_selection import RepeatedStratifiedKFold
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    from ledgerlens.analyze.risk.model import RiskModel

    feats, y, aggs = berka_dataset(folder)
    X = feature_matrix(feats)
    params = {
        "n_estimators": 150,
        "num_leaves": 4,
        "min_child_samples": 10,
        "calibration": "platt",
        **(model_params or {}),
    }
    cv = RepeatedStratifiedKFold(n_splits=FOLDS, n_repeats=repeats, random_state=SPLIT_SEED)
    ours, base = [], []
    oof_ours = np.zeros((repeats, len(y)))
    oof_base = np.zeros((repeats, len(y)))
    for k, (tr, te) in enumerate(cv.split(X, y)):
        rep = k // FOLDS
        m = RiskModel(**params, random_state=k).fit(X[tr], y[tr])
        oof_ours[rep, te] = m.decision_function(X[te])
        lr = make_pipeline(StandardScaler(), LogisticRegression(max_iter=2000, C=1.0))
        oof_base[rep, te] = lr.fit(aggs[tr], y[tr]).predict_proba(aggs[te])[:, 1]
    for rep in range(repeats):
        ours.append(roc_auc_score(y, oof_ours[rep]))
        base.append(roc_auc_score(y, oof_base[rep]))
    out: dict[str, Any] = {
        "loans": len(y),
        "bad": int(y.sum()),
        "split": f"repeated stratified {FOLDS}-fold CV × {repeats} repeats, seed {SPLIT_SEED}; "
        "features from transactions before each loan date only",
        "lightgbm_auc_mean": round(float(np.mean(ours)), 4),
        "lightgbm_auc_sd": round(float(np.std(ours)), 4),
        "logreg_auc_mean": round(float(np.mean(base)), 4),
        "logreg_auc_sd": round(float(np.std(base)), 4),
        "lightgbm_params": params,
        "baseline_features": [
            "mean balance",
            "min balance",
            "credits / month",
            "debits / month",
            "lines / month",
            "months of history",
        ],
    }
    if synthetic_model is not None:
        out["synthetic_model_auc_no_refit"] = round(
            float(roc_auc_score(y, synthetic_model.decision_function(X))), 4
        )
    return out
