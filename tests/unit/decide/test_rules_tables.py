"""Every row of every shipped decision table is hit by a case generated from the table file.

zen-engine never raises on a malformed cell: the row simply never matches. So the cases are
derived from the cells themselves (each number and quoted string, and values either side of
each bound), every combination is evaluated, and each row id must come out at least once.
"""

from __future__ import annotations

import copy
import itertools
import json
import re
from pathlib import Path
from typing import Any

import pytest

from ledgerlens.decide.rules import TABLES, DecisionRules, RuleTable, load_tables

_NUM = re.compile(r"-?\d+(?:\.\d+)?")
_STR = re.compile(r'"([^"]*)"')


def _candidates(cells: list[str]) -> list[Any]:
    """Values that satisfy, and values that miss, every cell of one input column."""
    if any('"' in c for c in cells):
        values = {m for c in cells for m in _STR.findall(c)}
        return [*sorted(values), "zz_not_listed"]
    nums = {float(m) for c in cells for m in _NUM.findall(c)}
    out = {0.0}
    for n in nums:
        out |= {n - 1, n - 0.001, n, n + 0.001, n + 1}
    return sorted(out)


def hit_rows(table: RuleTable, rules: DecisionRules) -> tuple[set[str], set[str]]:
    """(all row ids, row ids some generated case hits)."""
    content = table.table_content()
    inputs = content["inputs"]
    columns = [[r.get(i["id"], "") for r in content["rules"]] for i in inputs]
    grids = [_candidates(c) for c in columns]
    hit: set[str] = set()
    for combo in itertools.product(*grids):
        ctx = {i["field"]: v for i, v in zip(inputs, combo, strict=True)}
        try:
            hit.add(rules.evaluate(table.name, ctx).rule_id)
        except LookupError:
            continue
    all_ids = {json.loads(r["out_rule_id"]) for r in content["rules"]}
    return all_ids, hit


@pytest.fixture(scope="module")
def tables() -> dict[str, RuleTable]:
    return load_tables()


@pytest.fixture(scope="module")
def rules(tables: dict[str, RuleTable]) -> DecisionRules:
    return DecisionRules(tables)


def test_all_tables_present_and_versioned(tables: dict[str, RuleTable]) -> None:
    assert set(TABLES) <= set(tables)
    for t in tables.values():
        assert re.fullmatch(r"\d{4}\.\d{1,2}\.\d+", t.version), t.name
        ids = [r["_id"] for r in t.table_content()["rules"]]
        assert len(ids) == len(set(ids)), f"{t.name}: duplicate row ids"


@pytest.mark.parametrize("name", TABLES)
def test_every_row_is_hit(name: str, tables: dict[str, RuleTable], rules: DecisionRules) -> None:
    all_ids, hit = hit_rows(tables[name], rules)
    assert all_ids - hit == set(), f"{name}: rows never hit: {sorted(all_ids - hit)}"


@pytest.mark.parametrize("name", TABLES)
def test_last_row_catches_everything_else(name: str, tables: dict[str, RuleTable]) -> None:
    """A catch-all last row: an unforeseen input gets the safe answer, never no answer."""
    last = tables[name].table_content()["rules"][-1]
    inputs = [i["id"] for i in tables[name].table_content()["inputs"]]
    if name == "risk_bands":  # the bands are a partition of [0, 1] instead
        return
    assert all(last.get(i, "") == "" for i in inputs)


def test_a_malformed_cell_is_caught(tables: dict[str, RuleTable]) -> None:
    """The coverage check fails when a cell is broken (zen itself stays silent)."""
    doc = copy.deepcopy(tables["risk_caps"].document)
    content = next(n for n in doc["nodes"] if n["type"] == "decisionTableNode")["content"]
    row = next(r for r in content["rules"] if r["_id"] == "cap.overdraft_c")
    row["in_risk_band"] = '"C'  # a missing quote
    broken = RuleTable("risk_caps", "0", doc)
    all_ids, hit = hit_rows(broken, DecisionRules({"risk_caps": broken}))
    assert "cap.overdraft_c" in all_ids - hit


@pytest.mark.parametrize(
    ("p", "band"),
    [
        (0.0, "A"),
        (0.0499, "A"),
        (0.05, "B"),
        (0.0999, "B"),
        (0.1, "C"),
        (0.2, "D"),
        (0.35, "E"),
        (1.0, "E"),
    ],
)
def test_risk_band_boundaries(rules: DecisionRules, p: float, band: str) -> None:
    assert rules.evaluate("risk_bands", {"probability_of_distress": p}).outputs["risk_band"] == band


def test_eligibility_semantics(rules: DecisionRules) -> None:
    def elig(product: str, band: str, months: int) -> tuple[bool, str]:
        o = rules.evaluate(
            "product_eligibility", {"product": product, "risk_band": band, "history_months": months}
        )
        return o.outputs["eligible"], o.rule_id

    assert elig("overdraft", "A", 12) == (True, "elig.credit_ok")
    assert elig("overdraft", "A", 5) == (False, "elig.credit_short_history")
    assert elig("overdraft", "E", 24) == (False, "elig.credit_band_e")
    assert elig("term_loan", "D", 24) == (False, "elig.unsecured_band_d")
    assert elig("overdraft", "D", 24) == (True, "elig.credit_ok")
    assert elig("fx_account", "E", 4) == (True, "elig.basic_ok")
    assert elig("crypto_wallet", "A", 24) == (False, "elig.unknown")


def test_hit_carries_versions(rules: DecisionRules) -> None:
    hit = rules.evaluate("pricing", {"product": "term_loan", "risk_band": "B"})
    assert hit.outputs == {"rate_bps": 800, "fee_bps": 150, "reason_code": "PRICE_TERM_B"}
    assert hit.version_ref == "rules:pricing@2026.12.1"
    assert hit.source == "rule:price.term_b"


def test_table_without_version_is_refused(tmp_path: Path) -> None:
    (tmp_path / "x.json").write_text(json.dumps({"nodes": [], "edges": []}))
    with pytest.raises(ValueError, match="version"):
        load_tables(tmp_path)
