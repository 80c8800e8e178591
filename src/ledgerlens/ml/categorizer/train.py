"""``train_categorizer``: synthetic world -> split by business -> fit -> calibrate -> store.

The world is generated from a seed, so a training run is reproducible from its manifest
(businesses, months, seed and the data snapshot hash). Identical (features, label) rows are
merged with their count as sample weight, which makes fitting several times faster on bank
data (the same supplier line recurs every month). Consented owner corrections
(``CorrectionStore.training_examples()``) join the training rows.
"""

from __future__ import annotations

import hashlib
import json
import platform
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ledgerlens.adapters.model_store import ModelStore, StoredModel, dumps_skops
from ledgerlens.core.ledger import Transaction
from ledgerlens.core.taxonomy import load_taxonomy
from ledgerlens.enrich.categorize.features import FEATURE_SCHEMA, FeatureRow, feature_rows
from ledgerlens.enrich.categorize.model import CategorizerModel
from ledgerlens.enrich.categorize.service import Categorizer
from ledgerlens.enrich.counterparties import normalize_counterparty
from ledgerlens.ml.categorizer.data import (
    Example,
    snapshot_hash,
    split_by_business,
    world_examples,
)
from ledgerlens.ml.categorizer.metrics import categorizer_metrics

__all__ = ["SEEN_FILE", "TrainResult", "counterparty_digest", "rows_for", "train_categorizer"]

SEEN_FILE = "seen_counterparties.json"
Log = Callable[[str], None]


@dataclass(frozen=True, slots=True)
class TrainResult:
    stored: StoredModel
    validation: dict[str, Any]


def rows_for(examples: Sequence[Example], with_context: bool = True) -> list[FeatureRow]:
    """Feature rows of examples, with each business's profile (and, unless ``with_context`` is
    False, its aggregates) computed over its own lines."""
    return feature_rows(
        [e.tx for e in examples], {e.tx.account_id: e.account_type for e in examples},
        contexts=None if with_context else {},
    )  # fmt: skip


NO_CONTEXT_SHARE = 0.25  # training rows repeated without the aggregate tokens
CLASS_WEIGHT_POWER = 0.5  # square root: rare classes count, without drowning the common ones


def class_weights(labels: Sequence[str], cap: float = 50.0) -> dict[str, float]:
    """Capped inverse class frequency (to ``CLASS_WEIGHT_POWER``): a class with 14 lines in a
    world of 400,000 must still move the decision boundary, but not by a factor of 10,000."""
    counts = Counter(labels)
    total, k = sum(counts.values()), len(counts)
    return {c: min(cap, (total / (k * n)) ** CLASS_WEIGHT_POWER) for c, n in counts.items()}


def counterparty_digest(tx: Transaction) -> str:
    """12 hex of the counterparty key: lets evaluation tell unseen payees without storing names."""
    key = normalize_counterparty(tx.description, tx.counterparty_name, tx.mcc).key
    return hashlib.sha256(key.encode()).hexdigest()[:12]


def _library_versions() -> dict[str, str]:
    import numpy
    import sklearn
    import skops

    return {"python": platform.python_version(), "scikit-learn": sklearn.__version__,
            "numpy": numpy.__version__, "skops": skops.__version__}  # fmt: skip


def default_version(store: ModelStore, name: str = "categorizer") -> str:
    """``YYYY.MM.n``: the next free number this month."""
    head = datetime.now(UTC).strftime("%Y.%m")
    taken = {v for v in store.versions(name) if v.startswith(head + ".")}
    n = 1
    while f"{head}.{n}" in taken:
        n += 1
    return f"{head}.{n}"


def train_categorizer(
    store: ModelStore,
    *,
    businesses: int = 200,
    months: int = 12,
    seed: int = 7,
    validation_share: float = 0.2,
    version: str | None = None,
    extra_examples: Sequence[tuple[Transaction, str]] = (),
    model_params: dict[str, Any] | None = None,
    log: Log = lambda _: None,
) -> TrainResult:
    """Train, calibrate, validate and store a categorizer; see the module docstring."""
    from ledgerlens.synth.world import generate_world

    log(f"generating a world of {businesses} businesses x {months} months (seed {seed})")
    world = generate_world(businesses, months, seed)
    examples = world_examples(world, seed=seed)
    examples += [Example(tx, label, "") for tx, label in extra_examples]
    train, val = split_by_business(examples, validation_share, seed)
    log(f"{len(train)} training and {len(val)} validation transactions")
    x_train, x_val = rows_for(train), rows_for(val)
    bare = rows_for(train, with_context=False)
    merged = Counter(zip(x_train, (e.label for e in train), strict=True))
    for i, (row, e) in enumerate(zip(bare, train, strict=True)):
        if (i * 2654435761) % 1000 < NO_CONTEXT_SHARE * 1000:
            merged[(row, e.label)] += 1
    weights = class_weights([e.label for e in train])
    model = CategorizerModel(**(model_params or {}))
    log(f"fitting on {len(merged)} distinct rows")
    model.fit([k[0] for k in merged], [k[1] for k in merged],
              sample_weight=[n * weights[k[1]] for k, n in merged.items()])  # fmt: skip
    model.calibrate(x_val, [e.label for e in val])
    version = version or default_version(store)
    categorizer = Categorizer(model, version)
    predicted = categorizer.categorize(
        [e.tx for e in val], account_types={e.tx.account_id: e.account_type for e in val},
        with_reasons=False,
    )  # fmt: skip
    validation = categorizer_metrics([e.label for e in val], [r.category for r in predicted])
    log(f"validation: macro-F1 {validation['macro_f1']}, coverage {validation['coverage']}, "
        f"accuracy on covered {validation['accuracy_covered']}")  # fmt: skip
    manifest = {
        "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "kind": "skops",
        "data": {"generator": "ledgerlens.synth", "businesses": businesses, "months": months,
                 "seed": seed, "validation_share": validation_share,
                 "train_transactions": len(train), "validation_transactions": len(val),
                 "distinct_training_rows": len(merged), "extra_examples": len(extra_examples),
                 "snapshot_sha256": snapshot_hash(examples)},
        "metrics": {"validation": {k: v for k, v in validation.items() if k != "per_class"}},
        "calibration": {"temperature": round(model.temperature_, 6),
                        "abstain_threshold": round(model.threshold_, 6),
                        "target_accuracy": model.target_accuracy},
        "params": {k: list(v) if isinstance(v, tuple) else v
                   for k, v in model.get_params().items()},
        "classes": [str(c) for c in model.classes_],
        "taxonomy_version": load_taxonomy().version,
        "feature_schema": FEATURE_SCHEMA,
        "libraries": _library_versions(),
        "files": {"seen_counterparties": SEEN_FILE},
    }  # fmt: skip
    stored = store.save("categorizer", version, dumps_skops(model), "model.skops", manifest)
    seen = sorted({counterparty_digest(e.tx) for e in train})
    (stored.path / SEEN_FILE).write_text(json.dumps(seen, separators=(",", ":")) + "\n", "utf-8")
    log(f"stored categorizer@{version} in {stored.path}")
    return TrainResult(stored, validation)


def read_seen(stored_path: Path) -> set[str]:
    path = stored_path / SEEN_FILE
    return set(json.loads(path.read_text("utf-8"))) if path.is_file() else set()
