"""Vectorized numpy kernels: the residual-flow model and the Monte Carlo balance paths.

Why Monte Carlo rather than analytic quantiles: the question a business asks is about the
*lowest* balance in a week, a path property; the quantiles of a sum do not answer it. Paths
also let a what-if reuse the same random draws (common random numbers), so the change in a
week's shortfall probability is the effect of the change, not sampling noise.

The residual flow (what no known item explains) is modelled per account as

    mean(h) = level + trend·h + weekday(h) + day_of_month(h) + yearly(h) + run_rates(h)

- ``level``: the mean of the last ``level_days`` days, de-seasonalized when a year of history
  exists; ``trend``: the damped change between the last two ``level_days`` windows;
- ``weekday`` and ``day_of_month``: shrunk mean deviations (few observations per day of month);
- ``yearly``: last year's smoothed flow around the same date minus last year's flow around the
  origin, used only with ≥ 13 months of history;
- noise: 7-day blocks of in-sample errors bootstrapped *jointly* across accounts (a same-day
  transfer between two own accounts keeps cancelling), plus a per-path level shift whose size
  grows with the error spread — without it long horizons are over-confident.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np

__all__ = ["KernelParams", "ResidualFit", "fit_residual", "sample_items", "simulate_residual"]


@dataclass(frozen=True, slots=True)
class KernelParams:
    """Tunables of the residual model (chosen on the validation world, see docs/forecast.md)."""

    level_days: int = 182
    trend_weight: float = 0.0
    yearly_weight: float = 1.0
    dom_shrink: float = 8.0
    dow_shrink: float = 4.0
    noise_days: int = 182
    block_days: int = 7
    level_sd: float = 0.10  # per-path level shift, in units of the daily error sd / sqrt(7)
    n_paths: int = 400
    yearly_signal: float = 3.0  # > 0: weight the yearly part by its signal-to-noise ratio
    level_shrink: float = 1.0  # > 0: shrink a level that is not clearly away from zero


@dataclass(frozen=True, slots=True)
class ResidualFit:
    """Per account: expected residual flow per horizon day and the in-sample error pool."""

    mean: np.ndarray  # (A, H)
    errors: np.ndarray  # (A, L) aligned across accounts (same calendar days)
    level_sd: np.ndarray  # (A,)
    history_days: int


def _calendar(start: date, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Weekday (0 = Monday) and day of month (1..31) for ``n`` days from ``start``."""
    d0 = np.datetime64(start, "D")
    days = d0 + np.arange(n)
    dow = ((days.astype(np.int64) + 3) % 7).astype(np.int64)  # 1970-01-01 was a Thursday
    months = days.astype("datetime64[M]")
    dom = (days - months.astype("datetime64[D]")).astype(np.int64) + 1
    return dow, dom


def _group_dev(values: np.ndarray, keys: np.ndarray, n_keys: int, shrink: float) -> np.ndarray:
    """Shrunk mean deviation of ``values`` per key, rows = accounts. Shape (A, n_keys)."""
    a = values.shape[0]
    if values.shape[1] == 0:
        return np.zeros((a, n_keys))
    centred = values - values.mean(axis=1, keepdims=True)
    sums = np.zeros((a, n_keys))
    for k in range(a):
        sums[k] = np.bincount(keys, weights=centred[k], minlength=n_keys)
    counts = np.bincount(keys, minlength=n_keys).astype(float)
    return sums / (counts + shrink)


