"""What-if scenarios: change the known future, re-forecast, show each week's change in risk.

A scenario edits the *input* (never the simulation), so every action LedgerLens later suggests
is shown with the same machinery and the same random draws: moving a payment keeps its draws,
added items are certain (they consume no random numbers) and a lost customer's invoices get
probability 0 instead of disappearing. The change in a week's shortfall probability is therefore
the effect of the scenario, not Monte Carlo noise.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from ledgerlens.analyze.cashflow.kernels import KernelParams
from ledgerlens.analyze.cashflow.model import Forecast, ForecastInput, ItemKind, KnownItem
from ledgerlens.analyze.cashflow.service import forecast
from ledgerlens.analyze.cashflow.shortfall import Calibration

__all__ = [
    "AddOneOff",
    "DrawFinancing",
    "LoseCustomer",
    "MovePayment",
    "Scenario",
    "ScheduleTransfer",
    "WeekChange",
    "WhatIf",
    "apply_scenarios",
    "what_if",
]


@dataclass(frozen=True, slots=True)
class MovePayment:
    item_id: str
    new_date: date


@dataclass(frozen=True, slots=True)
class ScheduleTransfer:
    """Move money between two own accounts; ``amount_in_minor`` when currencies differ."""

    from_account_id: str
    to_account_id: str
    on: date
    amount_minor: int
    amount_in_minor: int | None = None


@dataclass(frozen=True, slots=True)
class DrawFinancing:
    """Draw on a financing line; optional repayments as (date, amount_minor > 0) pairs."""

    account_id: str
    on: date
    amount_minor: int
    repayments: tuple[tuple[date, int], ...] = ()
    label: str = "financing line"


@dataclass(frozen=True, slots=True)
class LoseCustomer:
    """A customer stops paying: their open invoices and their new-invoice run-rate vanish."""

    customer: str


@dataclass(frozen=True, slots=True)
class AddOneOff:
    account_id: str
    on: date
    amount_minor: int
    label: str = "one-off item"


Scenario = MovePayment | ScheduleTransfer | DrawFinancing | LoseCustomer | AddOneOff


@dataclass(frozen=True, slots=True)
class WeekChange:
    week_start: date
    before: float
    after: float

    @property
    def change(self) -> float:
        return round(self.after - self.before, 4)


@dataclass(frozen=True, slots=True)
class WhatIf:
    base: Forecast
    scenario: Forecast
    weeks: tuple[WeekChange, ...]


def _certain(
    item_id: str, account_id: str, on: date, amount: int, kind: ItemKind, label: str
) -> KnownItem:
    return KnownItem(item_id, account_id, on, amount, kind, label=label, source="whatif")


def apply_scenarios(inp: ForecastInput, scenarios: Sequence[Scenario]) -> ForecastInput:
    """The input as it would be under the scenarios (applied in order)."""
    items = list(inp.items)
    accounts = list(inp.accounts)
    for n, sc in enumerate(scenarios):
        if isinstance(sc, MovePayment):
            hits = [k for k, it in enumerate(items) if it.item_id == sc.item_id]
            if not hits:
                raise KeyError(f"no known item {sc.item_id!r} to move")
            for k in hits:
                items[k] = dataclasses.replace(items[k], due_date=sc.new_date)
        elif isinstance(sc, ScheduleTransfer):
            amount_in = sc.amount_in_minor if sc.amount_in_minor is not None else sc.amount_minor
            tag = f"whatif:{n}:transfer"
            label = f"transfer {sc.from_account_id} → {sc.to_account_id}"
            items.append(
                _certain(
                    f"{tag}:out",
                    sc.from_account_id,
                    sc.on,
                    -abs(sc.amount_minor),
                    ItemKind.TRANSFER,
                    label,
                )
            )
            items.append(
                _certain(
                    f"{tag}:in", sc.to_account_id, sc.on, abs(amount_in), ItemKind.TRANSFER, label
                )
            )
        elif isinstance(sc, DrawFinancing):
            items.append(
                _certain(
                    f"whatif:{n}:draw",
                    sc.account_id,
                    sc.on,
                    abs(sc.amount_minor),
                    ItemKind.FINANCING,
                    sc.label,
                )
            )
            for r, (day, amount) in enumerate(sc.repayments):
                items.append(
                    _certain(
                        f"whatif:{n}:repay:{r}",
                        sc.account_id,
                        day,
                        -abs(amount),
                        ItemKind.FINANCING,
                        f"{sc.label} repayment",
                    )
                )
        elif isinstance(sc, LoseCustomer):
            items = [
                dataclasses.replace(it, probability=0.0)
                if it.counterparty == sc.customer and it.amount_minor > 0
                else it
                for it in items
            ]
            accounts = [
                dataclasses.replace(
                    a,
                    run_rate_items=tuple(r for r in a.run_rate_items if r[2] != sc.customer),
                )
                for a in accounts
            ]
        elif isinstance(sc, AddOneOff):
            items.append(
                _certain(
                    f"whatif:{n}:oneoff",
                    sc.account_id,
                    sc.on,
                    sc.amount_minor,
                    ItemKind.ONE_OFF,
                    sc.label,
                )
            )
        else:  # pragma: no cover - the union is closed
            raise TypeError(f"unknown scenario {sc!r}")
    known = {a.account_id for a in accounts}
    unknown = {it.account_id for it in items} - known
    if unknown:
        raise KeyError(f"scenario names unknown accounts: {sorted(unknown)}")
    return dataclasses.replace(inp, items=tuple(items), accounts=tuple(accounts))


def what_if(
    inp: ForecastInput,
    scenarios: Sequence[Scenario],
    *,
    params: KernelParams | None = None,
    calibration: Calibration | None = None,
    align: str = "monday",
    base: Forecast | None = None,
) -> WhatIf:
    """Forecast before and after the scenarios, and each week's shortfall probability change."""
    base = base or forecast(inp, params=params, calibration=calibration, align=align)
    after = forecast(
        apply_scenarios(inp, scenarios), params=params, calibration=calibration, align=align
    )
    weeks = tuple(
        WeekChange(b.week_start, b.shortfall_probability, a.shortfall_probability)
        for b, a in zip(base.weeks, after.weeks, strict=True)
    )
    return WhatIf(base, after, weeks)
