"""The MCC membership tables the misuse rules use agree with ``np.isin`` on every code."""

from __future__ import annotations

import numpy as np
import pytest

from ledgerlens.analyze.anomalies.misuse import (
    _CASH,
    _CASH_MCCS,
    _FUEL,
    _PERSONAL,
    FUEL_MCCS,
    PERSONAL_MCC_GROUPS,
    _member,
)


@pytest.mark.parametrize(
    ("table", "codes"),
    [(_PERSONAL, set(PERSONAL_MCC_GROUPS)), (_FUEL, set(FUEL_MCCS)), (_CASH, set(_CASH_MCCS))],
)
def test_tables_agree_with_isin_on_every_code_and_out_of_range(
    table: np.ndarray, codes: set[int]
) -> None:
    mcc = np.array([*range(-3, 10_003), 32_000, -32_000], dtype=np.int16)
    got = _member(mcc, table)
    assert got.dtype == bool and got.shape == mcc.shape
    assert (got == np.isin(mcc, sorted(codes))).all()
    assert int(got.sum()) == len(codes)  # every code found once, "no MCC" (-1) never
