"""Decision tables as data: GoRules JSON Decision Models evaluated with zen-engine.

The tables live in ``decide/rules/*.json`` (one table per file, its version in
``metadata.version``); risk and compliance staff read and change them there, or in the GoRules
editor, without touching code. Every row outputs a ``rule_id`` so each decision records which
row decided it. Evaluation goes through one ``ZenEngine(loader)`` with pre-parsed content
(~13 µs a table here; ``ZenDecision.evaluate`` is ~30x slower). zen-engine never raises on a
malformed cell, it just never matches: ``tests/unit/decide/test_rules_tables.py`` hits every row.

    rules = DecisionRules.load()
    hit = rules.evaluate("risk_caps", {"product": "overdraft", "risk_band": "B"})
    hit.outputs["max_pct_of_basis"], hit.rule_id, hit.version_ref   # 50, "cap.overdraft_ab", ...
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

__all__ = ["DecisionRules", "RuleHit", "RuleTable", "default_rules_dir", "load_tables"]

TABLES: tuple[str, ...] = (
    "risk_bands",
    "product_eligibility",
    "risk_caps",
    "regulatory_caps",
    "limit_bands",
    "pricing",
)


@dataclass(frozen=True, slots=True)
class RuleTable:
    """One decision table file: its name, version and the raw JDM document."""

    name: str
    version: str
    document: dict[str, Any]

    @property
    def ref(self) -> str:
        return f"rules:{self.name}@{self.version}"

    def table_content(self) -> dict[str, Any]:
        """The decision-table node's content (inputs, outputs, rules)."""
        for node in self.document["nodes"]:
            if node.get("type") == "decisionTableNode":
                return dict(node["content"])
        raise ValueError(f"{self.name}: no decisionTableNode")


@dataclass(frozen=True, slots=True)
class RuleHit:
    """What a table decided: its outputs (``rule_id`` taken out) and which table version."""

    table: str
    version: str
    rule_id: str
    outputs: dict[str, Any]

    @property
    def version_ref(self) -> str:
        return f"rules:{self.table}@{self.version}"

    @property
    def source(self) -> str:
        return f"rule:{self.rule_id}"


def default_rules_dir() -> Path:
    return Path(str(resources.files("ledgerlens.decide"))) / "rules"


def load_tables(directory: Path | None = None) -> dict[str, RuleTable]:
    """Read every ``*.json`` table in ``directory``; refuse a table without name or version."""
    directory = directory or default_rules_dir()
    out: dict[str, RuleTable] = {}
    for path in sorted(directory.glob("*.json")):
        doc = json.loads(path.read_text(encoding="utf-8"))
        meta = doc.get("metadata") or {}
        name, version = meta.get("name") or path.stem, meta.get("version")
        if not version:
            raise ValueError(f"{path.name}: a decision table needs metadata.version")
        out[name] = RuleTable(name, str(version), doc)
    missing = set(TABLES) - set(out)
    if missing and directory == default_rules_dir():
        raise ValueError(f"decision tables missing: {sorted(missing)}")
    return out


class DecisionRules:
    """All decision tables behind one zen engine; create once (bootstrap) and share.

    Thread-safe for evaluation (zen's engine is); creating it parses every table once."""

    def __init__(self, tables: Mapping[str, RuleTable]) -> None:
        import zen  # lazy: a native extension, not needed at import time

        self.tables = dict(tables)
        contents = {
            name: zen.ZenDecisionContent(json.dumps(t.document)) for name, t in self.tables.items()
        }

        def loader(key: str) -> Any:
            return contents[key]

        self._engine = zen.ZenEngine({"loader": loader})

    @classmethod
    def load(cls, directory: Path | None = None) -> DecisionRules:
        return cls(load_tables(directory))

    def versions(self) -> dict[str, str]:
        return {name: t.version for name, t in self.tables.items()}

    def evaluate(self, table: str, context: Mapping[str, Any]) -> RuleHit:
        """The first matching row's outputs. Raises ``KeyError`` for an unknown table and
        ``LookupError`` when no row matched (every shipped table ends in a catch-all row)."""
        t = self.tables[table]
        result = dict(self._engine.evaluate(table, dict(context))["result"])
        rule_id = result.pop("rule_id", None)
        if rule_id is None:
            raise LookupError(f"{t.ref}: no row matched {sorted(context)}")
        return RuleHit(table, t.version, str(rule_id), result)
