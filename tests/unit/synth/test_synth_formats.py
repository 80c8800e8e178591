"""Every statement file is well-formed and reconciles: opening + Σ entries = closing."""

from __future__ import annotations

import csv
import re
from decimal import Decimal
from pathlib import Path

from lxml import etree

from ledgerlens.synth import World
from ledgerlens.synth.writers.bank_csv import ING_HEADER, LLOYDS_HEADER
from ledgerlens.synth.writers.camt053 import NAMESPACE
from ledgerlens.synth.writers.mt940 import swift_text

NS = {"c": NAMESPACE}


def _signed(el: etree._Element) -> Decimal:
    amt = Decimal(el.findtext("c:Amt", namespaces=NS))
    return amt if el.findtext("c:CdtDbtInd", namespaces=NS) == "CRDT" else -amt


def test_camt053_files_are_valid_and_reconcile(synth_world: World, synth_files: Path) -> None:
    files = sorted((synth_files / "camt053").rglob("*.xml"))
    n_accounts = sum(len(b.accounts) for b in synth_world.businesses)
    assert len(files) == n_accounts * 12
    refs: set[str] = set()
    n_entries = 0
    for p in files[::3]:
        root = etree.parse(str(p)).getroot()
        assert root.tag == f"{{{NAMESPACE}}}Document"
        stmts = root.findall("c:BkToCstmrStmt/c:Stmt", NS)
        assert len(stmts) == 1
        stmt = stmts[0]
        bals = {
            b.findtext("c:Tp/c:CdOrPrtry/c:Cd", namespaces=NS): b for b in stmt.findall("c:Bal", NS)
        }
        assert set(bals) == {"OPBD", "CLBD"}
        total = Decimal(0)
        for e in stmt.findall("c:Ntry", NS):
            n_entries += 1
            ccy = e.find("c:Amt", NS).get("Ccy")
            assert ccy == stmt.findtext("c:Acct/c:Ccy", namespaces=NS)
            total += _signed(e)
            for path in (
                "c:BookgDt/c:Dt",
                "c:ValDt/c:Dt",
                "c:BkTxCd/c:Domn/c:Cd",
                "c:BkTxCd/c:Domn/c:Fmly/c:SubFmlyCd",
                "c:NtryDtls/c:TxDtls/c:RmtInf/c:Ustrd",
            ):
                assert e.findtext(path, namespaces=NS), (p, path)
            ref = e.findtext("c:AcctSvcrRef", namespaces=NS)
            assert ref not in refs
            refs.add(ref)
            assert all(len(u.text) <= 140 for u in e.iterfind(".//c:Ustrd", NS))
        assert _signed(bals["OPBD"]) + total == _signed(bals["CLBD"]), p
    assert n_entries > 1000


_AMT = r"(\d+,\d{2})"


def test_mt940_files_are_valid_and_reconcile(synth_files: Path) -> None:
    files = sorted((synth_files / "mt940").rglob("*.sta"))
    assert files
    n61 = 0
    for p in files[::2]:
        raw = p.read_bytes()
        text = raw.decode("ascii")
        lines = text.split("\r\n")
        assert lines[-1] == "" and "\n" not in text.replace("\r\n", "")
        assert all(len(line) <= 65 for line in lines), p
        assert lines[0].startswith(":20:") and lines[1].startswith(":25:")
        assert lines[2].startswith(":28C:")
        opening = re.fullmatch(rf":60F:([CD])\d{{6}}[A-Z]{{3}}{_AMT}", lines[3])
        closing = re.fullmatch(rf":62F:([CD])\d{{6}}[A-Z]{{3}}{_AMT}", lines[-2])
        assert opening and closing, p

        def val(m: re.Match[str]) -> Decimal:
            v = Decimal(m.group(2).replace(",", "."))
            return v if m.group(1) == "C" else -v

        total = Decimal(0)
        for i, line in enumerate(lines):
            if line.startswith(":61:"):
                n61 += 1
                m = re.fullmatch(rf":61:\d{{6}}\d{{4}}([CD]){_AMT}N[A-Z]{{3}}NONREF//\w+", line)
                assert m, line
                v = Decimal(m.group(2).replace(",", "."))
                total += v if m.group(1) == "C" else -v
                assert lines[i + 1].startswith(":86:")
        assert val(opening) + total == val(closing), p
    assert n61 > 1000


def test_swift_text_transliterates() -> None:
    assert swift_text("Müller & Söhne *GOOGLE_x#1") == "Muller + Sohne  GOOGLE-x 1"
    assert swift_text("Łódź Bäckerei ß") == "odz Backerei ss"


def test_bank_csv_layouts(synth_world: World, synth_files: Path) -> None:
    gbp = eur = 0
    for b in synth_world.businesses:
        for acc, opening in zip(b.accounts, b.opening_minor, strict=True):
            p = synth_files / "bankcsv" / b.business_id / f"{acc.account_id}.csv"
            if acc.currency not in ("GBP", "EUR"):
                assert not p.exists()
                continue
            text = p.read_text(encoding="utf-8")
            rows = list(csv.reader(text.splitlines()))
            balance = Decimal(opening).scaleb(-2)
            if acc.currency == "GBP":
                gbp += 1
                assert text.split("\n", 1)[0] == LLOYDS_HEADER
                for row in reversed(rows[1:]):  # newest first: walk oldest to newest
                    assert re.fullmatch(r"\d{2}/\d{2}/\d{4}", row[0]) and len(row) == 8
                    assert row[2] == "" or row[2].startswith("'")
                    amount = Decimal(row[6] or 0) - Decimal(row[5] or 0)
                    balance += amount
                    assert balance == Decimal(row[7])
            else:
                eur += 1
                assert tuple(rows[0]) == ING_HEADER
                assert text.startswith('"Datum","Naam / Omschrijving"')
                dates = [r[0] for r in rows[1:]]
                assert dates == sorted(dates, reverse=True)
                for row in rows[1:]:
                    assert row[5] in ("Af", "Bij") and re.fullmatch(r"\d+,\d{2}", row[6])
    assert gbp and eur
