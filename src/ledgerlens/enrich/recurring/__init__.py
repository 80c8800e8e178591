"""Recurring series: payments that repeat on a cadence, their next date and amount band.

Pure: ``detect_recurring(transactions, as_of=…, country=…)`` over one business's lines.
"""

from ledgerlens.enrich.recurring.detect import detect_recurring
from ledgerlens.enrich.recurring.model import (
    RECURRING_VERSION,
    SOURCE,
    Cadence,
    PriceChange,
    RecurringSeries,
)

__all__ = [
    "RECURRING_VERSION",
    "SOURCE",
    "Cadence",
    "PriceChange",
    "RecurringSeries",
    "detect_recurring",
]
