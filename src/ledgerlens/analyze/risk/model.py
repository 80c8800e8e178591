"""The risk model: monotone gradient-boosted trees, a calibrated probability, reasons, bands.

Why these parts:

- **LightGBM with monotone constraints** (``features.MONOTONE``): a lender must be able to say
  that more days below zero never *lowers* the risk, more months of cash never *raises* it. The
  constraint holds for every input, so the model cannot learn a spurious dip from sparse data.
- **Calibration** (isotonic by default, Platt optional) fitted on a held-out validation split:
  limits and prices read the probability as a probability, so 0.2 must mean one in five.
- **Reason codes** from LightGBM's per-feature contributions (``pred_contrib=True``, SHAP values
  in log-odds): the features that pushed this business's risk up the most, in plain words.
- **Bands** A–E on the calibrated probability: what rules (``decide``) consume.

The estimator follows scikit-learn's contract (parameters in ``__init__``, ``fit`` returns self,
learned attributes end in ``_``). It stores itself as JSON (LightGBM's native text model plus the
calibration table) — never pickle. ``lightgbm`` is imported inside the methods that need it.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from ledgerlens.analyze.risk.features import FEATURES, MONOTONE

__all__ = ["BANDS", "Reason", "RiskModel", "band_of", "reason_text"]

# upper bound of the calibrated probability of distress for each band (the last is open)
BANDS: tuple[tuple[str, float], ...] = (
    ("A", 0.05),
    ("B", 0.10),
    ("C", 0.20),
    ("D", 0.35),
    ("E", 1.01),
)

_WORDS: dict[str, tuple[str, str]] = {
    # feature: (text when it raises risk, how to print the value)
    "days_below_zero_share": ("the balance was below zero on {v} of days", "pct"),
    "min_balance_months": (
        "the lowest balance of the last 90 days covered only {v} of outflows",
        "months",
    ),
    "months_of_cash": ("the average balance covers only {v} of outflows", "months"),
    "balance_volatility_months": ("the balance swings widely ({v} of outflows)", "months"),
    "inflow_hhi": ("income depends on few customers (concentration index {v})", "num"),
    "revenue_growth_monthly": ("revenue trend is {v} a month", "signed_pct"),
    "recent_revenue_change": (
        "revenue of the last 3 months changed {v} against the 3 before",
        "signed_pct",
    ),
    "seasonality_cv": ("revenue swings strongly from month to month ({v})", "pct"),
    "late_payer_share": ("{v} of regular customers' payments arrive late", "pct"),
    "top_customer_silence": (
        "the biggest customer has not paid for {v} its usual interval",
        "times",
    ),
    "returned_items_per_month": ("{v} returned or bounced payments a month", "num"),
    "debt_service_ratio": ("loan repayments take {v} of income", "pct"),
    "net_margin": ("outflows against inflows leave a margin of {v}", "signed_pct"),
    "business_age_months": ("the account history is short ({v})", "months_plain"),
    "log_monthly_revenue": ("monthly revenue is small for its profile (about {v})", "revenue"),
}


def _fmt(v: float, kind: str) -> str:
    if kind == "pct":
        return f"{v * 100:.0f} %"
    if kind == "signed_pct":
        return f"{v * 100:+.1f} %"
    if kind == "months":
        return f"{v:.1f} months"
    if kind == "months_plain":
        return f"{v:.0f} months"
    if kind == "times":
        return f"{v:.1f}×"
    if kind == "revenue":
        return f"{math.expm1(v):,.0f} a month"
    if kind == "num":
        return f"{v:.2f}"
    return ""


def reason_text(feature: str, value: float) -> str:
    """The plain-words reason for one feature that raised the risk."""
    text, kind = _WORDS[feature]
    return text.format(v=_fmt(value, kind))


def band_of(p: float) -> str:
    for band, upper in BANDS:
        if p < upper:
            return band
    return BANDS[-1][0]


@dataclass(frozen=True, slots=True)
class Reason:
    """One reason code: the feature, its value, its push on the log-odds, the words."""

    code: str
    value: float
    contribution: float
    text: str


class RiskModel:
    """Monotone LightGBM classifier of distress with a calibrated probability; see module doc."""

    def __init__(
        self,
        n_estimators: int = 300,
        learning_rate: float = 0.03,
        num_leaves: int = 8,
        min_child_samples: int = 20,
        reg_lambda: float = 1.0,
        monotone: bool = True,
        calibration: str = "isotonic",
        random_state: int = 0,
    ) -> None:
        self.n_estimators = n_estimators
        self.learning_rate = learning_rate
        self.num_leaves = num_leaves
        self.min_child_samples = min_child_samples
        self.reg_lambda = reg_lambda
        self.monotone = monotone
        self.calibration = calibration
        self.random_state = random_state

    # scikit-learn contract -------------------------------------------------------------------
    def get_params(self, deep: bool = True) -> dict[str, Any]:
        return {
            k: getattr(self, k)
            for k in (
                "n_estimators",
                "learning_rate",
                "num_leaves",
                "min_child_samples",
                "reg_lambda",
                "monotone",
                "calibration",
                "random_state",
            )
        }

    def set_params(self, **params: Any) -> RiskModel:
        for k, v in params.items():
            setattr(self, k, v)
        return self

    def _lgb_params(self) -> dict[str, Any]:
        params: dict[str, Any] = {
            "objective": "binary",
            "learning_rate": self.learning_rate,
            "num_leaves": self.num_leaves,
            "min_data_in_leaf": self.min_child_samples,
            "lambda_l2": self.reg_lambda,
            "feature_fraction": 0.9,
            "bagging_fraction": 0.9,
            "bagging_freq": 1,
            "seed": self.random_state,
            "deterministic": True,
            "force_row_wise": True,
            "num_threads": 1,
            "verbose": -1,
        }
        if self.monotone:
            params["monotone_constraints"] = [MONOTONE[f] for f in FEATURES]
            params["monotone_constraints_method"] = "advanced"
        return params

    def fit(
        self,
        X: np.ndarray,
        y: np.ndarray,
        *,
        X_calib: np.ndarray | None = None,
        y_calib: np.ndarray | None = None,
    ) -> RiskModel:
        """Boost on (X, y); calibrate on (X_calib, y_calib), the validation split.

        Without a validation split, a stratified fifth of (X, y) is held out for calibration, so
        the calibrator never sees scores of rows the trees were fitted on.
        """
        import lightgbm as lgb

        X = np.asarray(X, dtype=np.float64)
        y = np.asarray(y, dtype=np.int64)
        if X_calib is None or y_calib is None:
            from sklearn.model_selection import train_test_split

            X, X_calib, y, y_calib = train_test_split(
                X, y, test_size=0.2, stratify=y, random_state=self.random_state
            )
        self.booster_ = lgb.train(
            self._lgb_params(),
            lgb.Dataset(X, y, feature_name=list(FEATURES), free_raw_data=True),
            num_boost_round=self.n_estimators,
        )
        raw = self.booster_.predict(np.asarray(X_calib, dtype=np.float64), raw_score=True)
        self.calibration_ = _fit_calibration(raw, np.asarray(y_calib), self.calibration)
        self.classes_ = np.array([0, 1])
        self.n_features_in_ = X.shape[1]
        return self

    def decision_function(self, X: np.ndarray) -> np.ndarray:
        """Uncalibrated log-odds (monotone in every constrained feature)."""
        X = np.asarray(X, dtype=np.float64)
        return np.asarray(self.booster_.predict(X, raw_score=True, num_threads=1))

    def predict_proba(self, X: np.ndarray) -> np.ndarray:
        p = _apply_calibration(self.decision_function(X), self.calibration_)
        return np.column_stack([1.0 - p, p])

    def predict(self, X: np.ndarray) -> np.ndarray:
        return (self.predict_proba(X)[:, 1] >= 0.5).astype(np.int64)

    # explanation -----------------------------------------------------------------------------
    def explain(self, x: Sequence[float], top: int = 3) -> tuple[float, str, list[Reason]]:
        """(probability, band, reasons) for one business: the features that raised its risk most."""
        row = np.asarray(x, dtype=np.float64).reshape(1, -1)
        # one thread: a single row gains nothing from OpenMP and a shared server loses a lot
        contrib = np.asarray(self.booster_.predict(row, pred_contrib=True, num_threads=1))[0]
        p = float(_apply_calibration(np.array([contrib.sum()]), self.calibration_)[0])
        order = np.argsort(-contrib[:-1], kind="stable")
        reasons = [
            Reason(
                FEATURES[j],
                float(row[0, j]),
                float(contrib[j]),
                reason_text(FEATURES[j], float(row[0, j])),
            )
            for j in order[:top]
            if contrib[j] > 0.0
        ]
        return p, band_of(p), reasons

    # storage ---------------------------------------------------------------------------------
    def to_json(self) -> bytes:
        doc = {
            "format": "ledgerlens-risk/1",
            "params": self.get_params(),
            "features": list(FEATURES),
            "monotone": [MONOTONE[f] for f in FEATURES],
            "calibration": self.calibration_,
            "bands": [list(b) for b in BANDS],
            "booster": self.booster_.model_to_string(),
        }
        return json.dumps(doc, sort_keys=True).encode("utf-8")

    @classmethod
    def from_json(cls, data: bytes) -> RiskModel:
        import lightgbm as lgb

        doc = json.loads(data)
        if doc.get("format") != "ledgerlens-risk/1" or doc["features"] != list(FEATURES):
            raise ValueError("risk model file does not match this code's feature schema")
        model = cls(**doc["params"])
        model.booster_ = lgb.Booster(model_str=doc["booster"])
        model.calibration_ = doc["calibration"]
        model.classes_ = np.array([0, 1])
        model.n_features_in_ = len(FEATURES)
        return model


def _fit_calibration(raw: np.ndarray, y: np.ndarray, method: str) -> dict[str, Any]:
    """A calibration map from raw log-odds to probability, stored as plain numbers."""
    if method == "platt":
        from sklearn.linear_model import LogisticRegression

        lr = LogisticRegression(C=1e6).fit(raw.reshape(-1, 1), y)
        return {"method": "platt", "a": float(lr.coef_[0, 0]), "b": float(lr.intercept_[0])}
    from sklearn.isotonic import IsotonicRegression

    iso = IsotonicRegression(out_of_bounds="clip", y_min=0.001, y_max=0.999).fit(raw, y)
    return {
        "method": "isotonic",
        "x": [float(v) for v in iso.X_thresholds_],
        "y": [float(v) for v in iso.y_thresholds_],
    }


def _apply_calibration(raw: np.ndarray, cal: dict[str, Any]) -> np.ndarray:
    if cal["method"] == "platt":
        return 1.0 / (1.0 + np.exp(-(cal["a"] * raw + cal["b"])))
    return np.interp(raw, np.asarray(cal["x"]), np.asarray(cal["y"]))
