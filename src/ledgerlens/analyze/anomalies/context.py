"""A fitted per-business scoring context: real-time lines scored in time proportional to them.

``detect_anomalies`` judges a business's lines against each other: every feature, the model and
the budget are fitted over the whole history, so scoring one new line that way means re-reading
and re-fitting ~5,000 lines (tens of ms). The serving process instead keeps, per business, the
history it judged (columns, group indexes, the fitted model, the other lines' scores) and::

    ctx = ScoringContext.build(history, categories=…, limits=…, feedback=…)   # once (~0.1 s)
    results = ctx.score(new_lines, categories)    # appends them, scores them (~0.2 ms a line)

What ``score`` gives for a new line, compared with ``detect_anomalies(history + new)``:

* **features and rules: identical.** Each new line's features are computed against the whole
  appended history with the same formulas (payee and category medians and MADs over its group,
  its rank, the month totals, bursts, duplicates, internal legs, places …); the rules then run
  on the new lines plus the lines they need to see (the card's other lines that day for bursts
  and splits, the duplicate's earlier payment, every employee line when an employee's cash or
  fuel line needs colleagues' habits). ``tests/unit/analyze/test_anomalies_context.py``
  compares every feature column and every verdict with the batch path.
* **the model: fitted on the history the context was built from** (the last background
  refresh), not refitted with the new line: the line's ECOD percentile is read against the
  history's scores. One line among thousands moves the fitted tails by at most one rank, and
  the model only ranks and corroborates (an alert needs the rules' score, see ``fuse``).
* **the budget: other lines' scores are those of their last scoring** (the build, or the
  POST that scored them); the batch path re-scores them all. This matters only when the
  business's alert budget is full and a new line ties with an old alert.

The background refresh rebuilds the context from storage (``pipeline_anomalies``) at most
every ``LEDGERLENS_API__SCORING_CONTEXT_REBUILD_S`` (30 s) per business, so the model, the other
lines' scores and any write from another process catch up within that time.
A line booked before the context's first day, or long after its last, cannot be judged
incrementally (the month grid moves): ``score`` returns ``None`` and the caller rebuilds.
Pure: no I/O; not thread-safe (the serving process uses it from one writer thread).
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from ledgerlens.analyze.anomalies.columns import (
    STATUTORY_PREFIXES,
    _hour,
    _payee_key,
    _place,
    read_columns,
)
from ledgerlens.analyze.anomalies.features import (
    _MAD_TO_SIGMA,
    DEFAULT_CONFIG,
    AnomalyConfig,
    AnomalyFeatures,
    _internal_legs,
    _reference,
    features_from_columns,
    is_night,
    model_matrix,
)
from ledgerlens.analyze.anomalies.feedback import ExpectedFeedback, ExpectedPatterns
from ledgerlens.analyze.anomalies.fuse import (
    DEFAULT_BUDGET,
    AlertBudget,
    AnomalyResult,
    incident_candidates,
    results_of,
    score_lines,
    within_budget,
)
from ledgerlens.analyze.anomalies.misuse import _CASH_MCCS, FUEL_MCCS, detect_misuse
from ledgerlens.analyze.anomalies.model import TailOutlierDetector
from ledgerlens.analyze.anomalies.rules import run_rules
from ledgerlens.analyze.anomalies.service import MIN_MODEL_LINES
from ledgerlens.core.ledger import Transaction
from ledgerlens.core.money import currency_exponent
from ledgerlens.enrich.counterparties import mcc_category

__all__ = ["MAX_DAYS_AHEAD", "ScoringContext"]

MAX_DAYS_AHEAD = 31  # a line booked later than this after the history's last day: rebuild
_COLUMNS = {  # name -> dtype of the growable columns
    "amount": np.int64, "exponent": np.int8, "day": np.int64, "hour": np.int8,
    "mcc": np.int16, "payee": np.int32, "card": np.int32, "emp": np.int32,
    "place": np.int32, "account": np.int32, "major": np.float64, "abs_log": np.float64,
    "leg": np.bool_, "transfer": np.bool_,
}  # fmt: skip


def _median_sorted(v: np.ndarray) -> float:
    """The median as ``features.group_median`` computes it (same float operations)."""
    n = len(v)
    return float((v[(n - 1) // 2] + v[n // 2]) / 2.0)


def _robust(x: np.ndarray, value: float, floor: float) -> tuple[float, float]:
    """(robust z of ``value`` within ``x``, median of ``x``) as ``features._robust_z``."""
    med = _median_sorted(np.sort(x))
    mad = _median_sorted(np.sort(np.abs(x - med)))
    return float((value - med) / np.maximum(_MAD_TO_SIGMA * mad, floor)), med


def _earlier(members: np.ndarray, day: np.ndarray, r: int) -> int:
    """Members booked before line ``r`` (same day: earlier in input order)."""
    d = day[members]
    return int(np.count_nonzero((d < day[r]) | ((d == day[r]) & (members < r))))


@dataclass(slots=True)
class _Fitted:
    model: TailOutlierDetector | None
    patterns: ExpectedPatterns
    limits: dict[str, int]


class ScoringContext:
    """One business's judged history, kept to score new lines incrementally (see module doc)."""

    def __init__(self, business_id: str, config: AnomalyConfig, budget: AlertBudget) -> None:
        self.business_id = business_id
        self.config = config
        self.budget = budget
        self.n = 0
        self._cols = {k: np.zeros(64, dtype=t) for k, t in _COLUMNS.items()}
        self.txs: list[Transaction] = []
        self.category: list[str] = []
        self.index: dict[str, int] = {}  # transaction id -> row
        kinds = ("payee", "card", "emp", "place", "account")
        self._vocab: dict[str, dict[str, int]] = {k: {} for k in kinds}
        self._refs: dict[int, str] = {}  # row -> description without printed dates (cached)
        self._payee_cache: dict[tuple[str, str, str], tuple[str, str]] = {}
        self._groups: dict[str, dict[object, list[int]]] = {
            k: {} for k in ("pd", "cat", "pos", "neg", "burst", "dup", "card_day", "card",
                            "card_place")
        }  # fmt: skip
        self._card_hours: dict[int, list[int]] = {}  # card -> [known hours, nights]
        self._employees: list[int] = []
        self._scores: dict[int, dict] = {}  # row -> fused score of its last scoring
        self.first_day = 0
        self.last_day = 0
        self.has_categories = False  # as ``build_features``: "transfer." counts only with them
        self._fitted = _Fitted(None, ExpectedPatterns.learn(()), {})

    # -- building ------------------------------------------------------------------------
    @classmethod
    def build(
        cls,
        transactions: Sequence[Transaction],
        *,
        categories: Mapping[str, str] | None = None,
        limits: Mapping[str, int] | None = None,
        feedback: Iterable[ExpectedFeedback] = (),
        config: AnomalyConfig = DEFAULT_CONFIG,
        budget: AlertBudget = DEFAULT_BUDGET,
        use_model: bool = True,
    ) -> ScoringContext:
        """Judge ``transactions`` (ONE business, non-empty) as ``detect_anomalies`` does and
        keep what scoring a new line needs."""
        txs = list(transactions)
        bids = {t.business_id for t in txs}
        if len(bids) != 1:
            raise ValueError("a scoring context holds the lines of exactly one business")
        ctx = cls(next(iter(bids)), config, budget)
        cats = dict(categories or {})
        cols = read_columns(txs, cats)
        ctx.has_categories = bool(cats)
        f = features_from_columns(txs, cols, ctx.has_categories, config)
        fitted = _Fitted(None, ExpectedPatterns.learn(fb for fb in feedback
                                                     if fb.business_id == ctx.business_id),
                         dict(limits or {}))  # fmt: skip
        hits = run_rules(f, txs, config) + detect_misuse(f, txs, limits=fitted.limits,
                                                         config=config)  # fmt: skip
        pct = contrib = None
        if use_model and f.n >= MIN_MODEL_LINES:
            X = model_matrix(f)
            fitted.model = TailOutlierDetector()
            pct = fitted.model.fit_anomaly_score(X)
            contrib = ctx._contributions(X, pct)
        ctx._fitted = fitted
        ctx._scores = score_lines(f, hits, pct, contrib, budget=budget, patterns=fitted.patterns)
        ctx._load(txs, cols, f.category)
        return ctx

    def _contributions(self, X: np.ndarray, pct: np.ndarray) -> np.ndarray:
        contrib = np.zeros_like(X)
        top = np.flatnonzero(pct >= self.budget.model_floor)
        if len(top) and self._fitted.model is not None:
            contrib[top] = self._fitted.model.feature_contributions(X[top])
        return contrib

    def _load(self, txs: list[Transaction], cols: object, category: Sequence[str]) -> None:
        from ledgerlens.analyze.anomalies.columns import Columns

        assert isinstance(cols, Columns)
        n = len(txs)
        self._grow(n)
        c = self._cols
        for name in ("amount", "exponent", "day", "hour", "mcc", "payee", "card", "emp",
                     "place", "account"):  # fmt: skip
            c[name][:n] = getattr(cols, name)
        c["major"][:n] = np.abs(cols.amount) / np.power(10.0, cols.exponent)
        c["abs_log"][:n] = np.log1p(c["major"][:n])
        c["leg"][:n] = _internal_legs(cols.amount, cols.day, cols.account)
        c["transfer"][:n] = [x.startswith("transfer.") for x in category]
        for key, names in (("payee", cols.payees), ("card", cols.cards), ("emp", cols.emps),
                           ("place", cols.places), ("account", cols.accounts)):  # fmt: skip
            self._vocab[key] = {v: k for k, v in enumerate(names)}
        self.txs = txs
        self.category = list(category)
        self.n = n
        self.first_day = int(cols.day.min())
        self.last_day = int(cols.day.max())
        for r, t in enumerate(txs):
            self.index[t.transaction_id] = r
            self._index_row(r)

    def _grow(self, n: int) -> None:
        cap = len(self._cols["amount"])
        if n <= cap:
            return
        size = max(n, 2 * cap)
        for k, a in self._cols.items():
            b = np.zeros(size, dtype=a.dtype)
            b[: self.n] = a[: self.n]
            self._cols[k] = b

    def _index_row(self, r: int) -> None:
        """Put row ``r`` into every group index (rows arrive in input order)."""
        c, g = self._cols, self._groups
        amount, out, card = int(c["amount"][r]), bool(c["amount"][r] < 0), int(c["card"][r])
        payee, day = int(c["payee"][r]), int(c["day"][r])
        g["pd"].setdefault((payee, out, card >= 0), []).append(r)
        g["cat"].setdefault((self.category[r], out), []).append(r)
        if amount > 0:
            g["pos"].setdefault(amount, []).append(r)
        elif amount < 0:
            g["neg"].setdefault(amount, []).append(r)
            bisect.insort(g["dup"].setdefault((payee, amount), []), (day, r))
        if card >= 0:
            g["card"].setdefault(card, []).append(r)
            g["card_day"].setdefault((card, day), []).append(r)
            g["card_place"].setdefault((card, int(c["place"][r])), []).append(r)
            if out and c["major"][r] <= self.config.small_charge_major:
                g["burst"].setdefault((card, day, payee), []).append(r)
        hours = self._card_hours.setdefault(card, [0, 0])
        hours[0] += int(c["hour"][r] >= 0)
        hours[1] += int(is_night(c["hour"][r : r + 1])[0])
        if c["emp"][r] >= 0:
            self._employees.append(r)

    # -- appending -----------------------------------------------------------------------
    def _code(self, kind: str, value: str) -> int:
        vocab = self._vocab[kind]
        return vocab.setdefault(value, len(vocab))

    def _category_of(self, t: Transaction, cats: Mapping[str, str], hint: str) -> str:
        if cats.get(t.transaction_id):
            return cats[t.transaction_id]
        if hint.startswith(STATUTORY_PREFIXES):
            return hint
        found = mcc_category(t.mcc) if t.mcc else None
        return found[0] if found else ""

    def _append(self, t: Transaction, category: str, hint: str) -> int:
        r = self.n
        self._grow(r + 1)
        c = self._cols
        key = _payee_key(t, self._payee_cache)[0]
        card = self._code("card", t.card_id) if t.card_id else -1
        exp = currency_exponent(t.currency)
        c["amount"][r] = t.amount_minor
        c["exponent"][r] = exp
        c["day"][r] = (t.value_date if (t.card_id and t.value_date) else t.booking_date).toordinal()
        c["hour"][r] = _hour(t.description) if t.card_id else -1
        c["mcc"][r] = int(t.mcc) if t.mcc else -1
        c["payee"][r] = self._code("payee", key)
        c["card"][r] = card
        c["emp"][r] = self._code("emp", t.employee_id) if t.employee_id else -1
        place = _place(t.description, t.counterparty_name) if t.card_id else ""
        c["place"][r] = self._code("place", place) if place else -1
        c["account"][r] = self._code("account", t.account_id)
        c["major"][r] = abs(t.amount_minor) / np.power(10.0, exp)
        c["abs_log"][r] = np.log1p(c["major"][r])
        c["leg"][r] = False
        c["transfer"][r] = category.startswith("transfer.")
        self.txs.append(t)
        self.category.append(category)
        self.index[t.transaction_id] = r
        self.n = r + 1
        self._match_leg(r)
        self._index_row(r)
        return r

    def _match_leg(self, r: int) -> None:
        """``features._internal_legs`` for a row appended last: a negative line takes its first
        matching positive; a positive one is the first match of negatives that had none."""
        c = self._cols
        amount, day, account = int(c["amount"][r]), int(c["day"][r]), int(c["account"][r])

        def match(j: int) -> bool:
            return int(c["account"][j]) != account and abs(int(c["day"][j]) - day) <= 4

        if amount < 0:
            j = next((j for j in self._groups["pos"].get(-amount, ()) if match(j)), None)
            if j is not None:
                c["leg"][r] = c["leg"][j] = True
        elif amount > 0:
            for i in self._groups["neg"].get(-amount, ()):
                if not c["leg"][i] and match(i):
                    c["leg"][i] = c["leg"][r] = True

    def _recategorize(self, r: int, category: str) -> None:
        """A stored line's category changed (the old leg of a new transfer pair)."""
        if self.category[r] == category:
            return
        out = bool(self._cols["amount"][r] < 0)
        self._groups["cat"][(self.category[r], out)].remove(r)
        self._groups["cat"].setdefault((category, out), []).append(r)
        self._groups["cat"][(category, out)].sort()
        self.category[r] = category
        self._cols["transfer"][r] = category.startswith("transfer.")

    # -- scoring -------------------------------------------------------------------------
    def score(
        self, transactions: Sequence[Transaction], categories: Mapping[str, str] | None = None
    ) -> list[AnomalyResult] | None:
        """Append the new lines (their categories from enrichment) and return the verdicts the
        real-time path stores: the new lines, and alerts in an incident with one of them.
        Lines already in the context are not appended again (a retried batch). ``None``: the
        lines fall outside what the context can judge incrementally (rebuild and retry)."""
        cats = dict(categories or {})
        self.has_categories = self.has_categories or bool(cats)
        fresh = [t for t in transactions if t.transaction_id not in self.index]
        for t in fresh:
            if t.business_id != self.business_id:
                raise ValueError("a line of another business")
            day = (t.value_date if (t.card_id and t.value_date) else t.booking_date).toordinal()
            if day < self.first_day or day > self.last_day + MAX_DAYS_AHEAD:
                return None
        for tid, cat in cats.items():  # e.g. the old leg of a new transfer pair
            r = self.index.get(tid)
            if r is not None:
                self._recategorize(r, cat)
        for t in fresh:
            hint = _payee_key(t, self._payee_cache)[1]
            self._append(t, self._category_of(t, cats, hint), hint)
        wanted = sorted({self.index[t.transaction_id] for t in transactions})
        return self._score_rows(wanted)

    def features_of(self, transaction_ids: Sequence[str]) -> AnomalyFeatures:
        """The engineered features of stored lines, as scoring sees them now (row references
        point into the returned frame, -1 when outside it)."""
        rows = [self.index[t] for t in transaction_ids]
        g = _Globals(self)
        return self._frame(rows, {r: g.row(r) for r in rows})

    def _core_rows(self, new: list[int]) -> set[int]:
        """The new rows and the rows their rules compare them with directly."""
        c = self._cols
        core = set(new)
        cash_or_fuel = _CASH_MCCS | FUEL_MCCS
        for r in new:
            if c["card"][r] >= 0:  # bursts and splits: the card's lines that day
                core.update(self._groups["card_day"][(int(c["card"][r]), int(c["day"][r]))])
            if c["emp"][r] >= 0 and int(c["mcc"][r]) in cash_or_fuel:  # colleagues' habits
                core.update(self._employees)
        return core

    def _score_rows(self, new: list[int]) -> list[AnomalyResult]:
        core = sorted(self._core_rows(new))
        g = _Globals(self)
        base = {r: g.row(r) for r in core}
        support = sorted({v["duplicate_of"] for v in base.values() if v["duplicate_of"] >= 0}
                         - set(core))  # fmt: skip
        rows = core + support
        feats = {**base, **{r: g.row(r, shallow=True) for r in support}}
        f = self._frame(rows, feats)
        txs = [self.txs[r] for r in rows]
        fitted = self._fitted
        hits = run_rules(f, txs, self.config) + detect_misuse(
            f, txs, limits=fitted.limits, config=self.config,
            has_cards=bool(self._groups["card"]),
        )  # fmt: skip
        pct = contrib = None
        if fitted.model is not None:
            X = model_matrix(f)
            pct = fitted.model.anomaly_score(X)
            contrib = self._contributions(X, pct)
        local = score_lines(f, hits, pct, contrib, budget=self.budget, patterns=fitted.patterns)
        in_core = len(core)
        scored = {  # by row; incidents by row too (support rows keep their last scores)
            rows[i]: {**s, "incident": rows[s["incident"]]} for i, s in local.items() if i < in_core
        }
        for r in core:
            self._scores.pop(r, None)
        self._scores.update(scored)
        core_set = set(core)
        mine = [(s, first, m) for s, first, m in
                incident_candidates(self._scores, self.budget.threshold)]  # fmt: skip
        raised = within_budget(mine, self.n, self.budget) & core_set
        position = {r: i for i, r in enumerate(rows)}
        results = {
            r.transaction_id: r
            for r in results_of(
                f,
                {position[r]: {**s, "incident": position[s["incident"]]}
                 for r, s in scored.items()},
                {position[r] for r in raised},
            )
        }  # fmt: skip
        new_set = set(new)
        incidents = {scored[r]["incident"] for r in new if r in scored}
        keep = [
            results[self.txs[r].transaction_id]
            for r in sorted(scored)
            if r in new_set or (r in raised and scored[r]["incident"] in incidents)
        ]
        return keep

    def _frame(self, rows: list[int], feats: dict[int, dict]) -> AnomalyFeatures:
        """The features of ``rows`` (as computed against the whole history) as one frame;
        row references (duplicates, bursts) point into it."""
        c = self._cols
        idx = np.asarray(rows, dtype=np.int64)
        pos = {r: i for i, r in enumerate(rows)}

        def col(name: str, dtype: object) -> np.ndarray:
            return np.array([feats[r][name] for r in rows], dtype=dtype)

        def ref(name: str) -> np.ndarray:
            return np.array([pos.get(feats[r][name], -1) for r in rows], dtype=np.int32)

        day = c["day"][idx]
        card = c["card"][idx]
        return AnomalyFeatures(
            transaction_ids=tuple(self.txs[r].transaction_id for r in rows),
            currency=tuple(self.txs[r].currency for r in rows),
            amount_minor=c["amount"][idx],
            exponent=c["exponent"][idx],
            out=c["amount"][idx] < 0,
            abs_log=c["abs_log"][idx],
            day=day,
            weekday=((day + 6) % 7).astype(np.int8),
            hour=c["hour"][idx],
            age_days=day - self.first_day,
            is_card=card >= 0,
            internal=col("internal", bool),
            statutory=np.array(
                [self.category[r].startswith(STATUTORY_PREFIXES) for r in rows], dtype=bool
            ),
            mcc=c["mcc"][idx],
            payee=c["payee"][idx],
            payee_keys=tuple(self._vocab["payee"]),
            payee_prior=col("payee_prior", np.int64),
            payee_count=col("payee_count", np.int64),
            payee_median_minor=col("payee_median_minor", float),
            payee_high=col("payee_high", np.int64),
            payee_spread=col("payee_spread", float),
            payee_regular=col("payee_regular", bool),
            payee_z=col("payee_z", float),
            category=tuple(self.category[r] for r in rows),
            category_z=col("category_z", float),
            month_share=col("month_share", float),
            out_rank=col("out_rank", float),
            card=card,
            card_ids=tuple(self._vocab["card"]),
            employee=c["emp"][idx],
            employee_ids=tuple(self._vocab["emp"]),
            place=c["place"][idx],
            new_place=col("new_place", bool),
            burst_size=col("burst_size", np.int32),
            burst_first=ref("burst_first"),
            duplicate_of=ref("duplicate_of"),
            mcc_prior=col("mcc_prior", np.int64),
            card_known_hours=col("card_known_hours", np.int64),
            card_night_uses=col("card_night_uses", np.int64),
        )


