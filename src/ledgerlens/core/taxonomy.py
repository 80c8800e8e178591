"""The SME category taxonomy, kept as data (``core/data/taxonomy.json``).

Each leaf names its P&L line, its cash-flow line (operating / investing / financing / none) and
the nearest Plaid ``personal_finance_category`` so that integrators can map to what they know.
Models predict leaf codes or abstain; nothing else is a category.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from importlib import resources

__all__ = ["Category", "Taxonomy", "load_taxonomy"]


@dataclass(frozen=True, slots=True)
class Category:
    code: str
    label: str
    pl_line: str
    cashflow_line: str
    plaid_primary: str
    plaid_detailed: str

    @property
    def group(self) -> str:
        return self.code.split(".", 1)[0]


class Taxonomy:
    """Lookup over the leaves; ``version`` is recorded with every categorization."""

    def __init__(self, version: str, leaves: list[Category]) -> None:
        self.version = version
        self._by_code = {c.code: c for c in leaves}

    @property
    def codes(self) -> list[str]:
        return list(self._by_code)

    def __contains__(self, code: object) -> bool:
        return code in self._by_code

    def __getitem__(self, code: str) -> Category:
        return self._by_code[code]

    def __len__(self) -> int:
        return len(self._by_code)

    def in_group(self, group: str) -> list[Category]:
        return [c for c in self._by_code.values() if c.group == group]


@cache
def load_taxonomy() -> Taxonomy:
    """Read the packaged taxonomy once (data file, no import-time work)."""
    raw = json.loads(resources.files("ledgerlens.core").joinpath("data/taxonomy.json").read_text())
    return Taxonomy(raw["version"], [Category(**leaf) for leaf in raw["leaves"]])
