"""Benchmark: anomalies and card authorization *through the pipeline and the database*.

``bench_anomalies`` measures the pure detector and ``authorize``; this one adds storage: a full
``DetectAnomalies`` run on SQLite (read every line and the stored categories, feedback and
policy; write the verdicts), real-time ingestion of one line with its scoring, and
``AuthorizeCard`` end to end (policy read, month-to-date spend from stored card lines and
decisions, decision stored, committed). No categorizer: detection then runs without categories.
"""

from __future__ import annotations

import json
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from datetime import time as dtime
from pathlib import Path
from typing import Any


def _pct(values: list[float], q: float) -> float:
    import numpy as np

    return round(float(np.percentile(np.array(values), q)) * 1000, 2)


def run(quick: bool = False) -> dict[str, float | int | str]:
    from ledgerlens.adapters.db import create_engine_for, sql_uow_factory, upgrade_database
    from ledgerlens.core.ledger import Account, AccountType, Business
    from ledgerlens.core.money import format_minor
    from ledgerlens.ingest.realtime import IncomingTransaction, TransactionIngestor
    from ledgerlens.ingest.service import StatementImporter
    from ledgerlens.ml.synth_data import write_synthetic_world
    from ledgerlens.pipeline import ImportStatements, IngestTransactions, Services, dispatch
    from ledgerlens.pipeline_anomalies import AuthorizeCard, DetectAnomalies, SetCardPolicy

    n_auth, n_ingest = (100, 10) if quick else (1000, 50)
    out: dict[str, float | int | str] = {"name": "anomaly_pipeline", "database": "sqlite"}
    with tempfile.TemporaryDirectory() as tmp:
        world = write_synthetic_world(2, 6 if quick else 12, 737373, Path(tmp) / "w", workers=1)
        url = f"sqlite:///{tmp}/bench.db"
        upgrade_database(url)
        engine = create_engine_for(url)
        uow_factory = sql_uow_factory(engine)
        import csv

        rows = list(csv.DictReader((world / "businesses.csv").open(encoding="utf-8")))
        accounts = list(csv.DictReader((world / "accounts.csv").open(encoding="utf-8")))
        sizes = {r["business_id"]: (world / "csv" / f"{r['business_id']}.csv").stat().st_size
                 for r in rows}  # fmt: skip
        b = max(rows, key=lambda r: sizes[r["business_id"]])
        bid, cur = b["business_id"], b["base_currency"]
        with uow_factory() as uow:
            uow.businesses.add(Business(bid, bid, b["country"], cur))
            for a in accounts:
                if a["business_id"] == bid:
                    uow.scope(bid).accounts.add(
                        Account(a["account_id"], bid, a["identifier"], a["currency"],
                                AccountType(a["account_type"]), a["name"]))  # fmt: skip
            uow.commit()
        services = Services(
            importer=StatementImporter(uow_factory),
            ingestor=TransactionIngestor(uow_factory),
            uow_factory=uow_factory,
        )
        dispatch(ImportStatements(bid, (world / "csv" / f"{bid}.csv",)), services)

        best = float("inf")
        for _ in range(1 if quick else 3):
            t0 = time.perf_counter()
            report = dispatch(DetectAnomalies(bid), services)
            best = min(best, time.perf_counter() - t0)
        out.update(
            transactions=report.transactions,
            detect_run_s=round(best, 3),
            detect_lines_per_s=round(report.transactions / best),
            alerts=report.alerts,
        )

        with uow_factory() as uow:
            txs: list[Any] = list(uow.scope(bid).transactions.iter_all())
        cards = {t.card_id: t.employee_id or t.card_id for t in txs if t.card_id}
        doc = {"policy_id": "bench", "version": "v1", "currency": cur, "timezone": "UTC",
               "roles": {"staff": {"blocked_mccs": ["7995"], "per_transaction_limit": "300.00",
                                   "monthly_limit": "5000.00"}},
               "employees": {e: {"role": "staff"} for e in set(cards.values())},
               "cards": cards}  # fmt: skip
        dispatch(SetCardPolicy(bid, doc), services)
        card = next(iter(cards))
        last = max(t.booking_date for t in txs)
        lat: list[float] = []
        for i in range(n_auth):
            at = datetime.combine(last, dtime(8), UTC) + timedelta(minutes=i)
            cmd = AuthorizeCard(bid, card, "SHOP", "5812" if i % 4 else "7995", 100 + i, cur, at)
            t0 = time.perf_counter()
            dispatch(cmd, services)
            lat.append(time.perf_counter() - t0)
        out.update(authorizations=n_auth, authorize_p50_ms=_pct(lat, 50),
                   authorize_p99_ms=_pct(lat, 99))  # fmt: skip

        tmpl = next(t for t in reversed(txs) if t.amount_minor < 0 and t.counterparty_name)
        lat = []
        for i in range(n_ingest):
            row = IncomingTransaction(
                account_id=tmpl.account_id, booking_date=last + timedelta(days=1 + i % 20),
                amount=format_minor(tmpl.amount_minor - i, tmpl.currency),
                currency=tmpl.currency, description=tmpl.description,
                counterparty_name=tmpl.counterparty_name, bank_reference=f"BENCH-{i}",
            )  # fmt: skip
            t0 = time.perf_counter()
            dispatch(IngestTransactions(bid, (row,)), services)
            lat.append(time.perf_counter() - t0)
        out.update(realtime_lines=n_ingest, ingest_and_score_p50_ms=_pct(lat, 50),
                   ingest_and_score_p99_ms=_pct(lat, 99))  # fmt: skip
        engine.dispose()
    return out


if __name__ == "__main__":
    print(json.dumps(run(quick="--quick" in sys.argv), indent=2))
