"""The synthetic world as model input: per business, its accounts, transactions and truth.

Models are judged on what a bank would really hand them, so the transactions are read back from
the world's *files* (canonical CSV through the production ``CanonicalCsvParser``), not taken from
the simulator's memory; the truth comes from ``truth/transactions_truth.csv``. Only the visible
history is returned: hidden-future lines are truth for forecasting, not input for enrichment.

Small, stable API (the categorizer's training code uses it too):

- ``write_synthetic_world(n_businesses, months, seed, out_dir)`` — generate and write CSV + truth;
- ``iter_business_data(world_dir)`` — ``BusinessData`` per business, in file order;
- ``load_truth(world_dir)`` — ``{business_id: BusinessTruth}`` (history lines only);
- ``load_future(world_dir)`` — the hidden 13 weeks as they later arrive, with their truth, for
  backtests whose origins move forward into that future (``ml.forecast_world``).
"""

from __future__ import annotations

import csv
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path

from ledgerlens.core.ledger import Account, AccountType, Transaction
from ledgerlens.ingest.formats.canonical_csv import read_canonical_transactions

__all__ = [
    "BusinessData",
    "BusinessTruth",
    "iter_business_data",
    "load_future",
    "load_truth",
    "with_future",
    "write_synthetic_world",
]


@dataclass(frozen=True, slots=True)
class BusinessTruth:
    """Ground truth per transaction id (history lines only); "" means none."""

    category: dict[str, str] = field(default_factory=dict)
    transfer_pair: dict[str, str] = field(default_factory=dict)  # only lines that have one
    recurring_series: dict[str, str] = field(default_factory=dict)  # only lines that have one
    anomaly: dict[str, str] = field(default_factory=dict)  # only lines that have one


@dataclass(frozen=True, slots=True)
class BusinessData:
    """One business as the enrichment stages see it, plus the truth they are judged on."""

    business_id: str
    country: str
    base_currency: str
    archetype: str
    split: str
    accounts: tuple[Account, ...]
    transactions: tuple[Transaction, ...]
    truth: BusinessTruth


def write_synthetic_world(
    n_businesses: int, months: int, seed: int, out_dir: Path, *, workers: int | None = None
) -> Path:
    """Generate a world and write its canonical CSV and truth files under ``out_dir``."""
    from ledgerlens.synth.world import generate_world
    from ledgerlens.synth.writers import write_world

    world = generate_world(n_businesses, months, seed, workers=workers)
    write_world(world, Path(out_dir), {"csv"}, workers=workers)
    return Path(out_dir)


def load_truth(world_dir: Path, *, hidden: bool = False) -> dict[str, BusinessTruth]:
    """Read ``truth/transactions_truth.csv`` grouped by business: the history lines, or with
    ``hidden`` the hidden-future lines instead."""
    out: dict[str, BusinessTruth] = {}
    skip = "0" if hidden else "1"
    path = Path(world_dir) / "truth" / "transactions_truth.csv"
    with path.open(encoding="utf-8", newline="") as fh:
        reader = csv.reader(fh)
        header = next(reader)
        ix = {name: i for i, name in enumerate(header)}
        i_tid, i_bid, i_cat = ix["transaction_id"], ix["business_id"], ix["category"]
        i_pair, i_series = ix["transfer_pair_id"], ix["recurring_series_id"]
        i_anom, i_future = ix["anomaly_kind"], ix["hidden_future"]
        for row in reader:
            if row[i_future] == skip:
                continue
            bid, tid = row[i_bid], row[i_tid]
            t = out.get(bid)
            if t is None:
                t = out[bid] = BusinessTruth()
            t.category[tid] = row[i_cat]
            if row[i_pair]:
                t.transfer_pair[tid] = row[i_pair]
            if row[i_series]:
                t.recurring_series[tid] = row[i_series]
            if row[i_anom]:
                t.anomaly[tid] = row[i_anom]
    return out


def _read_accounts(world_dir: Path) -> dict[str, list[Account]]:
    out: dict[str, list[Account]] = {}
    with (world_dir / "accounts.csv").open(encoding="utf-8", newline="") as fh:
        for row in csv.DictReader(fh):
            acc = Account(
                account_id=row["account_id"],
                business_id=row["business_id"],
                identifier=row["identifier"],
                currency=row["currency"],
                account_type=AccountType(row["account_type"]),
                name=row["name"],
            )
            out.setdefault(acc.business_id, []).append(acc)
    return out


def load_future(world_dir: Path) -> dict[str, tuple[tuple[Transaction, ...], BusinessTruth]]:
    """The hidden future per business: its lines (``truth/future_transactions.csv``, canonical
    layout, read by the production parser) and their truth. Never model input at the history
    end; a backtest origin later than the history end sees the part up to that origin."""
    world_dir = Path(world_dir)
    truth = load_truth(world_dir, hidden=True)
    grouped: dict[str, list[Transaction]] = {}
    for t in read_canonical_transactions(world_dir / "truth" / "future_transactions.csv"):
        grouped.setdefault(t.business_id, []).append(t)
    return {bid: (tuple(txs), truth.get(bid, BusinessTruth())) for bid, txs in grouped.items()}


def with_future(
    data: BusinessData, future: tuple[tuple[Transaction, ...], BusinessTruth] | None
) -> BusinessData:
    """History and hidden future (``load_future``) in one ``BusinessData``; a backtest or a
    replay cuts it at each origin, so nothing after the origin is ever model input."""
    if future is None:
        return data
    txs, ft = future
    h = data.truth
    merged = BusinessTruth(
        {**h.category, **ft.category},
        {**h.transfer_pair, **ft.transfer_pair},
        {**h.recurring_series, **ft.recurring_series},
        {**h.anomaly, **ft.anomaly},
    )
    return replace(data, transactions=data.transactions + txs, truth=merged)


def iter_business_data(world_dir: Path) -> Iterator[BusinessData]:
    """Every business of a written world, in ``businesses.csv`` order (history lines only)."""
    world_dir = Path(world_dir)
    accounts = _read_accounts(world_dir)
    truth = load_truth(world_dir)
    with (world_dir / "businesses.csv").open(encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
    for row in rows:
        bid = row["business_id"]
        txs = read_canonical_transactions(world_dir / "csv" / f"{bid}.csv")
        yield BusinessData(
            business_id=bid,
            country=row["country"],
            base_currency=row["base_currency"],
            archetype=row["archetype"],
            split=row["split"],
            accounts=tuple(accounts.get(bid, ())),
            transactions=tuple(txs),
            truth=truth.get(bid, BusinessTruth()),
        )
