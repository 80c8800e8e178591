"""Baseline forecasters the cash-flow model is judged against, on one daily series each.

``naive`` (last value), ``seasonal_naive`` (last week repeated), statsforecast ``AutoETS``
(weekly season) and Prophet (optional extra; weekly + yearly seasonality). Each returns
``(p50, p10, p90)`` arrays of length ``h`` (p10/p90 ``None`` when the method has no interval).
Heavy libraries are imported inside the functions, and a missing one makes the baseline
``unavailable`` rather than failing the run.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import date, timedelta

import numpy as np

__all__ = ["BASELINES", "Baseline", "available", "naive", "seasonal_naive"]

Result = tuple[np.ndarray, np.ndarray | None, np.ndarray | None]
Baseline = Callable[[np.ndarray, date, int], Result]


def naive(y: np.ndarray, last_day: date, h: int) -> Result:
    return np.full(h, y[-1], dtype=float), None, None


def seasonal_naive(y: np.ndarray, last_day: date, h: int, m: int = 7) -> Result:
    if len(y) < m:
        return naive(y, last_day, h)
    return np.resize(y[-m:], h).astype(float), None, None


def autoets(y: np.ndarray, last_day: date, h: int) -> Result:
    import pandas as pd
    from statsforecast import StatsForecast
    from statsforecast.models import AutoETS

    y = y[-365:]
    ds = pd.date_range(end=pd.Timestamp(last_day), periods=len(y), freq="D")
    df = pd.DataFrame({"unique_id": "s", "ds": ds, "y": y.astype(float)})
    sf = StatsForecast(models=[AutoETS(season_length=7)], freq="D", n_jobs=1)
    out = sf.forecast(df=df, h=h, level=[80])
    return (
        out["AutoETS"].to_numpy(float),
        out["AutoETS-lo-80"].to_numpy(float),
        out["AutoETS-hi-80"].to_numpy(float),
    )


def prophet(y: np.ndarray, last_day: date, h: int) -> Result:
    import pandas as pd
    from prophet import Prophet

    for name in ("prophet", "cmdstanpy"):
        logging.getLogger(name).setLevel(logging.ERROR)
    y = y[-365:]
    ds = pd.date_range(end=pd.Timestamp(last_day), periods=len(y), freq="D")
    m = Prophet(
        interval_width=0.8,
        weekly_seasonality=True,
        yearly_seasonality=len(y) >= 365,
        daily_seasonality=False,
        uncertainty_samples=200,
    )
    m.fit(pd.DataFrame({"ds": ds, "y": y.astype(float)}))
    fut = pd.DataFrame(
        {"ds": [pd.Timestamp(last_day + timedelta(days=i)) for i in range(1, h + 1)]}
    )
    fc = m.predict(fut)
    return (
        fc["yhat"].to_numpy(float),
        fc["yhat_lower"].to_numpy(float),
        fc["yhat_upper"].to_numpy(float),
    )


BASELINES: dict[str, Baseline] = {
    "naive": naive,
    "seasonal_naive": seasonal_naive,
    "autoets": autoets,
    "prophet": prophet,
}


def available(name: str) -> bool:
    """Whether a baseline's library is installed (Prophet is an optional extra)."""
    mod = {"autoets": "statsforecast", "prophet": "prophet"}.get(name)
    if mod is None:
        return True
    import importlib.util

    return importlib.util.find_spec(mod) is not None
