"""Run one business's forecast: simulate, summarize, score the weeks.

The random streams are derived from the business id and the origin, so the same input gives the
same forecast, and a what-if that only moves or adds certain items sees the very same residual
noise and the same draws for every other item (common random numbers): the difference between
two forecasts is the effect of the change alone.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass
from datetime import date

import numpy as np

from ledgerlens.analyze.cashflow.consolidate import (
    account_bands_reusing,
    bands,
    consolidated_paths,
    operating_paths,
)
from ledgerlens.analyze.cashflow.kernels import (
    KernelParams,
    ResidualFit,
    fit_residual,
    sample_items,
    simulate_residual,
)
from ledgerlens.analyze.cashflow.model import SOURCE, Forecast, ForecastInput
from ledgerlens.analyze.cashflow.shortfall import (
    Calibration,
    default_calibration,
    week_risks,
    week_windows,
)

__all__ = ["Simulation", "forecast", "simulate"]


@dataclass(frozen=True, slots=True)
class Simulation:
    """Raw simulation of one input: account paths (N, A, H) and the parts they came from."""

    paths: np.ndarray
    item_in: np.ndarray  # (A, H) expected inflows of the known items (probability-weighted)
    item_out: np.ndarray  # (A, H) expected outflows of the known items (≤ 0)
    fit: ResidualFit


def _seed(business_id: str, as_of: date) -> int:
    return zlib.crc32(f"{business_id}|{as_of.isoformat()}".encode()) & 0x7FFFFFFF


def simulate(
    inp: ForecastInput, params: KernelParams | None = None, seed: int | None = None
) -> Simulation:
    """Residual paths + item draws + openings → balance paths per account."""
    params = params or KernelParams()
    h, n = inp.horizon_days, params.n_paths
    seed = _seed(inp.business_id, inp.as_of) if seed is None else seed
    residual = np.vstack([np.asarray(a.residual_minor, dtype=float) for a in inp.accounts])
    run_rates = [list(a.run_rate_items) for a in inp.accounts]
    fit = fit_residual(residual, inp.as_of, h, params, run_rates)
    flows = simulate_residual(fit, params, np.random.default_rng([seed, 0]), n)

    acc_ix = {a.account_id: k for k, a in enumerate(inp.accounts)}
    items = inp.items
    k, n_acc = len(items), len(inp.accounts)
    origin = inp.as_of.toordinal()
    acc = np.fromiter((acc_ix[i.account_id] for i in items), np.int64, k)
    day = np.fromiter((i.due_date.toordinal() - origin for i in items), np.int64, k)
    amount = np.fromiter((i.amount_minor for i in items), np.float64, k)
    prob = np.fromiter((i.probability for i in items), np.float64, k)
    flows += sample_items(
        acc,
        day,
        amount,
        prob,
        np.fromiter((i.jitter_days for i in items), np.float64, k),
        np.fromiter((i.amount_sd_minor for i in items), np.float64, k),
        n_acc,
        h,
        np.random.default_rng([seed, 1]),
        n,
    )
    np.cumsum(flows, axis=2, out=flows)
    flows += np.array([a.opening_minor for a in inp.accounts], dtype=float)[None, :, None]
    # expected item flows per day for the chart (due day, probability-weighted)
    ok = (day >= 1) & (day <= h)
    slot = acc[ok] * h + day[ok] - 1
    expected = amount[ok] * prob[ok]
    size = n_acc * h
    item_in = np.bincount(slot, np.clip(expected, 0, None), size).reshape(n_acc, h)
    item_out = np.bincount(slot, np.clip(expected, None, 0), size).reshape(n_acc, h)
    return Simulation(flows, item_in, item_out, fit)


def forecast(
    inp: ForecastInput,
    *,
    params: KernelParams | None = None,
    calibration: Calibration | None = None,
    align: str = "monday",
    seed: int | None = None,
    keep_paths: bool = False,
) -> Forecast:
    """The full forecast of one business (see ``model.Forecast``).

    ``keep_paths`` keeps the simulated operating paths on the result (~300 kB a business), for
    callers that need path properties; batch runs leave it off."""
    params = params or KernelParams()
    calibration = calibration if calibration is not None else default_calibration()
    sim = simulate(inp, params, seed)
    cons = consolidated_paths(sim.paths, inp.accounts)
    oper = operating_paths(sim.paths, inp.accounts)
    windows = week_windows(inp.as_of, inp.horizon_days, align)
    weeks = week_risks(oper, inp.buffer_minor, inp.as_of, windows, calibration)
    consolidated = bands(cons, inp.as_of)

    fx = np.array([a.fx_to_base for a in inp.accounts], dtype=float)
    resid_mean = fx @ sim.fit.mean
    inflow = fx @ sim.item_in + np.clip(resid_mean, 0, None)
    outflow = fx @ sim.item_out + np.clip(resid_mean, None, 0)
    return Forecast(
        business_id=inp.business_id,
        base_currency=inp.base_currency,
        as_of=inp.as_of,
        horizon_days=inp.horizon_days,
        consolidated=consolidated,
        accounts=account_bands_reusing(sim.paths, inp.accounts, inp.as_of, consolidated),
        weeks=tuple(weeks),
        inflow_mean_minor=tuple(int(v) for v in np.rint(inflow)),
        outflow_mean_minor=tuple(int(v) for v in np.rint(outflow)),
        history_days=sim.fit.history_days,
        source=SOURCE,
        evidence={
            "history_days": sim.fit.history_days,
            "known_items": len(inp.items),
            "paths": params.n_paths,
            "history_source": inp.history_source,
            "calibration": calibration.version,
        },
        paths_operating=oper.copy() if keep_paths else None,
        mean_operating=oper.mean(axis=0),
    )
