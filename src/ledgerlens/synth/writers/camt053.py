"""CAMT.053.001.02 statements: one XML file per account per month of history.

Element order follows the 001.02 schema (AccountStatement2, ReportEntry2, EntryTransaction2).
Each statement carries OPBD and CLBD balances, a TxsSummry, and entries with Amt/Ccy,
CdtDbtInd, Sts BOOK, BookgDt, ValDt, a unique AcctSvcrRef, the BkTxCd domain code of the rail,
related parties (debtor for credits, creditor for debits) with IBAN, and the bank text as
RmtInf/Ustrd (140-character chunks) and AddtlNtryInf. Built as text (fast, deterministic; no
timestamps from the clock: the creation time is the morning after the period).
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from xml.sax.saxutils import escape

from ledgerlens.synth.cultures import RAIL_CODES
from ledgerlens.synth.model import SimAccount, SimBusiness, World
from ledgerlens.synth.writers.canonical_csv import amount_text
from ledgerlens.synth.writers.statements import StatementSlice, iter_statements

__all__ = ["NAMESPACE", "camt053_text", "write_camt053"]

NAMESPACE = "urn:iso:std:iso:20022:tech:xsd:camt.053.001.02"


def _acct_id(acc: SimAccount) -> str:
    ident = escape(acc.identifier)
    if (
        acc.identifier[:2].isalpha()
        and acc.identifier[2:4].isdigit()
        and not acc.identifier.startswith("CC")
    ):
        return f"<Id><IBAN>{ident}</IBAN></Id>"
    return f"<Id><Othr><Id>{ident}</Id></Othr></Id>"


def _bal(code: str, minor: int, ccy: str, day: str) -> str:
    ind = "CRDT" if minor >= 0 else "DBIT"
    return (
        f"<Bal><Tp><CdOrPrtry><Cd>{code}</Cd></CdOrPrtry></Tp>"
        f'<Amt Ccy="{ccy}">{amount_text(abs(minor), ccy)}</Amt><CdtDbtInd>{ind}</CdtDbtInd>'
        f"<Dt><Dt>{day}</Dt></Dt></Bal>"
    )


def camt053_text(world: World, b: SimBusiness, s: StatementSlice) -> str:
    acc, ccy, iso = s.account, s.account.currency, world.day_iso
    created = (s.last + timedelta(days=1)).isoformat() + "T06:00:00"
    stmt_id = f"{acc.account_id}-{s.year}{s.month:02d}"
    parts = [
        '<?xml version="1.0" encoding="UTF-8"?>\n',
        f'<Document xmlns="{NAMESPACE}" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">\n',
        f"<BkToCstmrStmt><GrpHdr><MsgId>{stmt_id}</MsgId><CreDtTm>{created}</CreDtTm></GrpHdr>\n",
        f"<Stmt><Id>{stmt_id}</Id><ElctrncSeqNb>{s.seq}</ElctrncSeqNb><CreDtTm>{created}</CreDtTm>",
        f"<FrToDt><FrDtTm>{s.first.isoformat()}T00:00:00</FrDtTm>"
        f"<ToDtTm>{s.last.isoformat()}T23:59:59</ToDtTm></FrToDt>\n",
        f"<Acct>{_acct_id(acc)}<Ccy>{ccy}</Ccy><Nm>{escape(acc.name)}</Nm>"
        f"<Ownr><Nm>{escape(b.name[:70])}</Nm></Ownr>"
        f"<Svcr><FinInstnId><BIC>{acc.bic}</BIC></FinInstnId></Svcr></Acct>\n",
        _bal("OPBD", s.opening_minor, ccy, s.first.isoformat()),
        "\n",
        _bal("CLBD", s.closing_minor, ccy, s.last.isoformat()),
        "\n",
    ]
    total = sum(abs(r.amount_minor) for r, _, _, _ in s.lines)
    net = s.closing_minor - s.opening_minor
    parts.append(
        f"<TxsSummry><TtlNtries><NbOfNtries>{len(s.lines)}</NbOfNtries>"
        f"<Sum>{amount_text(total, ccy)}</Sum><TtlNetNtryAmt>{amount_text(abs(net), ccy)}"
        f"</TtlNetNtryAmt><CdtDbtInd>{'CRDT' if net >= 0 else 'DBIT'}</CdtDbtInd></TtlNtries>"
        "</TxsSummry>\n"
    )
    for n, (r, _tid, ref, _bal_after) in enumerate(s.lines, start=1):
        credit = r.amount_minor >= 0
        domain, family, sub = RAIL_CODES[r.kind][0].split("/")
        vd = r.value_day if r.value_day >= 0 else r.day
        desc = escape(r.description[:500])
        ustrd = "".join(
            f"<Ustrd>{escape(r.description[i : i + 140])}</Ustrd>"
            for i in range(0, len(r.description), 140)
        )
        party = ""
        if r.counterparty_name or r.counterparty_iban:
            role = "Dbtr" if credit else "Cdtr"
            nm = f"<{role}><Nm>{escape(r.counterparty_name[:70])}</Nm></{role}>"
            acct = (
                f"<{role}Acct><Id><IBAN>{r.counterparty_iban}</IBAN></Id></{role}Acct>"
                if r.counterparty_iban[:2].isalpha() and r.counterparty_iban[2:4].isdigit()
                else ""
            )
            party = f"<RltdPties>{nm}{acct}</RltdPties>"
        parts.append(
            f"<Ntry><NtryRef>{n}</NtryRef>"
            f'<Amt Ccy="{ccy}">{amount_text(abs(r.amount_minor), ccy)}</Amt>'
            f"<CdtDbtInd>{'CRDT' if credit else 'DBIT'}</CdtDbtInd><Sts>BOOK</Sts>"
            f"<BookgDt><Dt>{iso[r.day]}</Dt></BookgDt><ValDt><Dt>{iso[vd]}</Dt></ValDt>"
            f"<AcctSvcrRef>{ref}</AcctSvcrRef>"
            f"<BkTxCd><Domn><Cd>{domain}</Cd><Fmly><Cd>{family}</Cd><SubFmlyCd>{sub}</SubFmlyCd>"
            f"</Fmly></Domn></BkTxCd>"
            f"<NtryDtls><TxDtls><Refs><AcctSvcrRef>{ref}</AcctSvcrRef></Refs>{party}"
            f"<RmtInf>{ustrd}</RmtInf></TxDtls></NtryDtls>"
            f"<AddtlNtryInf>{desc}</AddtlNtryInf></Ntry>\n"
        )
    parts.append("</Stmt></BkToCstmrStmt></Document>\n")
    return "".join(parts)


def write_camt053(world: World, b: SimBusiness, folder: Path) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    out = []
    for s in iter_statements(world, b):
        p = folder / f"{s.account.account_id}_{s.year}-{s.month:02d}.xml"
        p.write_text(camt053_text(world, b, s), encoding="utf-8", newline="")
        out.append(p)
    return out
