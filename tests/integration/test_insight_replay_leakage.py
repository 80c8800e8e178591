"""The insight replay into the hidden weeks never feeds a refresh a line from after its day.

Two proofs on a small world: every refresh is fed exactly the history and hidden lines booked
up to its origin (counted independently from the files), and cutting the hidden lines after a
day changes nothing that any refresh up to that day produced — while refreshes after it do
change, so the comparison can fail.
"""

from __future__ import annotations

import csv
import shutil
from datetime import date, timedelta
from pathlib import Path

import pytest

from ledgerlens.ml.insight_eval import Refresh, WorldRun, replay_world
from ledgerlens.ml.synth_data import iter_business_data, load_future, write_synthetic_world

SEED = 5307
WEEKS, AHEAD, CUT_WEEKS = 2, 5, 3


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_synthetic_world(4, 6, SEED, tmp_path_factory.mktemp("leak"), workers=1)


@pytest.fixture(scope="module")
def full(world: Path) -> WorldRun:
    return replay_world(world, weeks=WEEKS, weeks_ahead=AHEAD)


def _cut_copy(world: Path, dest: Path, cut: date) -> Path:
    """The same world with every hidden line booked after ``cut`` removed."""
    shutil.copytree(world, dest)
    path = dest / "truth" / "future_transactions.csv"
    with path.open(encoding="utf-8", newline="") as fh:
        rows = list(csv.reader(fh))
    i = rows[0].index("booking_date")
    kept = [rows[0]] + [r for r in rows[1:] if date.fromisoformat(r[i]) <= cut]
    assert len(kept) < len(rows)
    with path.open("w", encoding="utf-8", newline="") as fh:
        csv.writer(fh, lineterminator="\n").writerows(kept)
    return dest


def _fingerprint(r: Refresh) -> tuple[object, ...]:
    def of(items: tuple[object, ...]) -> tuple[object, ...]:
        return tuple(
            (i.kind, i.dedup_key, i.message, i.evidence, repr(i.chart), i.transaction_ids)  # type: ignore[attr-defined]
            for i in items
        )

    return (r.lines_fed, r.lines_until, of(r.published), of(r.updated), of(r.candidates))


def test_each_refresh_is_fed_exactly_the_lines_up_to_its_day(world: Path, full: WorldRun) -> None:
    future = load_future(world)
    days: dict[str, list[date]] = {}
    for d in iter_business_data(world):
        hidden = future.get(d.business_id, ((), None))[0]
        days[d.business_id] = [t.booking_date for t in (*d.transactions, *hidden)]
    hidden_seen = 0
    assert len(full.refreshes) == 4 * (WEEKS + AHEAD)
    for r in full.refreshes:
        assert r.lines_until is not None and r.lines_until <= r.origin
        assert r.lines_fed == sum(day <= r.origin for day in days[r.business_id])
        assert r.delivered == r.origin + timedelta(days=1)
        hidden_seen += r.origin > full.history_end and r.lines_until > full.history_end
    assert hidden_seen >= 4 * AHEAD - 1  # the hidden weeks really are replayed, with their lines


def test_cutting_the_hidden_lines_after_a_day_changes_no_refresh_up_to_it(
    world: Path, full: WorldRun, tmp_path: Path
) -> None:
    cut = full.history_end + timedelta(days=7 * CUT_WEEKS)
    short = replay_world(_cut_copy(world, tmp_path / "cut", cut), weeks=WEEKS, weeks_ahead=AHEAD)
    assert [(r.business_id, r.origin) for r in short.refreshes] == [
        (r.business_id, r.origin) for r in full.refreshes
    ]
    before = [
        (a, b) for a, b in zip(full.refreshes, short.refreshes, strict=True) if a.origin <= cut
    ]
    after = [(a, b) for a, b in zip(full.refreshes, short.refreshes, strict=True) if a.origin > cut]
    assert len(before) == 4 * (WEEKS + CUT_WEEKS) and after
    for a, b in before:
        assert _fingerprint(a) == _fingerprint(b), (a.business_id, a.origin)
    # sensitivity: after the cut the refreshes see fewer lines and say something else
    assert all(a.lines_fed > b.lines_fed for a, b in after)
    assert any(_fingerprint(a)[2:] != _fingerprint(b)[2:] for a, b in after)