def fit_residual(
    residual: np.ndarray,
    as_of: date,
    horizon_days: int,
    params: KernelParams,
    run_rates: list[list[tuple[int, float, str]]] | None = None,
) -> ResidualFit:
    """Fit the residual model on ``residual`` (A, T): T days ending on ``as_of`` inclusive."""
    r = np.asarray(residual, dtype=float)
    if r.ndim == 1:
        r = r[None, :]
    a, t = r.shape
    h = horizon_days
    start = as_of - timedelta(days=t - 1)
    dow_hist, dom_hist = _calendar(start, t)
    dow_f, dom_f = _calendar(as_of + timedelta(days=1), h)

    ld = min(params.level_days, max(t, 1))
    recent = r[:, t - ld :] if t else np.zeros((a, 1))
    level = recent.mean(axis=1) if t else np.zeros(a)

    yearly = np.zeros((a, h))
    year_ok = t >= 365 + 30 + 7
    if year_ok:
        # last year's flow around each forecast day, minus last year's flow around the origin
        csum = np.concatenate([np.zeros((a, 1)), np.cumsum(r, axis=1)], axis=1)
        half = 14

        def window_mean(centre: np.ndarray) -> np.ndarray:
            lo = np.clip(centre - half, 0, t)
            hi = np.clip(centre + half + 1, 0, t)
            return (csum[:, hi] - csum[:, lo]) / np.maximum(hi - lo, 1)

        idx_origin = t - 1
        f_centres = idx_origin + np.arange(1, h + 1) - 365
        base_lo, base_hi = max(0, t - 365 - ld), t - 365
        base = (csum[:, base_hi] - csum[:, base_lo]) / max(base_hi - base_lo, 1)
        yearly = params.yearly_weight * (window_mean(f_centres) - base[:, None])
        if params.yearly_signal > 0:
            # how clearly last year's months differ, against the noise of a monthly mean
            blocks = r[:, t - 364 :].reshape(a, 13, 28).mean(axis=2)
            between = blocks.var(axis=1)
            noise = r[:, t - 364 :].var(axis=1) / 28.0
            w = between / (between + params.yearly_signal * noise + 1e-9)
            yearly = yearly * w[:, None]

    if params.level_shrink > 0 and t > 1:
        se2 = recent.var(axis=1) / max(ld, 1)
        level = level * level**2 / (level**2 + params.level_shrink * se2 + 1e-9)
    trend = np.zeros(a)
    if t >= 2 * ld and params.trend_weight:
        prev = r[:, t - 2 * ld : t - ld].mean(axis=1)
        slope = (level - prev) / ld
        if year_ok:  # remove the part of the change last year's calendar explains
            ly_recent = r[:, t - 365 - ld : t - 365].mean(axis=1)
            ly_prev = r[:, max(0, t - 365 - 2 * ld) : t - 365 - ld].mean(axis=1)
            slope = slope - params.yearly_weight * (ly_recent - ly_prev) / ld
        trend = params.trend_weight * slope

    span = min(t, 364)
    dom_dev = _group_dev(r[:, t - span :], dom_hist[t - span :], 32, params.dom_shrink)
    nd = min(t, params.noise_days)
    dow_dev = _group_dev(r[:, t - nd :], dow_hist[t - nd :], 7, params.dow_shrink)

    steps = np.arange(1, h + 1, dtype=float)
    mean = level[:, None] + trend[:, None] * (steps + ld / 2.0) + dow_dev[:, dow_f]
    mean += dom_dev[:, dom_f] + yearly
    if run_rates:
        for k, streams in enumerate(run_rates):
            for first_day, rate, _label in streams:
                mean[k, max(first_day - 1, 0) :] += rate

    if nd:
        fitted = level[:, None] + dow_dev[:, dow_hist[t - nd :]] + dom_dev[:, dom_hist[t - nd :]]
        errors = r[:, t - nd :] - fitted
        # the pool carries noise only: left uncentred, its window mean silently replaced the
        # level (and undid its shrinkage) — fixed in 2026.12.3
        errors = errors - errors.mean(axis=1, keepdims=True)
    else:
        errors = np.zeros((a, 1))
    sd = errors.std(axis=1) if errors.shape[1] > 1 else np.zeros(a)
    return ResidualFit(mean, errors, params.level_sd * sd / np.sqrt(7.0), t)


def simulate_residual(
    fit: ResidualFit, params: KernelParams, rng: np.random.Generator, n_paths: int
) -> np.ndarray:
    """Residual flow paths (N, A, H): mean + jointly bootstrapped error blocks + level shift."""
    a, h = fit.mean.shape
    pool = fit.errors
    length = pool.shape[1]
    b = max(1, min(params.block_days, length))
    n_blocks = -(-h // b)
    starts = rng.integers(0, max(length - b + 1, 1), size=(n_paths, n_blocks))
    idx = (starts[:, :, None] + np.arange(b)[None, None, :]).reshape(n_paths, -1)[:, :h]
    out = np.ascontiguousarray(np.transpose(pool[:, idx], (1, 0, 2)))  # (N, A, H)
    out += fit.mean[None, :, :]
    shift = rng.standard_normal((n_paths, a)) * fit.level_sd[None, :]
    # the level shift grows like a random walk in the mean: sqrt(h) scaling of a daily shift
    out += shift[:, :, None] * np.sqrt(np.arange(1, h + 1, dtype=float))[None, None, :]
    return out


def sample_items(
    account_idx: np.ndarray,
    day: np.ndarray,
    amount: np.ndarray,
    probability: np.ndarray,
    jitter: np.ndarray,
    amount_sd: np.ndarray,
    n_accounts: int,
    horizon_days: int,
    rng: np.random.Generator,
    n_paths: int,
) -> np.ndarray:
    """Known items as flows (N, A, H): each path draws whether, when and how much.

    ``day`` is the 1-based horizon day; items landing outside the horizon drop out.
    """
    width = horizon_days + 2
    size = n_paths * n_accounts * width
    out = np.zeros(size)
    if len(day):
        # certain items (p = 1, exact day and amount) consume no random numbers, so adding or
        # moving one in a what-if leaves every other draw unchanged
        fixed = (probability >= 1.0) & (jitter <= 0) & (amount_sd <= 0)
        if fixed.any():
            one = np.bincount(
                account_idx[fixed] * width + np.clip(day[fixed], 0, horizon_days + 1),
                weights=amount[fixed],
                minlength=n_accounts * width,
            )
            out += np.tile(one, n_paths)
        s = ~fixed
        k = int(s.sum())
        if k:
            occurs = rng.random((n_paths, k)) < probability[s][None, :]
            u = rng.uniform(-1.0, 1.0, (n_paths, k)) * jitter[s][None, :]
            d = np.clip(day[s][None, :] + np.rint(u).astype(np.int64), 0, horizon_days + 1)
            z = rng.standard_normal((n_paths, k))
            amt = np.where(occurs, amount[s][None, :] + z * amount_sd[s][None, :], 0.0)
            flat = (np.arange(n_paths)[:, None] * n_accounts + account_idx[s][None, :]) * width + d
            out += np.bincount(flat.ravel(), weights=amt.ravel(), minlength=size)
    return out.reshape(n_paths, n_accounts, width)[:, :, 1 : horizon_days + 1]
