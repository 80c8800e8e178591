"""``ledgerlens generate``: the synthetic world to files and/or the database, with progress bars."""

from __future__ import annotations

from pathlib import Path

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from ledgerlens.core.errors import ValidationError

__all__ = ["run_generate"]


def run_generate(
    businesses: int,
    months: int,
    seed: int,
    out: Path | None,
    formats: set[str],
    db: bool,
    console: Console,
) -> None:
    from ledgerlens.synth import FORMATS, generate_world, write_world

    unknown = formats - set(FORMATS)
    if unknown:
        raise ValidationError(
            f"unknown format(s) {', '.join(sorted(unknown))}; choose from {', '.join(FORMATS)}"
        )
    columns = (
        TextColumn("[progress.description]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
    )
    with Progress(*columns, console=console, transient=False) as progress:
        task = progress.add_task("generating", total=businesses)
        world = generate_world(
            businesses,
            months,
            seed,
            progress=lambda done, total: progress.update(task, completed=done, total=total),
        )
        n_lines = sum(len(b.txns) for b in world.businesses)
        if out is not None:
            wtask = progress.add_task("writing files", total=businesses)
            written = write_world(
                world,
                out,
                formats,
                progress=lambda done, total: progress.update(wtask, completed=done, total=total),
            )
        if db:
            from ledgerlens.bootstrap import bootstrap
            from ledgerlens.jobs.world_loader import load_world

            c = bootstrap()
            dtask = progress.add_task("loading database", total=businesses)
            try:
                _, new_rows = load_world(
                    c.uow_factory,
                    world,
                    progress=lambda done, total: progress.update(dtask, completed=done),
                )
            finally:
                c.dispose()
    console.print(
        f"world seed={seed}: {businesses} businesses × {months} months, {n_lines} lines "
        f"(history to {world.history_end}, hidden future to {world.future_end})"
    )
    if out is not None:
        for fmt, paths in sorted(written.items()):
            console.print(f"  {fmt}: {len(paths)} files under {out}")
    if db:
        console.print(f"  database: {new_rows} new transactions")
