"""``evaluate_categorizer``: a TEST world (another seed, unseen businesses) judged on its truth.

Reports macro-F1 (abstentions count as misses), coverage, accuracy on covered transactions,
the per-class table, and the same figures for transactions whose counterparty never appeared in
training (by the hashed counterparty keys stored beside the model). ``write_markdown`` puts the
result in the categorizer section of docs/EVALUATION.md, leaving other sections alone.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from ledgerlens.enrich.categorize.service import Categorizer
from ledgerlens.ml.categorizer.data import world_examples
from ledgerlens.ml.categorizer.metrics import categorizer_metrics
from ledgerlens.ml.categorizer.train import counterparty_digest

__all__ = ["TARGETS", "evaluate_categorizer", "write_markdown"]

TARGETS = {"macro_f1": 0.95, "coverage": 0.95, "accuracy_covered": 0.98}
START, END = "<!-- categorizer:start -->", "<!-- categorizer:end -->"


def evaluate_categorizer(
    categorizer: Categorizer,
    seen_counterparties: set[str],
    *,
    businesses: int = 60,
    months: int = 12,
    seed: int = 20261,
) -> dict[str, Any]:
    from ledgerlens.synth.world import generate_world

    world = generate_world(businesses, months, seed)
    examples = world_examples(world, seed=seed)
    txs = [e.tx for e in examples]
    t0 = time.perf_counter()
    results = categorizer.categorize(
        txs, account_types={e.tx.account_id: e.account_type for e in examples},
        with_reasons=False,
    )  # fmt: skip
    seconds = time.perf_counter() - t0
    labels = [e.label for e in examples]
    predicted = [r.category for r in results]
    report = categorizer_metrics(labels, predicted)
    unseen = [i for i, tx in enumerate(txs) if counterparty_digest(tx) not in seen_counterparties]
    unseen_report = categorizer_metrics([labels[i] for i in unseen], [predicted[i] for i in unseen])
    sources: dict[str, int] = {}
    for r in results:
        kind = r.source.split(":")[0] if r.source.startswith("model:") else r.source
        sources[kind] = sources.get(kind, 0) + 1
    report.update(
        model=categorizer.source,
        test_world={"businesses": businesses, "months": months, "seed": seed},
        unseen_counterparties={k: v for k, v in unseen_report.items() if k != "per_class"},
        sources=dict(sorted(sources.items())),
        seconds=round(seconds, 2),
        targets=TARGETS,
        meets_targets={k: report[k] >= v for k, v in TARGETS.items()},
    )
    return report


def _markdown(report: dict[str, Any]) -> str:
    u = report["unseen_counterparties"]
    tw = report["test_world"]
    lines = [
        START,
        "## Categorizer",
        "",
        f"Model `{report['model'].removeprefix('model:')}` on a synthetic TEST world "
        f"({tw['businesses']} businesses never seen in training, {tw['months']} months, seed "
        f"{tw['seed']}); {report['transactions']} transactions. Written by "
        "`ledgerlens evaluate categorizer`. Abstentions count as misses in F1.",
        "",
        "| metric | value | target |",
        "|---|---|---|",
    ]
    for k, target in TARGETS.items():
        mark = "✅" if report["meets_targets"][k] else "❌"
        lines.append(f"| {k} | {report[k]:.4f} | ≥ {target} {mark} |")
    lines += [
        f"| accuracy_all | {report['accuracy_all']:.4f} | |",
        "",
        f"Transactions whose counterparty never appeared in training: {u['transactions']} — "
        f"macro-F1 {u['macro_f1']:.4f}, coverage {u['coverage']:.4f}, accuracy on covered "
        f"{u['accuracy_covered']:.4f}.",
        "",
        "Sources: " + ", ".join(f"`{k}` {v}" for k, v in report["sources"].items()) + ".",
        "",
        "| category | precision | recall | F1 | coverage | support |",
        "|---|---|---|---|---|---|",
    ]
    for row in report["per_class"]:
        lines.append(f"| {row['category']} | {row['precision']:.4f} | {row['recall']:.4f} | "
                     f"{row['f1']:.4f} | {row['coverage']:.4f} | {row['support']} |")  # fmt: skip
    lines += ["", END]
    return "\n".join(lines)


def write_markdown(report: dict[str, Any], path: Path) -> Path:
    """Replace (or append) the categorizer section of ``path``."""
    section = _markdown(report)
    text = path.read_text("utf-8") if path.is_file() else "# Evaluation\n\n"
    if START in text and END in text:
        head, rest = text.split(START, 1)
        text = head + section + rest.split(END, 1)[1]
    else:
        text = text.rstrip("\n") + "\n\n" + section + "\n"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, "utf-8")
    return path
