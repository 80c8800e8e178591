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

What a line's features are read from is kept up to date line by line, so scoring one line
costs about the same at 500 or 20,000 stored lines: per group (payee, category, card, place,
MCC) its members' values sorted (a median, a MAD, a rank or a cadence is a bisection, not a
sort of the group); the month totals of real outflows and their sorted magnitudes (a line
that becomes an internal leg, or a transfer by recategorization, is taken out again); per
(payee, amount) where each outflow's run of duplicates starts, recomputed forward from the
first line that changed; and the budget's incidents ranked by best score.
``tests/unit/analyze/test_anomalies_context_incremental.py`` drives that state through what
could make it drift and compares it with the batch computation.

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
    results_of,
    score_lines,
)
from ledgerlens.analyze.anomalies.misuse import _CASH_MCCS, FUEL_MCCS, detect_misuse
from ledgerlens.analyze.anomalies.model import TailOutlierDetector
from ledgerlens.analyze.anomalies.rules import run_rules
from ledgerlens.analyze.anomalies.running_stats import (
    DupChain,
    PayeeGroup,
    SortedValues,
    med_mad,
    median_sorted,
    rank_key,
)
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
    "leg": np.bool_, "transfer": np.bool_, "internal": np.bool_,
}  # fmt: skip


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
            k: {} for k in ("pos", "neg", "burst", "card_day")
        }
        # per group, what its members' features are read from (kept sorted: see PayeeGroup)
        self._payees: dict[tuple[int, bool, bool], PayeeGroup] = {}
        self._cat_logs: dict[tuple[str, bool], SortedValues] = {}  # (category, out) -> abs_log
        self._cat_stats: dict[tuple[str, bool], tuple[int, float, float]] = {}
        self._ranks: dict[tuple, list[int]] = {}  # ("card"|"place"|"mcc", …) -> rank keys
        self._dups: dict[tuple[int, int], DupChain] = {}  # (payee, amount) of outflows
        self._dup_epoch = 0  # bumped when every line's candidacy may have changed
        self._card_lines = 0
        self._card_hours: dict[int, list[int]] = {}  # card -> [known hours, nights]
        self._employees: list[int] = []
        # scale: month totals of real outflows (as np.bincount sums them: in row order) and
        # their sorted magnitudes; a line whose ``internal`` flips marks the totals dirty
        self._totals = np.zeros(0)
        self._totals_dirty = True
        self._typical: float | None = None  # cached median of the month totals
        self._out_sorted = SortedValues(np.float64)
        self._bulk = False  # loading: sorted state is appended to, then sorted once
        self._nights = np.zeros(0, dtype=bool)  # loading: is_night of every line
        self._scores: dict[int, dict] = {}  # row -> fused score of its last scoring
        # the budget's view of ``_scores`` (as ``fuse.incident_candidates``), kept per change:
        self._inc_members: dict[int, set[int]] = {}  # incident (first row) -> scored rows
        self._inc_key: dict[int, tuple[float, int]] = {}  # candidate incident -> rank key
        self._ranked: list[tuple[float, int]] = []  # candidates' (-best score, first), sorted
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
        for r, s in ctx._scores.items():
            ctx._inc_members.setdefault(s["incident"], set()).add(r)
        ctx._rank_incidents(list(ctx._inc_members), ctx._scores)
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
        c["internal"][:n] = c["leg"][:n] | (c["transfer"][:n] & self.has_categories)
        for key, names in (("payee", cols.payees), ("card", cols.cards), ("emp", cols.emps),
                           ("place", cols.places), ("account", cols.accounts)):  # fmt: skip
            self._vocab[key] = {v: k for k, v in enumerate(names)}
        self.txs = txs
        self.category = list(category)
        self.n = n
        self.first_day = int(cols.day.min())
        self.last_day = int(cols.day.max())
        self._bulk = True
        self._nights = is_night(c["hour"][:n])  # once for the whole load, not per row
        for r, t in enumerate(txs):
            self.index[t.transaction_id] = r
            self._index_row(r)
        self._bulk, self._nights = False, np.zeros(0, dtype=bool)
        for grp in self._payees.values():
            grp.finalize()
        for s in self._cat_logs.values():
            s.finalize()
        for keys in self._ranks.values():
            keys.sort()
        self._out_sorted.finalize()
        self._totals_dirty = True

    def _grow(self, n: int) -> None:
        cap = len(self._cols["amount"])
        if n <= cap:
            return
        size = max(n, 2 * cap)
        for k, a in self._cols.items():
            b = np.zeros(size, dtype=a.dtype)
            b[: self.n] = a[: self.n]
            self._cols[k] = b

    def _rank_key(self, name: tuple, key: int) -> None:
        keys = self._ranks.setdefault(name, [])
        if self._bulk:
            keys.append(key)
        else:
            bisect.insort(keys, key)

    def _index_row(self, r: int) -> None:
        """Put row ``r`` into every group index (rows arrive in input order; its ``internal``
        is set)."""
        c, g, bulk = self._cols, self._groups, self._bulk
        amount, out, card = int(c["amount"][r]), bool(c["amount"][r] < 0), int(c["card"][r])
        payee, day = int(c["payee"][r]), int(c["day"][r])
        key = rank_key(day, r)
        major, abs_log = float(c["major"][r]), float(c["abs_log"][r])
        grp = self._payees.get((payee, out, card >= 0))
        if grp is None:
            grp = self._payees[(payee, out, card >= 0)] = PayeeGroup()
        if bulk:
            grp.keys.append(key)
        else:
            bisect.insort(grp.keys, key)
        grp.add_day(day, bulk)
        grp.logs.add(abs_log, bulk)
        exp = int(c["exponent"][r])
        if exp not in grp.amounts:
            grp.amounts[exp] = SortedValues(np.float64)
        grp.amounts[exp].add(float(abs(amount)), bulk)
        self._cat_log(self.category[r], out).add(abs_log, bulk)
        self._rank_key(("mcc", int(c["mcc"][r])), key)
        if amount > 0:
            g["pos"].setdefault(amount, []).append(r)
        elif amount < 0:
            g["neg"].setdefault(amount, []).append(r)
            chain = self._dups.get((payee, amount))
            if chain is None:
                chain = self._dups[(payee, amount)] = DupChain()
            bisect.insort(chain.order, (day, r))
            chain.invalidate_from((day, r))
            if card >= 0 and major not in chain.card_majors:
                bisect.insort(chain.card_majors, major)
            if not c["internal"][r]:
                self._out_sorted.add(major, bulk)
                self._add_to_totals(r)
        if card >= 0:
            self._card_lines += 1
            self._rank_key(("card", card), key)
            g["card_day"].setdefault((card, day), []).append(r)
            self._rank_key(("place", card, int(c["place"][r])), key)
            if out and major <= self.config.small_charge_major:
                g["burst"].setdefault((card, day, payee), []).append(r)
        hours = self._card_hours.setdefault(card, [0, 0])
        hours[0] += int(c["hour"][r] >= 0)
        night = self._nights[r] if bulk else is_night(c["hour"][r : r + 1])[0]
        hours[1] += int(night)
        if c["emp"][r] >= 0:
            self._employees.append(r)

    def _category_stats(self, category: str, out: bool) -> tuple[float, float]:
        """(median, MAD) of the category's abs_log, cached while the category is unchanged."""
        logs = self._cat_logs[(category, out)]
        hit = self._cat_stats.get((category, out))
        if hit is None or hit[0] != logs.version:
            hit = self._cat_stats[(category, out)] = (logs.version, *med_mad(logs.view()))
        return hit[1], hit[2]

    def _cat_log(self, category: str, out: bool) -> SortedValues:
        s = self._cat_logs.get((category, out))
        if s is None:
            s = self._cat_logs[(category, out)] = SortedValues(np.float64)
        return s

    # -- scale: month totals and outflow ranks ---------------------------------------------
    def _add_to_totals(self, r: int) -> None:
        """A real outflow appended last: added to its month as ``np.bincount`` would."""
        self._typical = None
        if self._totals_dirty:
            return
        month = (int(self._cols["day"][r]) - self.first_day) // 30
        if month >= len(self._totals):
            self._totals = np.concatenate([self._totals, np.zeros(month + 1 - len(self._totals))])
        self._totals[month] += self._cols["major"][r]

    def typical_month(self) -> float:
        """The median month's real outflows (``features_from_columns``' ``typical``)."""
        if self._typical is None:
            if self._totals_dirty:
                c, n = self._cols, self.n
                real_out = (c["amount"][:n] < 0) & ~c["internal"][:n]
                month = (c["day"][:n] - self.first_day) // 30
                self._totals = np.bincount(month[real_out], weights=c["major"][:n][real_out])
                self._totals_dirty = False
            t = self._totals[self._totals > 0]  # np.median's result, without its overhead
            self._typical = median_sorted(np.sort(t)) if len(t) else 1.0
        return self._typical

    def _refresh_internal(self, r: int) -> None:
        """Row ``r``'s leg or transfer flag changed: keep what depends on ``internal`` true."""
        c = self._cols
        now = bool(c["leg"][r] or (c["transfer"][r] and self.has_categories))
        if now == bool(c["internal"][r]):
            return
        c["internal"][r] = now
        amount = int(c["amount"][r])
        if amount < 0:
            major = float(c["major"][r])
            if now:
                self._out_sorted.remove(major)
            else:
                self._out_sorted.add(major)
            self._totals_dirty, self._typical = True, None
            self._dups[(int(c["payee"][r]), amount)].invalidate_from((int(c["day"][r]), r))

    def _refresh_all_internal(self) -> None:
        """``has_categories`` turned on: every transfer line may now be internal."""
        c, n = self._cols, self.n
        c["internal"][:n] = c["leg"][:n] | (c["transfer"][:n] & self.has_categories)
        real_out = (c["amount"][:n] < 0) & ~c["internal"][:n]
        self._out_sorted = SortedValues(np.float64)
        self._out_sorted.pending = c["major"][:n][real_out].tolist()
        self._out_sorted.finalize()
        self._totals_dirty, self._typical = True, None
        self._dup_epoch += 1

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
        for j in self._match_leg(r):
            self._refresh_internal(j)
        c["internal"][r] = bool(c["leg"][r] or (c["transfer"][r] and self.has_categories))
        self._index_row(r)
        return r

    def _match_leg(self, r: int) -> list[int]:
        """``features._internal_legs`` for a row appended last: a negative line takes its first
        matching positive; a positive one is the first match of negatives that had none.
        Returns the stored rows that became a leg."""
        c = self._cols
        amount, day, account = int(c["amount"][r]), int(c["day"][r]), int(c["account"][r])
        flipped: list[int] = []

        def match(j: int) -> bool:
            return int(c["account"][j]) != account and abs(int(c["day"][j]) - day) <= 4

        if amount < 0:
            j = next((j for j in self._groups["pos"].get(-amount, ()) if match(j)), None)
            if j is not None:
                c["leg"][r] = c["leg"][j] = True
                flipped.append(j)
        elif amount > 0:
            for i in self._groups["neg"].get(-amount, ()):
                if not c["leg"][i] and match(i):
                    c["leg"][i] = c["leg"][r] = True
                    flipped.append(i)
        return flipped

    def _recategorize(self, r: int, category: str) -> None:
        """A stored line's category changed (the old leg of a new transfer pair)."""
        if self.category[r] == category:
            return
        out = bool(self._cols["amount"][r] < 0)
        abs_log = float(self._cols["abs_log"][r])
        self._cat_log(self.category[r], out).remove(abs_log)
        self._cat_log(category, out).add(abs_log)
        self.category[r] = category
        self._cols["transfer"][r] = category.startswith("transfer.")
        self._refresh_internal(r)

    # -- scoring -------------------------------------------------------------------------
    def score(
        self, transactions: Sequence[Transaction], categories: Mapping[str, str] | None = None
    ) -> list[AnomalyResult] | None:
        """Append the new lines (their categories from enrichment) and return the verdicts the
        real-time path stores: the new lines, and alerts in an incident with one of them.
        Lines already in the context are not appended again (a retried batch). ``None``: the
        lines fall outside what the context can judge incrementally (rebuild and retry)."""
        cats = dict(categories or {})
        fresh = [t for t in transactions if t.transaction_id not in self.index]
        for t in fresh:
            if t.business_id != self.business_id:
                raise ValueError("a line of another business")
            day = (t.value_date if (t.card_id and t.value_date) else t.booking_date).toordinal()
            if day < self.first_day or day > self.last_day + MAX_DAYS_AHEAD:
                return None
        if cats and not self.has_categories:
            self.has_categories = True
            self._refresh_all_internal()
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

    def _rank_incidents(self, incidents: Iterable[int], scores: dict[int, dict]) -> None:
        """Re-rank ``incidents`` after their members' scores changed (``scores``: all rows'),
        as ``fuse.incident_candidates`` would: best score, candidate when the best rule score
        reaches the threshold. ``_inc_members`` must already hold their members."""
        for inc in incidents:
            old = self._inc_key.pop(inc, None)
            if old is not None:
                del self._ranked[bisect.bisect_left(self._ranked, old)]
            members = self._inc_members.get(inc)
            if not members:
                self._inc_members.pop(inc, None)
                continue
            if max(scores[i]["rule_score"] for i in members) >= self.budget.threshold:
                key = (-max(scores[i]["score"] for i in members), inc)
                bisect.insort(self._ranked, key)
                self._inc_key[inc] = key

    def _raised(self, rows: Iterable[int]) -> set[int]:
        """Which of ``rows`` are alerts: their incident is among the budget's best
        (``fuse.within_budget`` over every scored line of the business)."""
        top = self.budget.max_alerts(self.n)
        raised = set()
        for r in rows:
            s = self._scores.get(r)
            key = self._inc_key.get(s["incident"]) if s is not None else None
            if key is not None and bisect.bisect_left(self._ranked, key) < top:
                raised.add(r)
        return raised

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
            f, txs, limits=fitted.limits, config=self.config, has_cards=self._card_lines > 0,
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
        changed: set[int] = set()
        for r in core:
            old = self._scores.pop(r, None)
            if old is not None:
                self._inc_members[old["incident"]].discard(r)
                changed.add(old["incident"])
        for r, s in scored.items():
            self._scores[r] = s
            self._inc_members.setdefault(s["incident"], set()).add(r)
            changed.add(s["incident"])
        self._rank_incidents(changed, self._scores)
        raised = self._raised(core)
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
    """Business-wide figures of one scoring call, and each row's features against them:
    read from the context's incremental state, so a row costs about the same whatever the
    history's size."""

    def __init__(self, ctx: ScoringContext) -> None:
        self.ctx = ctx
        c, n = ctx._cols, ctx.n
        self.c = {k: v[:n] for k, v in c.items()}
        self.internal = self.c["internal"]
        self.sorted_out = ctx._out_sorted.view()
        self.any_out = len(self.sorted_out) > 0
        self.typical = ctx.typical_month() if self.any_out else 1.0

    def month_share(self, r: int) -> float:
        return float(self.c["major"][r] / max(self.typical, 1e-9)) if self.any_out else 0.0

    def row(self, r: int, shallow: bool = False) -> dict:
        """Row ``r``'s engineered features (``shallow``: without its own duplicate lookup —
        a support row, whose verdict is not taken from this call)."""
        ctx, c, cfg, g = self.ctx, self.c, self.ctx.config, self.ctx._groups
        amount, card = int(c["amount"][r]), int(c["card"][r])
        day = int(c["day"][r])
        key = rank_key(day, r)
        out = amount < 0
        payee = int(c["payee"][r])
        value = float(c["abs_log"][r])
        grp = ctx._payees[(payee, out, card >= 0)]
        med, mad, regular = grp.stats()
        z = float((value - med) / np.maximum(_MAD_TO_SIGMA * mad, cfg.min_log_spread))
        z_arr = np.float64(z)
        spread = (abs(value - med) / np.maximum(abs(z_arr), 1e-9)
                  if abs(z) > 1e-9 else cfg.min_log_spread)  # fmt: skip
        high = 0
        for exp, amounts in grp.amounts.items():  # |amount| >= ratio × the median in minor
            limit = cfg.spike_min_ratio * (np.expm1(med) * np.power(10.0, np.int8(exp)))
            high += amounts.n - int(amounts.view().searchsorted(limit, side="left"))
        count = len(grp.keys)
        category = ctx.category[r]
        cat_z = 0.0
        if category:
            cmed, cmad = ctx._category_stats(category, out)
            cat_z = float((value - cmed) / np.maximum(_MAD_TO_SIGMA * cmad, cfg.min_log_spread))
        major = float(c["major"][r])
        out_rank = 0.0
        if self.any_out and out and not self.internal[r]:
            out_rank = float(self.sorted_out.searchsorted(major, side="right")
                             / len(self.sorted_out))  # fmt: skip
        size, first = 0, -1
        if out and card >= 0 and major <= cfg.small_charge_major:
            burst = g["burst"][(card, day, payee)]
            size = len(burst)
            first = burst[0] if size >= cfg.burst_min_charges else -1
        new_place = False
        place = int(c["place"][r])
        if place >= 0:
            card_rank = bisect.bisect_left(ctx._ranks[("card", card)], key)
            at_place = bisect.bisect_left(ctx._ranks[("place", card, place)], key)
            new_place = at_place == 0 and card_rank >= cfg.place_min_history
        hours = ctx._card_hours.get(card, [0, 0])
        return {
            "internal": bool(self.internal[r]),
            "payee_prior": bisect.bisect_left(grp.keys, key),
            "payee_count": count,
            "payee_median_minor": float(np.expm1(med) * np.power(10.0, c["exponent"][r])),
            "payee_high": high,
            "payee_spread": float(spread),
            "payee_regular": regular and count >= 4,
            "payee_z": z,
            "category_z": cat_z,
            "month_share": self.month_share(r),
            "out_rank": out_rank,
            "burst_size": size,
            "burst_first": first,
            "duplicate_of": -1 if shallow else self._duplicate_of(r),
            "new_place": new_place,
            "mcc_prior": bisect.bisect_left(ctx._ranks[("mcc", int(c["mcc"][r]))], key),
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
        (day, row); consecutive ones within the window with the same reference chain, and a
        line duplicates the first of its chain. The chain's starts are remembered up to
        ``bound`` and recomputed forward from there (see ``DupChain``)."""
        if not self._candidate(r):
            return -1
        c = self.c
        chain = self.ctx._dups[(int(c["payee"][r]), int(c["amount"][r]))]
        sig = (self.ctx._dup_epoch, self.any_out and tuple(  # card lines' materiality
            m / max(self.typical, 1e-9) >= 0.005 for m in chain.card_majors))  # fmt: skip
        if sig != chain.sig:
            chain.sig, chain.bound = sig, (-1, -1)
            chain.start.clear()
        at = (int(c["day"][r]), r)
        if at >= chain.bound:
            self._extend(chain, at)
        root = chain.start[r]
        return root if root != r else -1

    def _extend(self, chain: DupChain, upto: tuple[int, int]) -> None:
        """Recompute ``chain.start`` from ``chain.bound`` through ``upto``."""
        order, start = chain.order, chain.start
        window = self.ctx.config.duplicate_window_days
        i = bisect.bisect_left(order, chain.bound)
        prev = next((order[j] for j in range(i - 1, -1, -1) if self._candidate(order[j][1])),
                    None)  # fmt: skip
        for d, m in order[i : bisect.bisect_right(order, upto)]:
            if not self._candidate(m):
                continue
            linked = (prev is not None and d - prev[0] <= window
                      and self._reference(m) == self._reference(prev[1]))  # fmt: skip
            start[m] = start[prev[1]] if linked and prev is not None else m
            prev = (d, m)
        chain.bound = (upto[0], upto[1] + 1)
