"""Same seed, same bytes — whatever the number of worker processes; another seed, another world."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from ledgerlens.synth import World, generate_world, world_calendar, write_world


def _digest(folder: Path) -> dict[str, str]:
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def test_same_seed_gives_byte_identical_files(
    synth_world: World, synth_files: Path, tmp_path: Path
) -> None:
    again = generate_world(len(synth_world.businesses), 12, synth_world.seed, workers=2)
    write_world(again, tmp_path, {"csv", "camt053", "mt940", "bankcsv"}, workers=2)
    first, second = _digest(synth_files), _digest(tmp_path)
    assert len(first) > 900
    assert first == second


def test_another_seed_gives_another_world(synth_world: World) -> None:
    other = generate_world(4, 12, synth_world.seed + 1, workers=1)
    mine = synth_world.businesses[:4]
    assert [b.business_id for b in other.businesses] != [b.business_id for b in mine]
    amounts = [r.amount_minor for b in other.businesses for r in b.txns[:200]]
    assert amounts != [r.amount_minor for b in mine for r in b.txns[:200]]


def test_calendar_defaults_and_explicit_start() -> None:
    from datetime import date

    start, end, future = world_calendar(18)
    assert (start, end) == (date(2025, 6, 1), date(2026, 11, 30))
    assert (future - end).days == 91
    start, end, _ = world_calendar(12, date(2024, 3, 1))
    assert (start, end) == (date(2024, 3, 1), date(2025, 2, 28))
    with pytest.raises(ValueError):
        world_calendar(0)


def test_progress_is_reported(tmp_path: Path) -> None:
    calls: list[tuple[int, int]] = []
    world = generate_world(3, 2, 5, progress=lambda d, t: calls.append((d, t)), workers=1)
    assert calls == [(1, 3), (2, 3), (3, 3)]
    calls.clear()
    files = write_world(world, tmp_path, {"csv"}, progress=lambda d, t: calls.append((d, t)))
    assert calls[-1] == (3, 3)
    assert len(files["csv"]) == 5 and (tmp_path / "truth" / "manifest.json").exists()
    with pytest.raises(ValueError):
        write_world(world, tmp_path, {"pdf"})
