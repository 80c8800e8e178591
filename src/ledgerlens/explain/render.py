"""Locale-aware text: templates per language (data files) and Babel for money, numbers, dates.

Templates live in ``explain/templates/<lang>.json`` so a translator edits data, not code. Each
kind has a ``title`` and a ``message`` with named placeholders; ``phrases`` are the pieces the
builders compose (a list of what falls due, a late payer's clause). Money is formatted from
integer minor units exactly (``Decimal.scaleb``), never through a float.
"""

from __future__ import annotations

import json
from decimal import Decimal
from functools import lru_cache
from importlib import resources
from typing import Any

from ledgerlens.core.money import currency_exponent

__all__ = ["LANGUAGES", "Renderer", "renderer"]

LANGUAGES = ("en", "de")


@lru_cache(maxsize=8)
def _load(language: str) -> dict[str, Any]:
    lang = language if language in LANGUAGES else "en"
    text = (
        resources.files("ledgerlens.explain")
        .joinpath("templates", f"{lang}.json")
        .read_text(encoding="utf-8")
    )
    return json.loads(text)  # type: ignore[no-any-return]


class Renderer:
    """Formats values and fills templates for one language."""

    def __init__(self, language: str = "en") -> None:
        self.language = language if language in LANGUAGES else "en"
        self._t = _load(self.language)
        self.locale: str = self._t["locale"]

    # -- values ---------------------------------------------------------------------------
    def money(self, amount_minor: int, currency: str) -> str:
        from babel.numbers import format_currency

        value = Decimal(amount_minor).scaleb(-currency_exponent(currency))
        return str(format_currency(value, currency, locale=self.locale))

    def day(self, d: Any) -> str:
        from babel.dates import format_date

        return str(format_date(d, self._t["date"], locale=self.locale))

    def month(self, d: Any) -> str:
        from babel.dates import format_date

        return str(format_date(d, self._t["month"], locale=self.locale))

    def number(self, value: float | int, digits: int = 0) -> str:
        from babel.numbers import format_decimal

        q = round(float(value), digits) if digits else round(float(value))
        return str(format_decimal(q, locale=self.locale))

    def percent(self, probability: float) -> str:
        """A probability as a whole percentage number ("72"); the template adds " %"."""
        return self.number(round(probability * 100))

    def count_words(self, n: int) -> str:
        words: list[str] = self._t["number_words"]
        return words[n] if 0 <= n < len(words) else self.number(n)

    def join(self, items: list[str]) -> str:
        from babel.lists import format_list

        return str(format_list(items, locale=self.locale)) if items else ""

    # -- templates ------------------------------------------------------------------------
    def phrase(self, key: str, **values: Any) -> str:
        return str(self._t["phrases"][key]).format(**values)

    def raw(self, key: str, **values: Any) -> str:
        return str(self._t["kinds"][key]).format(**values)

    def title(self, kind: str, **values: Any) -> str:
        return str(self._t["kinds"][kind]["title"]).format(**values)

    def message(self, kind: str, **values: Any) -> str:
        return str(self._t["kinds"][kind]["message"]).format(**values).strip()


@lru_cache(maxsize=8)
def renderer(language: str = "en") -> Renderer:
    return Renderer(language)
