"""Import throughput and peak memory: a 1,000,000-row canonical CSV and a large CAMT.053 file.

Each size runs in a fresh subprocess (so ``ru_maxrss`` is that import's own peak) against a fresh
SQLite database through the real importer: parse, dedupe keys, insert, commit. Memory must not
grow with file size, so each format runs at two sizes (10× apart) and the peak-RSS ratio is
reported next to the rows/s.
"""

from __future__ import annotations

import json
import resource
import subprocess
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

CANONICAL_HEADER = (
    "transaction_id,business_id,account_id,account_currency,booking_date,value_date,amount,"
    "currency,description,counterparty_name,counterparty_iban,mcc,card_id,employee_id,"
    "balance_after,bank_reference\n"
)


def write_canonical(path: Path, rows: int) -> None:
    start = date(2020, 1, 1)
    with path.open("w", encoding="utf-8") as fh:
        fh.write(CANONICAL_HEADER)
        balance = 0
        for i in range(rows):
            d = (start + timedelta(days=i // 400)).isoformat()
            amount = (i * 7919) % 20000 - 9000
            balance += amount
            acc = "acc_bench_eur" if i % 5 else "acc_bench_card"
            fh.write(
                f"t{i:08d},bench,{acc},EUR,{d},{d},{amount // 100}.{abs(amount) % 100:02d},EUR,"
                f"CARD PAYMENT MERCHANT {i % 997} BERLIN,Merchant {i % 997},,5812,,,,"
                f"REF{i:09d}\n"
            )


def write_camt(path: Path, statements: int, entries: int) -> None:
    """camt.053.001.02 with ``statements`` daily statements of ``entries`` entries each."""
    start = date(2024, 1, 1)
    with path.open("w", encoding="utf-8") as fh:
        fh.write(
            '<?xml version="1.0" encoding="UTF-8"?>\n'
            '<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.02"><BkToCstmrStmt>'
            "<GrpHdr><MsgId>BENCH</MsgId><CreDtTm>2024-01-01T00:00:00Z</CreDtTm></GrpHdr>\n"
        )
        balance = 1_000_000_00
        for s in range(statements):
            d = (start + timedelta(days=s)).isoformat()
            amounts = [((s * entries + e) * 7919) % 50000 - 24000 for e in range(entries)]
            closing = balance + sum(amounts)
            fh.write(
                f"<Stmt><Id>S{s}</Id><ElctrncSeqNb>{s}</ElctrncSeqNb>"
                "<Acct><Id><IBAN>DE89370400440532013000</IBAN></Id><Ccy>EUR</Ccy></Acct>"
                f"{_bal('OPBD', balance, d)}{_bal('CLBD', closing, d)}\n"
            )
            for e, a in enumerate(amounts):
                ind = "CRDT" if a >= 0 else "DBIT"
                fh.write(
                    f'<Ntry><Amt Ccy="EUR">{abs(a) // 100}.{abs(a) % 100:02d}</Amt>'
                    f"<CdtDbtInd>{ind}</CdtDbtInd><Sts>BOOK</Sts><BookgDt><Dt>{d}</Dt></BookgDt>"
                    f"<ValDt><Dt>{d}</Dt></ValDt><AcctSvcrRef>R{s}-{e}</AcctSvcrRef>"
                    "<BkTxCd><Domn><Cd>PMNT</Cd><Fmly><Cd>RCDT</Cd><SubFmlyCd>ESCT</SubFmlyCd>"
                    "</Fmly></Domn></BkTxCd><NtryDtls><TxDtls><RltdPties><Dbtr><Nm>Kunde "
                    f"{e % 313} GmbH</Nm></Dbtr></RltdPties><RmtInf><Ustrd>RE {s}-{e}</Ustrd>"
                    "</RmtInf></TxDtls></NtryDtls></Ntry>\n"
                )
            fh.write("</Stmt>\n")
            balance = closing
        fh.write("</BkToCstmrStmt></Document>\n")


def _bal(code: str, minor: int, d: str) -> str:
    ind = "CRDT" if minor >= 0 else "DBIT"
    return (
        f'<Bal><Tp><CdOrPrtry><Cd>{code}</Cd></CdOrPrtry></Tp><Amt Ccy="EUR">'
        f"{abs(minor) // 100}.{abs(minor) % 100:02d}</Amt><CdtDbtInd>{ind}</CdtDbtInd>"
        f"<Dt><Dt>{d}</Dt></Dt></Bal>"
    )


def _child(kind: str, size: int) -> None:
    """Runs in a subprocess: write the file, import it, print one JSON line."""
    from ledgerlens.bootstrap import bootstrap
    from ledgerlens.config import DbSettings, Settings
    from ledgerlens.jobs.setup import ensure_business

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / ("bench.csv" if kind == "csv" else "bench.camt053.xml")
        if kind == "csv":
            write_canonical(path, size)
        else:
            write_camt(path, size // 1000, 1000)
        c = bootstrap(Settings(db=DbSettings(url=f"sqlite:///{tmp}/bench.db")))
        ensure_business(c.uow_factory, "bench", "Bench GmbH", "DE", "EUR")
        rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        t0 = time.perf_counter()
        report = c.importer.import_file(path, "bench")
        seconds = time.perf_counter() - t0
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        print(
            json.dumps(
                {
                    "kind": kind,
                    "rows": report.transactions,
                    "new": report.new,
                    "refused": report.refused,
                    "file_mb": round(path.stat().st_size / 1e6, 1),
                    "seconds": round(seconds, 2),
                    "rows_per_s": round(report.transactions / seconds),
                    "peak_rss_mb": round(peak / 1024, 1),
                    "rss_before_mb": round(rss_before / 1024, 1),
                }
            )
        )


def _measure(kind: str, size: int) -> dict[str, object]:
    out = subprocess.run(
        [sys.executable, "-m", "benchmarks.bench_import", kind, str(size)],
        check=True,
        capture_output=True,
        text=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def run(quick: bool = False) -> dict[str, object]:
    sizes = {
        "csv": (10_000, 100_000) if quick else (100_000, 1_000_000),
        "camt": (5_000, 50_000) if quick else (20_000, 200_000),
    }
    metrics: dict[str, object] = {}
    for kind, (small, large) in sizes.items():
        a = _measure(kind, small)
        b = _measure(kind, large)
        for label, m in (("small", a), ("large", b)):
            metrics[f"{kind}_{label}_rows"] = m["rows"]
            metrics[f"{kind}_{label}_file_mb"] = m["file_mb"]
            metrics[f"{kind}_{label}_rows_per_s"] = m["rows_per_s"]
            metrics[f"{kind}_{label}_peak_rss_mb"] = m["peak_rss_mb"]
            assert not m["refused"] and m["new"] == m["rows"], m
        metrics[f"{kind}_peak_rss_growth_large_vs_small"] = round(
            float(b["peak_rss_mb"]) / float(a["peak_rss_mb"]),
            2,  # type: ignore[arg-type]
        )
    return metrics


if __name__ == "__main__":
    _child(sys.argv[1], int(sys.argv[2]))
