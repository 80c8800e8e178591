"""The world's books are exact: balances chain, transfer legs match, files follow the contract."""

from __future__ import annotations

import csv
import random
import re
from collections import defaultdict
from decimal import Decimal
from pathlib import Path

import pytest

from ledgerlens.core.ledger import AccountType
from ledgerlens.core.money import format_minor
from ledgerlens.core.taxonomy import load_taxonomy
from ledgerlens.synth import ANOMALY_KINDS, SimBusiness, World
from ledgerlens.synth.business import _assignment, generate_business, split_of
from ledgerlens.synth.writers.canonical_csv import CANONICAL_COLUMNS, amount_text

HEADER = (
    "transaction_id,business_id,account_id,account_currency,booking_date,value_date,amount,"
    "currency,description,counterparty_name,counterparty_iban,mcc,card_id,employee_id,"
    "balance_after,bank_reference"
)


def test_balances_chain_on_every_account(synth_world: World) -> None:
    for b in synth_world.businesses:
        running = list(b.opening_minor)
        for r, bal in zip(b.txns, b.balances_after, strict=True):
            running[r.account] += r.amount_minor
            assert bal == running[r.account], (b.business_id, r)
        for k in range(len(b.accounts)):
            assert int(b.daily_balances[k, -1]) == running[k]
            day_end: dict[int, int] = {}
            for r, bal in zip(b.txns, b.balances_after, strict=True):
                if r.account == k:
                    day_end[r.day] = bal
            for day, bal in day_end.items():
                assert int(b.daily_balances[k, day]) == bal


def test_canonical_csv_balances_chain(synth_world: World, synth_files: Path) -> None:
    for b in synth_world.businesses:
        with (synth_files / "csv" / f"{b.business_id}.csv").open(encoding="utf-8") as fh:
            rows = list(csv.DictReader(fh))
        assert rows, b.business_id
        prev: dict[str, Decimal] = {}
        openings = {a.account_id: o for a, o in zip(b.accounts, b.opening_minor, strict=True)}
        for row in rows:
            acc = row["account_id"]
            before = prev.get(acc, Decimal(openings[acc]).scaleb(-2))
            assert before + Decimal(row["amount"]) == Decimal(row["balance_after"])
            prev[acc] = Decimal(row["balance_after"])


def _exporter_with_fx_account(world: World) -> SimBusiness:
    """Generate businesses of the same calendar until an exporter holds a currency account."""
    assert world.fx is not None
    for i in range(200):
        if _assignment(world.seed, i)[0] != "ecommerce_exporter":
            continue
        b = generate_business(world.seed, i, world.start, world.history_days, world.fx)
        if any(a.account_type == AccountType.CURRENCY for a in b.accounts):
            return b
    raise AssertionError("no exporter with a currency account")


def test_transfer_legs_match_across_accounts_and_currencies(synth_world: World) -> None:
    fx = synth_world.fx
    assert fx is not None
    n_cross = 0
    for b in [*synth_world.businesses, _exporter_with_fx_account(synth_world)]:
        legs = defaultdict(list)
        for r in b.txns:
            if r.pair:
                legs[r.pair].append(r)
        for pair, group in legs.items():
            assert len(group) == 2, pair
            a, c = group
            assert a.account != c.account and a.day == c.day
            assert (a.amount_minor > 0) != (c.amount_minor > 0)
            out, into = (a, c) if a.amount_minor < 0 else (c, a)
            sell, buy = b.accounts[out.account].currency, b.accounts[into.account].currency
            assert out.category == into.category and out.category.startswith("transfer.")
            if sell == buy:
                assert out.amount_minor + into.amount_minor == 0
            else:
                n_cross += 1
                assert into.amount_minor == fx.convert(-out.amount_minor, sell, buy, out.day)
                assert out.category == "transfer.fx_conversion"
    assert n_cross > 0, "the world should hold FX conversions"


def test_every_category_is_a_taxonomy_leaf(synth_world: World) -> None:
    tax = load_taxonomy()
    seen = {r.category for b in synth_world.businesses for r in b.txns}
    assert seen <= set(tax.codes), seen - set(tax.codes)
    assert len(seen) >= 30  # the world uses most of the taxonomy


def test_anomalies_are_known_kinds_and_present(synth_world: World) -> None:
    kinds = {r.anomaly for b in synth_world.businesses for r in b.txns if r.anomaly}
    assert kinds <= set(ANOMALY_KINDS)
    assert len(kinds) >= 4


