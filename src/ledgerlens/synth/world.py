"""``generate_world``: many businesses, generated in a process pool, identical for any pool size.

The calendar: by default the visible history ends on 2026-11-30 and is ``months`` long (it starts
on the 1st of a month); with ``start`` the history runs ``months`` months from that day. The
world then runs 13 more weeks (91 days) of hidden future truth.
"""

from __future__ import annotations

import multiprocessing as mp
import os
from collections.abc import Callable
from datetime import date, timedelta

from ledgerlens.synth.business import generate_business
from ledgerlens.synth.fx import FxTable, build_fx_table
from ledgerlens.synth.model import SimBusiness, World
from ledgerlens.synth.truth import FUTURE_DAYS

__all__ = ["DEFAULT_HISTORY_END", "Progress", "generate_world", "world_calendar"]

DEFAULT_HISTORY_END = date(2026, 11, 30)
Progress = Callable[[int, int], None]


def world_calendar(months: int, start: date | None = None) -> tuple[date, date, date]:
    """(start, history_end, future_end) for a history of ``months`` months."""
    if months < 1:
        raise ValueError("months must be at least 1")
    if start is None:
        end = DEFAULT_HISTORY_END
        t = end.year * 12 + end.month - 1 - (months - 1)
        start = date(t // 12, t % 12 + 1, 1)
        history_end = end
    else:
        t = start.year * 12 + start.month - 1 + months
        y, m = t // 12, t % 12 + 1
        day = min(start.day, 28)
        history_end = date(y, m, day) - timedelta(days=1)
    return start, history_end, history_end + timedelta(days=FUTURE_DAYS)


_STATE: dict[str, object] = {}


def _init_worker(seed: int, start: date, history_days: int, fx: FxTable) -> None:
    _STATE.update(seed=seed, start=start, history_days=history_days, fx=fx)


def _generate_one(index: int) -> SimBusiness:
    return generate_business(
        _STATE["seed"],  # type: ignore[arg-type]
        index,
        _STATE["start"],  # type: ignore[arg-type]
        _STATE["history_days"],  # type: ignore[arg-type]
        _STATE["fx"],  # type: ignore[arg-type]
    )


def _pool_context() -> mp.context.BaseContext:
    methods = mp.get_all_start_methods()
    return mp.get_context("fork" if "fork" in methods else "spawn")


def generate_world(
    n_businesses: int,
    months: int,
    seed: int,
    *,
    start: date | None = None,
    progress: Progress | None = None,
    workers: int | None = None,
) -> World:
    """Simulate ``n_businesses`` businesses over ``months`` of history plus 13 hidden weeks.

    ``progress(done, total)`` is called after each business. ``workers`` defaults to 2 (this
    project's target machine) when there are enough businesses to pay for the pool.
    """
    if n_businesses < 0:
        raise ValueError("n_businesses must be >= 0")
    start, history_end, future_end = world_calendar(months, start)
    history_days = (history_end - start).days + 1
    fx = build_fx_table(start, history_days + FUTURE_DAYS)
    if workers is None:
        workers = min(2, os.cpu_count() or 1) if n_businesses >= 16 else 1
    businesses: list[SimBusiness] = []
    if workers <= 1:
        _init_worker(seed, start, history_days, fx)
        for i in range(n_businesses):
            businesses.append(_generate_one(i))
            if progress:
                progress(i + 1, n_businesses)
    else:
        ctx = _pool_context()
        chunk = max(1, min(8, n_businesses // (workers * 8)))
        with ctx.Pool(workers, _init_worker, (seed, start, history_days, fx)) as pool:
            for b in pool.imap(_generate_one, range(n_businesses), chunksize=chunk):
                businesses.append(b)
                if progress:
                    progress(len(businesses), n_businesses)
    return World(seed, start, history_end, future_end, businesses, fx.last_rate_date, fx)
