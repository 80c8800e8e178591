"""Cash-flow forecast: p10/p50/p90 balances, calibrated weekly shortfall risk, drivers, what-ifs.

Pure kernels (numpy), no I/O: ``build_input`` turns booked lines + known items into a
``ForecastInput``; ``forecast`` simulates it; ``what_if`` re-forecasts under scenarios;
``explain_gap`` and ``chart_data`` say why and show it. See docs/forecast.md.
"""

from ledgerlens.analyze.cashflow.explain import (
    ChartPoint,
    GapExplanation,
    chart_data,
    explain_gap,
    history_basis,
)
from ledgerlens.analyze.cashflow.inputs import build_input, opening_balances, pick_operating
from ledgerlens.analyze.cashflow.kernels import KernelParams
from ledgerlens.analyze.cashflow.known_items import (
    CustomerDelay,
    OpenInvoice,
    ScheduledPayment,
    TaxObligation,
    estimate_customer_delays,
    invoice_items,
    invoice_run_rates,
    scheduled_items,
    series_items,
    stored_items,
    tax_items,
    without_covered,
)
from ledgerlens.analyze.cashflow.model import (
    FORECAST_VERSION,
    SOURCE,
    AccountForecast,
    AccountSeries,
    DailyBand,
    Driver,
    Forecast,
    ForecastInput,
    ItemKind,
    KnownItem,
    WeekRisk,
)
from ledgerlens.analyze.cashflow.service import forecast, simulate
from ledgerlens.analyze.cashflow.shortfall import Calibration, default_calibration, week_windows
from ledgerlens.analyze.cashflow.whatif import (
    AddOneOff,
    DrawFinancing,
    LoseCustomer,
    MovePayment,
    Scenario,
    ScheduleTransfer,
    WhatIf,
    apply_scenarios,
    what_if,
)

__all__ = [
    "FORECAST_VERSION",
    "SOURCE",
    "AccountForecast",
    "AccountSeries",
    "AddOneOff",
    "Calibration",
    "ChartPoint",
    "CustomerDelay",
    "DailyBand",
    "DrawFinancing",
    "Driver",
    "Forecast",
    "ForecastInput",
    "GapExplanation",
    "ItemKind",
    "KernelParams",
    "KnownItem",
    "LoseCustomer",
    "MovePayment",
    "OpenInvoice",
    "Scenario",
    "ScheduleTransfer",
    "ScheduledPayment",
    "TaxObligation",
    "WeekRisk",
    "WhatIf",
    "apply_scenarios",
    "build_input",
    "chart_data",
    "default_calibration",
    "estimate_customer_delays",
    "explain_gap",
    "forecast",
    "history_basis",
    "invoice_items",
    "invoice_run_rates",
    "opening_balances",
    "pick_operating",
    "scheduled_items",
    "series_items",
    "simulate",
    "stored_items",
    "tax_items",
    "week_windows",
    "what_if",
    "without_covered",
]
