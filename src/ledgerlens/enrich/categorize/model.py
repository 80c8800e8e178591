"""The categorizer's statistical model: char n-grams + meta tokens -> a calibrated linear model.

``CategorizerModel`` follows scikit-learn's estimator contract (parameters in ``__init__``,
``fit`` returns self, learned attributes end in ``_``). ``fit`` trains a multinomial logistic
regression over a ``ColumnTransformer`` of two vectorizers; ``calibrate`` then fits a
temperature on held-out data and folds it into the coefficients (so the sklearn pipeline and its
ONNX export both emit calibrated probabilities) and chooses the abstain threshold: the lowest
confidence at which the validation accuracy of the covered transactions reaches
``target_accuracy``. Predicting is one transform and one sparse matrix product for the batch.

sklearn is imported inside the methods: importing this module costs nothing.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

import numpy as np

from ledgerlens.enrich.categorize.features import FeatureRow

__all__ = ["CategorizerModel", "describe_feature"]

_WHITE = re.compile(r"\s\s+")  # what sklearn's char analyzer folds before taking n-grams


def _as_array(rows: Sequence[FeatureRow] | np.ndarray) -> np.ndarray:
    if isinstance(rows, np.ndarray):
        return rows
    arr = np.empty((len(rows), 2), dtype=object)
    for i, (text, meta) in enumerate(rows):
        arr[i, 0] = text
        arr[i, 1] = meta
    return arr


class CategorizerModel:
    """Calibrated linear categorizer over (text, meta) feature rows; see the module docstring."""

    def __init__(
        self,
        ngram_range: tuple[int, int] = (2, 4),
        max_char_features: int = 12000,
        min_df: int = 2,
        C: float = 20.0,
        max_iter: int = 300,
        target_accuracy: float = 0.985,
        random_state: int = 0,
    ) -> None:
        self.ngram_range = ngram_range
        self.max_char_features = max_char_features
        self.min_df = min_df
        self.C = C
        self.max_iter = max_iter
        self.target_accuracy = target_accuracy
        self.random_state = random_state

    # -- scikit-learn plumbing ---------------------------------------------------------------
    def get_params(self, deep: bool = True) -> dict[str, Any]:
        return {k: getattr(self, k) for k in (
            "ngram_range", "max_char_features", "min_df", "C", "max_iter", "target_accuracy",
            "random_state")}  # fmt: skip

    def set_params(self, **params: Any) -> CategorizerModel:
        for k, v in params.items():
            setattr(self, k, v)
        return self

    def _build(self) -> Any:
        from sklearn.compose import ColumnTransformer
        from sklearn.feature_extraction.text import TfidfVectorizer
        from sklearn.linear_model import LogisticRegression
        from sklearn.pipeline import Pipeline

        text = TfidfVectorizer(
            analyzer="char", ngram_range=self.ngram_range, lowercase=False, binary=True,
            min_df=self.min_df, max_features=self.max_char_features, dtype=np.float32,
        )  # fmt: skip
        meta = TfidfVectorizer(
            token_pattern=r"\S+", lowercase=False, use_idf=False, norm=None, binary=True,
            min_df=self.min_df, dtype=np.float32,
        )  # fmt: skip
        features = ColumnTransformer([("text", text, 0), ("meta", meta, 1)])
        clf = LogisticRegression(C=self.C, max_iter=self.max_iter, tol=1e-3)
        return Pipeline([("features", features), ("clf", clf)])

    # -- fitting -----------------------------------------------------------------------------
    def fit(
        self,
        X: Sequence[FeatureRow] | np.ndarray,
        y: Sequence[str],
        sample_weight: Sequence[float] | None = None,
    ) -> CategorizerModel:
        """Fit vectorizers and the linear model; temperature 1 and no abstention until
        ``calibrate`` is called with held-out data."""
        pipe = self._build()
        pipe.fit(_as_array(X), np.asarray(y), clf__sample_weight=sample_weight)
        for _, vectorizer, _ in pipe.named_steps["features"].transformers_:
            if hasattr(vectorizer, "stop_words_"):
                del vectorizer.stop_words_  # the pruned vocabulary: megabytes, never used
        self.pipeline_ = pipe
        self.classes_ = pipe.named_steps["clf"].classes_
        self.temperature_ = 1.0
        self.threshold_ = 0.0
        self._cache_weights()
        return self

    def _cache_weights(self) -> None:
        clf = self.pipeline_.named_steps["clf"]
        self._coef_t = np.ascontiguousarray(clf.coef_.T.astype(np.float32))
        self._intercept = clf.intercept_.astype(np.float32)
        self._features = self.pipeline_.named_steps["features"]
        self._names: np.ndarray | None = None
        vecs = [v for _, v, _ in self._features.transformers_]
        self._text_vec, self._meta_vec = vecs[0], vecs[1]
        self._n_text = len(self._text_vec.vocabulary_)
        self._text_coef = self._coef_t[: self._n_text]
        self._meta_coef = self._coef_t[self._n_text :]
        self._idf = self._text_vec.idf_.astype(np.float32)

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        if "pipeline_" in state:
            self._cache_weights()

    def __getstate__(self) -> dict[str, Any]:
        return {k: v for k, v in self.__dict__.items() if not k.startswith("_")}

    def calibrate(
        self,
        X: Sequence[FeatureRow] | np.ndarray,
        y: Sequence[str],
        sample_weight: Sequence[float] | None = None,
    ) -> CategorizerModel:
        """Temperature on held-out rows (folded into the coefficients), then the threshold."""
        logits = self.decision_function(X)
        y_arr = np.asarray(y)
        index = {c: i for i, c in enumerate(self.classes_)}
        known = np.array([label in index for label in y_arr])
        idx = np.array([index.get(label, 0) for label in y_arr])
        w = np.ones(len(y_arr)) if sample_weight is None else np.asarray(sample_weight, float)
        w = w * known
        temps = np.exp(np.linspace(np.log(0.05), np.log(5.0), 121))
        best_t, best_nll = 1.0, np.inf
        for t in temps:
            z = logits / t
            z = z - z.max(axis=1, keepdims=True)
            logp = z[np.arange(len(z)), idx] - np.log(np.exp(z).sum(axis=1))
            nll = -float((w * logp).sum() / max(w.sum(), 1e-9))
            if nll < best_nll:
                best_t, best_nll = float(t), nll
        clf = self.pipeline_.named_steps["clf"]
        # float32 halves the artifact; ONNX computes in float32 anyway
        clf.coef_ = (clf.coef_ / best_t).astype(np.float32)
        clf.intercept_ = (clf.intercept_ / best_t).astype(np.float32)
        self.temperature_ = self.temperature_ * best_t
        self._cache_weights()
        proba = self.predict_proba(X)
        self.threshold_ = choose_threshold(proba, self.classes_, y_arr, w, self.target_accuracy)
        return self

    # -- predicting --------------------------------------------------------------------------
    def transform(self, X: Sequence[FeatureRow] | np.ndarray) -> Any:
        """The sparse feature matrix (CSR, float32)."""
        return self._features.transform(_as_array(X))

    def decision_function(self, X: Sequence[FeatureRow] | np.ndarray) -> np.ndarray:
        return self._logits(self.transform(X))

    def _logits(self, m: Any) -> np.ndarray:
        return np.asarray(m @ self._coef_t) + self._intercept

    def predict_proba(self, X: Sequence[FeatureRow] | np.ndarray) -> np.ndarray:
        return softmax(self.decision_function(X))

    def predict(self, X: Sequence[FeatureRow] | np.ndarray) -> np.ndarray:
        """Leaf codes; "" where the confidence is below ``threshold_`` (abstain)."""
        proba = self.predict_proba(X)
        best = proba.argmax(axis=1)
        labels = self.classes_[best].astype(object)
        labels[proba[np.arange(len(best)), best] < self.threshold_] = ""
        return labels

    def score_rows(self, rows: Sequence[FeatureRow]) -> tuple[np.ndarray, np.ndarray, Any]:
        """(best class index, its probability, a handle for ``row_features``) per row.

        The two columns are deduplicated apart — a batch has far fewer distinct texts and
        distinct meta strings than distinct (text, meta) pairs — and each is vectorized once and
        multiplied once; a row's logits are the sum of its two parts (the model is linear).
        """
        texts: dict[str, int] = {}
        metas: dict[str, int] = {}
        ti = np.fromiter((texts.setdefault(t, len(texts)) for t, _ in rows), np.int64, len(rows))
        mi = np.fromiter((metas.setdefault(m, len(metas)) for _, m in rows), np.int64, len(rows))
        tm = self._text_vec.transform(list(texts))
        mm = self._meta_vec.transform(list(metas))
        logits = np.asarray(tm @ self._text_coef)[ti] + np.asarray(mm @ self._meta_coef)[mi]
        logits += self._intercept
        proba = softmax(logits)
        best = proba.argmax(axis=1)
        return best, proba[np.arange(len(best)), best], (tm, mm, ti, mi)

    def row_features(self, handle: Any, row: int) -> tuple[np.ndarray, np.ndarray]:
        """(feature indices, values) of one row scored by ``score_rows``."""
        tm, mm, ti, mi = handle
        t, m = tm[int(ti[row])], mm[int(mi[row])]
        return (np.concatenate([t.indices, m.indices + self._n_text]),
                np.concatenate([t.data, m.data]).astype(np.float32))  # fmt: skip

    def score_one(self, row: FeatureRow) -> tuple[int, float, tuple[np.ndarray, np.ndarray]]:
        """(best class index, its probability, (indices, values)) of one row, without sklearn's
        per-call overhead: the same char n-grams, binary tf, idf and l2 norm as the fitted
        vectorizer (``test_categorize`` checks it agrees with ``predict_proba``)."""
        text, meta = row
        vocab = self._text_vec.vocabulary_
        t = _WHITE.sub(" ", text)
        lo, hi = self._text_vec.ngram_range
        grams = {t[i : i + n] for n in range(lo, min(hi, len(t)) + 1)
                 for i in range(len(t) - n + 1)}  # fmt: skip
        tidx = np.fromiter(sorted(j for g in grams if (j := vocab.get(g)) is not None), np.int64)
        tval = self._idf[tidx]
        norm = np.sqrt(np.dot(tval.astype(np.float64), tval))
        if norm > 0:
            tval = (tval / norm).astype(np.float32)
        mv = self._meta_vec.vocabulary_
        midx = np.fromiter(sorted({j for tok in meta.split()
                                   if (j := mv.get(tok)) is not None}), np.int64)  # fmt: skip
        logits = self._intercept + tval @ self._text_coef[tidx] + self._meta_coef[midx].sum(axis=0)
        z = logits - logits.max()
        e = np.exp(z)
        p = e / e.sum()
        best = int(p.argmax())
        idx = np.concatenate([tidx, midx + self._n_text])
        val = np.concatenate([tval, np.ones(len(midx), np.float32)])
        return best, float(p[best]), (idx, val)

    def score_matrix(self, m: Any) -> tuple[np.ndarray, np.ndarray]:
        """(best class index, its probability) per row of a transformed matrix."""
        proba = softmax(self._logits(m))
        best = proba.argmax(axis=1)
        return best, proba[np.arange(len(best)), best]

    def reasons(self, m: Any, row: int, cls: int, k: int = 3) -> list[str]:
        """The ``k`` features that pushed row ``row`` of matrix ``m`` most toward ``cls``."""
        r = m[row]
        return self.reasons_of(r.indices, r.data, cls, k)

    def reasons_of(self, indices: np.ndarray, data: np.ndarray, cls: int, k: int = 3) -> list[str]:
        """The ``k`` features (indices, values) that pushed most toward class ``cls``, in words."""
        if self._names is None:
            self._names = self._features.get_feature_names_out()
        contrib = data * self._coef_t[indices, cls]
        order = np.argsort(-contrib)
        out: list[str] = []
        grams: list[str] = []
        for j in order:
            if contrib[j] <= 0 or len(out) >= k:
                break
            name = str(self._names[indices[j]])
            if name.startswith("text__"):
                if not grams:
                    out.append("")  # placeholder: the text reason, filled below
                if len(grams) < 4:
                    grams.append(name.removeprefix("text__"))
                continue
            out.append(describe_feature(name.removeprefix("meta__")))
        if grams:
            out[out.index("")] = "description contains " + ", ".join(f'"{g}"' for g in grams)
        return out


def softmax(z: np.ndarray) -> np.ndarray:
    z = z - z.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


# Below this calibrated probability a category is not one an owner can trust, however accurate
# the model is on average: such lines get an honest "not sure" (nonsense text, unseen patterns).
ABSTAIN_FLOOR = 0.4


def choose_threshold(
    proba: np.ndarray, classes: np.ndarray, y: np.ndarray, w: np.ndarray, target: float
) -> float:
    """Lowest confidence cut whose covered validation accuracy reaches ``target``, never below
    ``ABSTAIN_FLOOR``.

    Rows sorted by confidence, highest first: the cut is placed after the longest prefix whose
    weighted accuracy is at least ``target`` (so coverage is as large as the target allows).
    """
    return max(ABSTAIN_FLOOR, _accuracy_cut(proba, classes, y, w, target))


def _accuracy_cut(
    proba: np.ndarray, classes: np.ndarray, y: np.ndarray, w: np.ndarray, target: float
) -> float:
    best = proba.argmax(axis=1)
    conf = proba[np.arange(len(best)), best]
    correct = (classes[best] == y).astype(float)
    order = np.argsort(-conf, kind="stable")
    cw = np.cumsum(w[order])
    cc = np.cumsum((w * correct)[order])
    acc = cc / np.maximum(cw, 1e-12)
    ok = np.nonzero(acc >= target)[0]
    if len(ok) == 0:
        return float(conf.max()) + 1e-6
    last = int(ok[-1])
    if last == len(order) - 1:
        return 0.0
    return float(conf[order[last]])


_META_WORDS = {
    "dir=in": "money in",
    "dir=out": "money out",
    "mcc=none": "no card MCC",
    "cps=brand": "a known brand",
    "cps=name": "the printed counterparty name",
    "cps=description": "a payee read from the description",
    "cps=none": "no counterparty",
    "card=1": "paid by card",
    "emp=1": "an employee's card",
    "iban=1": "counterparty IBAN present",
    "fx=1": "foreign-currency amount",
}


def describe_feature(token: str) -> str:
    """A meta token in words ("mcc=5541" -> "MCC 5541 (fuel station)")."""
    if token in _META_WORDS:
        return _META_WORDS[token]
    key, _, value = token.partition("=")
    if key == "mcc":
        from ledgerlens.enrich.counterparties import mcc_category

        found = mcc_category(value)
        return f"MCC {value}" + (f" ({found[1]})" if found else "")
    if key == "mccg":
        return f"MCC group {value}"
    if key == "hint":
        return f"brand/MCC table suggests {value}"
    if key == "amt":
        return f"amount size band {value.lstrip('inout')} ({'in' if value[:2] == 'in' else 'out'})"
    if key in ("bk", "bkf", "bkd"):
        return f"bank transaction code {value}"
    if key == "purp":
        return f"ISO purpose code {value}"
    if key == "acct":
        return f"{value.replace('_', ' ')} account"
    if key == "ibanc":
        return f"counterparty IBAN from {value}"
    return token