def test_canonical_csv_format_exactly(synth_world: World, synth_files: Path) -> None:
    iso = re.compile(r"^\d{4}-\d{2}-\d{2}$")
    amount = re.compile(r"^-?\d+\.\d{2}$")
    seen_ids: set[str] = set()
    for b in synth_world.businesses:
        raw = (synth_files / "csv" / f"{b.business_id}.csv").read_bytes()
        assert not raw.startswith(b"\xef\xbb\xbf") and b"\r" not in raw.replace(b'\r"', b"")
        text = raw.decode("utf-8")
        assert text.split("\n", 1)[0] == HEADER == ",".join(CANONICAL_COLUMNS)
        rows = list(csv.reader(text.splitlines()[1:]))
        keys = []
        for row in rows:
            assert len(row) == 16
            tid, bid, acc, acc_ccy, bd, vd, amt, ccy = row[:8]
            assert bid == b.business_id and ccy == acc_ccy
            assert iso.match(bd) and iso.match(vd) and vd <= bd
            assert amount.match(amt) and amount.match(row[14])
            assert row[11] == "" or re.fullmatch(r"\d{4}", row[11])
            assert tid not in seen_ids
            seen_ids.add(tid)
            keys.append((acc, bd))
        assert keys == sorted(keys)
        assert all(r[4] <= synth_world.history_end.isoformat() for r in rows)


def test_amount_text_equals_format_minor() -> None:
    rnd = random.Random(3)
    values = [0, 1, -1, 99, -100, 10**12, -(10**12) - 7] + [
        rnd.randint(-(10**9), 10**9) for _ in range(500)
    ]
    for v in values:
        for ccy in ("EUR", "GBP", "USD", "JPY", "BHD"):
            assert amount_text(v, ccy) == format_minor(v, ccy)


def test_no_unmasked_card_number_anywhere(synth_world: World, synth_files: Path) -> None:
    cards = {r.card_id for b in synth_world.businesses for r in b.txns if r.card_id}
    assert cards and all(re.fullmatch(r"\*{4} \d{4}", c) for c in cards)
    pan = re.compile(r"(?<!\d)\d{13,19}(?!\d)")
    for b in synth_world.businesses:
        for r in b.txns:
            assert not pan.search(r.card_id) and not pan.search(r.description), r


def test_splits_are_disjoint_and_cover(synth_world: World) -> None:
    by_split: dict[str, set[str]] = defaultdict(set)
    for b in synth_world.businesses:
        by_split[b.split].add(b.business_id)
    assert set(by_split) <= {"train", "validation", "test"}
    ids = [i for s in by_split.values() for i in s]
    assert len(ids) == len(set(ids)) == len(synth_world.businesses)
    shares = [split_of(11, i) for i in range(2000)]
    assert 0.65 < shares.count("train") / 2000 < 0.75
    assert 0.11 < shares.count("test") / 2000 < 0.19


def test_ibans_have_valid_check_digits(synth_world: World) -> None:
    def valid(iban: str) -> bool:
        s = iban[4:] + iban[:4]
        return int("".join(str(int(ch, 36)) for ch in s)) % 97 == 1

    ibans = {
        a.identifier
        for b in synth_world.businesses
        for a in b.accounts
        if a.identifier[:2].isalpha() and a.identifier[2:4].isdigit()
    }
    ibans |= {
        r.counterparty_iban for b in synth_world.businesses for r in b.txns if r.counterparty_iban
    }
    assert len(ibans) > 50
    assert all(valid(i) for i in ibans)


@pytest.mark.parametrize("field", ["transaction_ids", "bank_references"])
def test_ids_unique_and_deterministic_shape(synth_world: World, field: str) -> None:
    values = [v for b in synth_world.businesses for v in getattr(b, field)]
    assert len(values) == len(set(values))
    if field == "transaction_ids":
        assert all(v.startswith("t_s11b") for v in values)


def test_public_surface() -> None:
    import ledgerlens.synth as synth

    assert sorted(synth.__all__) == sorted(
        [
            "ANOMALY_KINDS",
            "ARCHETYPES",
            "FORMATS",
            "Archetype",
            "FutureItem",
            "SimAccount",
            "SimBusiness",
            "SimTxn",
            "World",
            "generate_world",
            "world_calendar",
            "write_world",
        ]
    )
    assert all(hasattr(synth, name) for name in synth.__all__)
