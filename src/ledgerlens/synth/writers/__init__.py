"""``write_world``: the world as files — canonical CSV, truth, and real statement formats.

Layout under ``out_dir``::

    csv/<business_id>.csv   businesses.csv   accounts.csv        (format "csv")
    truth/*.csv truth/manifest.json                               (always)
    camt053/<business_id>/<account_id>_<yyyy-mm>.xml              (format "camt053")
    mt940/<business_id>/<account_id>_<yyyy-mm>.sta                (format "mt940")
    bankcsv/<business_id>/<account_id>.csv                        (format "bankcsv")

Per-business files are written by a process pool (fork: workers read the world they inherit,
nothing is pickled); each pool task also writes its slice of every truth file as a part file,
and the parts are concatenated in business order, so the output is byte-identical for any
number of workers.
"""

from __future__ import annotations

import multiprocessing as mp
import os
import shutil
from collections.abc import Callable, Iterable
from pathlib import Path

from ledgerlens.synth.model import SimBusiness, World
from ledgerlens.synth.writers.canonical_csv import (
    business_csv_text,
    write_accounts_csv,
    write_businesses_csv,
)
from ledgerlens.synth.writers.truth_files import TRUTH_HEADERS, truth_chunks, write_manifest

__all__ = ["FORMATS", "write_world"]

FORMATS = ("csv", "camt053", "mt940", "bankcsv")

_SHARED: dict[str, object] = {}
_CHUNK = 16  # businesses per pool task: one truth part file per task and truth file


def _write_chunk(first: int) -> dict[str, list[Path]]:
    """Write businesses [first, first + _CHUNK): their files and one truth part per truth file."""
    world: World = _SHARED["world"]  # type: ignore[assignment]
    out: Path = _SHARED["out"]  # type: ignore[assignment]
    formats: set[str] = _SHARED["formats"]  # type: ignore[assignment]
    paths: dict[str, list[Path]] = {f: [] for f in formats}
    parts: dict[str, list[str]] = {name: [] for name in TRUTH_HEADERS}
    for b in world.businesses[first : first + _CHUNK]:
        if "csv" in formats:
            p = out / "csv" / f"{b.business_id}.csv"
            p.write_text(business_csv_text(world, b), encoding="utf-8", newline="")
            paths["csv"].append(p)
        for fmt in ("camt053", "mt940", "bankcsv"):
            if fmt in formats:
                paths[fmt].extend(_statement_writer(fmt)(world, b, out / fmt / b.business_id))
        for name, text in truth_chunks(world, b).items():
            parts[name].append(text)
    for name, texts in parts.items():
        (out / "truth" / ".parts" / f"{name}.{first:07d}").write_text(
            "".join(texts), encoding="utf-8", newline=""
        )
    return paths


def _statement_writer(fmt: str) -> Callable[[World, SimBusiness, Path], list[Path]]:
    if fmt == "camt053":
        from ledgerlens.synth.writers.camt053 import write_camt053

        return write_camt053
    if fmt == "mt940":
        from ledgerlens.synth.writers.mt940 import write_mt940

        return write_mt940
    from ledgerlens.synth.writers.bank_csv import write_bank_csv

    return write_bank_csv


def write_world(
    world: World,
    out_dir: Path,
    formats: set[str],
    progress: Callable[[int, int], None] | None = None,
    *,
    workers: int | None = None,
) -> dict[str, list[Path]]:
    """Write the requested formats (subset of ``FORMATS``) plus the truth folder."""
    unknown = set(formats) - set(FORMATS)
    if unknown:
        raise ValueError(f"unknown formats {sorted(unknown)}; choose from {FORMATS}")
    out_dir = Path(out_dir)
    (out_dir / "truth").mkdir(parents=True, exist_ok=True)
    if "csv" in formats:
        (out_dir / "csv").mkdir(exist_ok=True)
    written: dict[str, list[Path]] = {f: [] for f in sorted(formats)}
    written["truth"] = []
    parts_dir = out_dir / "truth" / ".parts"
    parts_dir.mkdir(exist_ok=True)
    _SHARED.update(world=world, out=out_dir, formats=set(formats))
    n = len(world.businesses)
    starts = list(range(0, n, _CHUNK))
    if workers is None:
        workers = min(2, os.cpu_count() or 1) if n >= 4 * _CHUNK else 1
    try:
        if workers > 1 and "fork" in mp.get_all_start_methods():
            with mp.get_context("fork").Pool(workers) as pool:
                _collect(pool.imap(_write_chunk, starts), written, n, progress)
        else:
            _collect(map(_write_chunk, starts), written, n, progress)
    finally:
        _SHARED.clear()
    for name, header in TRUTH_HEADERS.items():
        with (out_dir / "truth" / name).open("wb") as fh:
            fh.write((",".join(header) + "\n").encode("utf-8"))
            for first in starts:
                part = parts_dir / f"{name}.{first:07d}"
                with part.open("rb") as src:
                    shutil.copyfileobj(src, fh, 1 << 20)
                part.unlink()
    parts_dir.rmdir()
    if "csv" in formats:
        written["csv"].append(write_businesses_csv(world, out_dir / "businesses.csv"))
        written["csv"].append(write_accounts_csv(world, out_dir / "accounts.csv"))
    written["truth"] = [out_dir / "truth" / name for name in TRUTH_HEADERS]
    written["truth"].append(write_manifest(world, out_dir / "truth" / "manifest.json", written))
    return written


def _collect(
    results: Iterable[dict[str, list[Path]]],
    written: dict[str, list[Path]],
    n: int,
    progress: Callable[[int, int], None] | None,
) -> None:
    done = 0
    for paths in results:
        for fmt, ps in paths.items():
            written[fmt].extend(ps)
        done = min(n, done + _CHUNK)
        if progress:
            progress(done, n)
