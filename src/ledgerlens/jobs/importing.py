"""Running imports of many files with a progress bar (the CLI and the demo share this)."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from ledgerlens.ingest.service import ImportReport, StatementImporter

__all__ = ["expand_paths", "run_imports"]


def expand_paths(paths: Iterable[Path]) -> list[Path]:
    """Files as given; folders expanded to their files (sorted, hidden files skipped)."""
    out: list[Path] = []
    for p in paths:
        if p.is_dir():
            out.extend(
                f for f in sorted(p.rglob("*")) if f.is_file() and not f.name.startswith(".")
            )
        else:
            out.append(p)
    return out


def run_imports(
    importer: StatementImporter,
    files: list[Path],
    business_id: str,
    account_id: str | None,
    fmt: str,
    *,
    quiet: bool = False,
) -> list[ImportReport]:
    reports: list[ImportReport] = []
    with Progress(
        TextColumn("[progress.description]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        disable=quiet or len(files) < 2,
        transient=True,
    ) as progress:
        task = progress.add_task("importing", total=len(files))
        for f in files:
            progress.update(task, description=f"importing {f.name}")
            reports.append(importer.import_file(f, business_id, account_id, fmt))
            progress.advance(task)
    return reports
