"""Categorizer speed: batch transactions/s on one core and single-transaction p99 latency,
for the shipped LedgerLens categorizer and, in the same run, a plain scikit-learn baseline
(TfidfVectorizer(word) + LogisticRegression on the raw description, predict per batch).

Timings include feature building (normalization, counterparty, meta tokens), rules and the
model; the batch is a synthetic world's lines (descriptions with dates and references, so the
normalization cache does not flatter the figure). Nothing is timed in tests.
"""

from __future__ import annotations

import contextlib
import os
import time

import numpy as np


def _one_core() -> None:
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
    with contextlib.suppress(AttributeError, OSError):
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})


def run(quick: bool = False) -> dict[str, object]:
    _one_core()
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline

    from ledgerlens.adapters.model_store import load_categorizer
    from ledgerlens.enrich.counterparties import clear_caches as clear_normalization_caches
    from ledgerlens.ml.categorizer.data import world_examples
    from ledgerlens.synth.world import generate_world

    categorizer, version = load_categorizer()
    n_biz = 8 if quick else 40
    examples = world_examples(generate_world(n_biz, 12, 99, workers=1), seed=99)
    txs = [e.tx for e in examples]
    labels = [e.label for e in examples]
    types = {e.tx.account_id: e.account_type for e in examples}

    # baseline: plain TF-IDF words + logistic regression, trained on half, timed on all
    half = len(txs) // 2
    base = make_pipeline(TfidfVectorizer(), LogisticRegression(max_iter=300))
    base.fit([t.description for t in txs[:half]], labels[:half])

    def clear_caches() -> None:
        clear_normalization_caches()

    clear_caches()
    t0 = time.perf_counter()
    results = categorizer.categorize(txs, account_types=types, with_reasons=False)
    ours_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    base.predict([t.description for t in txs])
    base_s = time.perf_counter() - t0

    rng = np.random.default_rng(1)
    picks = rng.choice(len(txs), 300 if quick else 2000, replace=False)
    clear_caches()
    ours_lat, base_lat = [], []
    for i in picks.tolist():
        tx = txs[i]
        t0 = time.perf_counter()
        categorizer.categorize([tx], account_types=types, profiles={}, with_reasons=True)
        ours_lat.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        base.predict([tx.description])
        base_lat.append(time.perf_counter() - t0)

    n = len(txs)
    ours_tps, base_tps = n / ours_s, n / base_s
    p99 = float(np.percentile(ours_lat, 99) * 1000)
    base_p99 = float(np.percentile(base_lat, 99) * 1000)
    return {
        "model": f"categorizer@{version}",
        "transactions": n,
        "batch_tx_per_s": round(ours_tps),
        "baseline_batch_tx_per_s": round(base_tps),
        "batch_speed_ratio_vs_baseline": round(ours_tps / base_tps, 2),
        "single_p50_ms": round(float(np.percentile(ours_lat, 50) * 1000), 3),
        "single_p99_ms": round(p99, 3),
        "baseline_single_p99_ms": round(base_p99, 3),
        "single_p99_ratio_vs_baseline": round(p99 / base_p99, 2),
        "abstained_share": round(sum(r.abstained for r in results) / n, 4),
        "target_batch_tx_per_s": 50_000,
        "target_single_p99_ms": 1.0,
    }