class _Globals:
    """Business-wide figures of one scoring call, and each row's features against them."""

    def __init__(self, ctx: ScoringContext) -> None:
        self.ctx = ctx
        c, n = ctx._cols, ctx.n
        self.c = {k: v[:n] for k, v in c.items()}
        self.internal = self.c["leg"] | (self.c["transfer"] & ctx.has_categories)
        out = self.c["amount"] < 0
        real_out = out & ~self.internal
        self.real_out = real_out
        self.any_out = bool(real_out.any())
        major = self.c["major"]
        self.typical = 1.0
        self.sorted_out = np.zeros(0)
        if self.any_out:
            month = (self.c["day"] - ctx.first_day) // 30
            totals = np.bincount(month[real_out], weights=major[real_out])
            self.typical = float(np.median(totals[totals > 0])) if (totals > 0).any() else 1.0
            self.sorted_out = np.sort(major[real_out])

    def month_share(self, r: int) -> float:
        return float(self.c["major"][r] / max(self.typical, 1e-9)) if self.any_out else 0.0

    def row(self, r: int, shallow: bool = False) -> dict:
        """Row ``r``'s engineered features (``shallow``: without its own duplicate lookup —
        a support row, whose verdict is not taken from this call)."""
        ctx, c, cfg, g = self.ctx, self.c, self.ctx.config, self.ctx._groups
        amount, day, card = int(c["amount"][r]), c["day"], int(c["card"][r])
        out = amount < 0
        payee = int(c["payee"][r])
        abs_log = c["abs_log"]
        members = np.asarray(g["pd"][(payee, out, card >= 0)], dtype=np.int64)
        z, med = _robust(abs_log[members], float(abs_log[r]), cfg.min_log_spread)
        z_arr = np.float64(z)
        spread = (abs(float(abs_log[r]) - med) / np.maximum(abs(z_arr), 1e-9)
                  if abs(z) > 1e-9 else cfg.min_log_spread)  # fmt: skip
        med_minor = np.expm1(med) * np.power(10.0, c["exponent"][members])
        high = int(
            np.count_nonzero(np.abs(c["amount"][members]) >= cfg.spike_min_ratio * med_minor)
        )
        count = len(members)
        regular = False
        if count >= 2:
            gaps = np.diff(np.sort(day[members])).astype(float)
            gmed = _median_sorted(np.sort(gaps))
            gmad = _median_sorted(np.sort(np.abs(gaps - gmed)))
            regular = bool(gmad <= max(3.0, 0.15 * gmed) and gmed >= 5) and count >= 4
        category = ctx.category[r]
        cat_z = 0.0
        if category:
            cmembers = np.asarray(g["cat"][(category, out)], dtype=np.int64)
            cat_z = _robust(abs_log[cmembers], float(abs_log[r]), cfg.min_log_spread)[0]
        major = float(c["major"][r])
        out_rank = 0.0
        if self.any_out and self.real_out[r]:
            out_rank = float(np.searchsorted(self.sorted_out, major, side="right")
                             / len(self.sorted_out))  # fmt: skip
        size, first = 0, -1
        if out and card >= 0 and major <= cfg.small_charge_major:
            burst = g["burst"][(card, int(day[r]), payee)]
            size = len(burst)
            first = burst[0] if size >= cfg.burst_min_charges else -1
        new_place = False
        place = int(c["place"][r])
        if place >= 0:
            card_rank = _earlier(np.asarray(g["card"][card], dtype=np.int64), day, r)
            at_place = _earlier(np.asarray(g["card_place"][(card, place)], dtype=np.int64), day, r)
            new_place = at_place == 0 and card_rank >= cfg.place_min_history
        mcc = c["mcc"]
        same_mcc = np.flatnonzero(mcc == mcc[r])
        hours = ctx._card_hours.get(card, [0, 0])
        return {
            "internal": bool(self.internal[r]),
            "payee_prior": _earlier(members, day, r),
            "payee_count": count,
            "payee_median_minor": float(np.expm1(med) * np.power(10.0, c["exponent"][r])),
            "payee_high": high,
            "payee_spread": float(spread),
            "payee_regular": regular,
            "payee_z": z,
            "category_z": cat_z,
            "month_share": self.month_share(r),
            "out_rank": out_rank,
            "burst_size": size,
            "burst_first": first,
            "duplicate_of": -1 if shallow else self._duplicate_of(r),
            "new_place": new_place,
            "mcc_prior": _earlier(same_mcc, day, r),
            "card_known_hours": hours[0],
            "card_night_uses": hours[1],
        }

    def _candidate(self, m: int) -> bool:
        """``features._duplicates``' candidates: material real outflows, cash excluded."""
        c = self.c
        if not (c["amount"][m] < 0) or self.internal[m] or int(c["mcc"][m]) in _CASH_MCCS:
            return False
        return bool(c["card"][m] < 0 or self.month_share(m) >= 0.005)

    def _reference(self, r: int) -> str:
        refs = self.ctx._refs
        if r not in refs:
            refs[r] = _reference(self.ctx.txs[r].description)
        return refs[r]

    def _duplicate_of(self, r: int) -> int:
        """``features._duplicates`` for one row: candidates of its (payee, amount) sorted by
        (day, row); walking back while each is within the window of the next and carries the
        same reference, the first of that run is what row ``r`` duplicates."""
        if not self._candidate(r):
            return -1
        c = self.c
        day = int(c["day"][r])
        order = self.ctx._groups["dup"][(int(c["payee"][r]), int(c["amount"][r]))]
        window = self.ctx.config.duplicate_window_days
        j = bisect.bisect_left(order, (day, r)) - 1
        cur_day, ref, root = day, self._reference(r), -1
        while j >= 0:
            d, m = order[j]
            j -= 1
            if not self._candidate(m):
                continue  # not a candidate: invisible to the batch's sorted pairs
            if cur_day - d > window or self._reference(m) != ref:
                break
            root, cur_day = m, d
        return root
