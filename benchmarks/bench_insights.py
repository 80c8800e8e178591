"""Benchmark: insight noise and recall on a synthetic world, and the cost of one refresh.

Targets (issue #8, must-show 3): ≤ 3 insights per business per week on average while ≥ 90 % of
the true anomalies and shortfalls are raised. Weekly refreshes over the last 8 weeks of each
business's history and on through the 13 hidden weeks after it, each fed only the lines up to
its day, ranking state carried across (``ml.insight_eval.replay_world``): forecast + 3 what-ifs
per flagged gap, anomalies, series, taxes, builders in English, ranking. A true cash gap is
raised when a warning about it reached the owner at least a day before the balance went below
zero; the ``history_end_*`` figures are the older measure (warned at the history end, history
weeks only). ``quick``: 12 businesses × 9 months; full: 40 × 12 (seed 8808, never used while
tuning).
"""

from __future__ import annotations

import tempfile
from pathlib import Path


def run(quick: bool = False) -> dict[str, float | int | str]:
    from ledgerlens.ml.insight_eval import noise_recall, replay_world
    from ledgerlens.ml.synth_data import write_synthetic_world

    n, months = (12, 9) if quick else (40, 12)
    with tempfile.TemporaryDirectory() as tmp:
        world = write_synthetic_world(n, months, 8808, Path(tmp), workers=1)
        figures = noise_recall(replay_world(world, weeks=8, weeks_ahead=13))
    return {**figures, "world": f"{n} businesses x {months} months, seed 8808"}
