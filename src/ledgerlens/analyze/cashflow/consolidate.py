"""Per-account and consolidated (base-currency) views of the simulated balance paths.

The consolidated balance is the sum of every account's path converted at one rate per currency
(the latest known at the origin, so the forecast shows cash, not FX speculation). An internal
transfer books two legs with the same simulated day and opposite amounts, so it cancels in the
sum exactly; the residual noise is bootstrapped jointly across accounts for the same reason.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, timedelta

import numpy as np

from ledgerlens.analyze.cashflow.model import AccountForecast, AccountSeries, DailyBand

__all__ = [
    "account_bands",
    "bands",
    "consolidated_paths",
    "operating_paths",
    "quantiles",
]

QUANTILES = (10.0, 50.0, 90.0)


def consolidated_paths(paths: np.ndarray, accounts: Sequence[AccountSeries]) -> np.ndarray:
    """(N, A, H) account-currency paths → (N, H) base-currency paths."""
    if len(accounts) == 1:
        p = paths[:, 0, :]
        return p if accounts[0].fx_to_base == 1.0 else p * accounts[0].fx_to_base
    fx = np.array([a.fx_to_base for a in accounts], dtype=float)
    return np.einsum("nah,a->nh", paths, fx)


def operating_paths(paths: np.ndarray, accounts: Sequence[AccountSeries]) -> np.ndarray:
    """The balance that decides a shortfall: the operating account(s), in base currency."""
    mask = np.array([a.operating for a in accounts], dtype=bool)
    if not mask.any():
        mask[0] = True
    if mask.sum() == 1:
        k = int(np.flatnonzero(mask)[0])
        fx_k = accounts[k].fx_to_base
        return paths[:, k, :] if fx_k == 1.0 else paths[:, k, :] * fx_k
    fx = np.array([a.fx_to_base for a in accounts], dtype=float) * mask
    return np.einsum("nah,a->nh", paths, fx)


def quantiles(paths: np.ndarray) -> np.ndarray:
    """(3, H) p10/p50/p90 of (N, H) paths: one sort instead of three partitions (the hot spot),
    with numpy's default linear interpolation between order statistics."""
    n = paths.shape[0]
    ordered = np.sort(paths.T, axis=1)  # (H, N), contiguous rows
    pos = np.array(QUANTILES) / 100.0 * (n - 1)
    lo = np.floor(pos).astype(np.int64)
    hi = np.minimum(lo + 1, n - 1)
    frac = pos - lo
    return (ordered[:, lo] * (1 - frac) + ordered[:, hi] * frac).T


def bands(paths: np.ndarray, as_of: date, q: np.ndarray | None = None) -> tuple[DailyBand, ...]:
    """p10/p50/p90 per day, rounded once to integer minor units."""
    qi = np.rint(quantiles(paths) if q is None else q).astype(np.int64).tolist()
    first = as_of.toordinal() + 1
    return tuple(
        DailyBand(date.fromordinal(first + h), lo, mid, hi)
        for h, (lo, mid, hi) in enumerate(zip(qi[0], qi[1], qi[2], strict=True))
    )


def account_bands(
    paths: np.ndarray, accounts: Sequence[AccountSeries], as_of: date
) -> tuple[AccountForecast, ...]:
    return tuple(
        AccountForecast(a.account_id, a.currency, bands(paths[:, k, :], as_of))
        for k, a in enumerate(accounts)
    )


def account_bands_reusing(
    paths: np.ndarray,
    accounts: Sequence[AccountSeries],
    as_of: date,
    consolidated: tuple[DailyBand, ...],
) -> tuple[AccountForecast, ...]:
    """Like ``account_bands``; a lone base-currency account *is* the consolidated view."""
    if len(accounts) == 1 and accounts[0].fx_to_base == 1.0:
        return (AccountForecast(accounts[0].account_id, accounts[0].currency, consolidated),)
    return account_bands(paths, accounts, as_of)


def horizon_dates(as_of: date, horizon_days: int) -> list[date]:
    return [as_of + timedelta(days=h) for h in range(1, horizon_days + 1)]
