"""What each country's banks print: description text per payment rail, field widths, codes.

One ``Culture`` per banking culture (GB, DE, NL, FR, US). Its methods turn a simulated payment
into the line a real bank of that country shows — Lloyds-style "CD 1417 14JAN24" card lines and
Faster Payments references in the UK, SEPA ``SVWZ+``/``EREF+`` tags in Germany, ING "Naam:/
Omschrijving:" in the Netherlands, "PRLV SEPA"/"VIR SEPA RECU" in France, ACH "ORIG CO NAME:" in
the US — truncated to the bank's field widths, because that is what categorizers must read.

``RAIL_CODES`` maps each rail kind to the codes of every output format (CAMT BkTxCd, MT940
transaction type, Lloyds type, ING code / mutation kind) so the writers stay in step.
"""

from __future__ import annotations

from datetime import date, timedelta
from functools import lru_cache

__all__ = ["COUNTRIES", "RAIL_CODES", "Culture", "culture_for"]

COUNTRIES: dict[str, str] = {"GB": "GBP", "DE": "EUR", "NL": "EUR", "FR": "EUR", "US": "USD"}

# kind -> (camt Domn/Fmly/SubFmly, mt940 type, lloyds type, ING code, ING mutatiesoort)
RAIL_CODES: dict[str, tuple[str, str, str, str, str]] = {
    "card": ("PMNT/CCRD/POSD", "NMSC", "DEB", "BA", "Betaalautomaat"),
    "card_credit": ("PMNT/CCRD/RIMB", "NMSC", "DEB", "BA", "Betaalautomaat"),
    "transfer_in": ("PMNT/RCDT/ESCT", "NTRF", "FPI", "OV", "Overschrijving"),
    "batch_in": ("PMNT/RCDT/ESCT", "NTRF", "BGC", "VZ", "Verzamelbetaling"),
    "transfer_out": ("PMNT/ICDT/ESCT", "NTRF", "FPO", "OV", "Overschrijving"),
    "salary": ("PMNT/ICDT/SALA", "NTRF", "FPO", "OV", "Overschrijving"),
    "direct_debit": ("PMNT/IDDT/ESDD", "NDDT", "DD", "IC", "Incasso"),
    "standing_order": ("PMNT/ICDT/STDO", "NSTO", "SO", "OV", "Overschrijving"),
    "fee": ("ACMT/MDOP/CHRG", "NCHG", "PAY", "DV", "Diversen"),
    "interest": ("ACMT/MCOP/INTR", "NINT", "BNS", "DV", "Diversen"),
    "internal": ("PMNT/ICDT/BOOK", "NTRF", "TFR", "GT", "Online bankieren"),
    "internal_in": ("PMNT/RCDT/BOOK", "NTRF", "TFR", "GT", "Online bankieren"),
    "cash_out": ("PMNT/CCRD/CWDL", "NMSC", "CPT", "GM", "Geldautomaat"),
    "cash_in": ("PMNT/CNTR/CDPT", "NMSC", "DEP", "ST", "Storting"),
    "fx": ("FORX/SPOT/OTHR", "NFEX", "TFR", "GT", "Online bankieren"),
    "loan_in": ("LDAS/FTLN/DDWN", "NLDP", "BGC", "OV", "Overschrijving"),
    "loan_out": ("LDAS/FTLN/PPAY", "NLDP", "DD", "IC", "Incasso"),
}

_MON = ("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC")


class Culture:
    """Bank text of one country. Subclasses override the rails whose wording differs."""

    country = "GB"
    currency = "GBP"
    price_factor = 1.0  # local prices relative to EUR
    vat_rate_bps = 2000
    payroll_tax_bps = 2500  # employer cost + withheld tax, as share of net pay
    name_width = 18  # how much of a counterparty name the rail carries
    desc_width = 140
    vat_roll_back = False  # deadline = arrival date: pay on the banking day before
    payroll_roll_back = False

    def __init__(self, start: date, n_days: int) -> None:
        self.dates = [start + timedelta(days=i) for i in range(n_days + 1)]

    # -- hooks every culture provides -------------------------------------------------
    def card(self, merchant: str, store: str, city: str, last4: str, day: int, tod: int) -> str:
        d = self.dates[day]
        head = f"{merchant} {store} {city}"[:22]
        return f"{head} CD {last4} {d.day:02d}{_MON[d.month - 1]}{d.year % 100:02d}"

    def fx_note(self, ccy: str, amount_text: str, rate_text: str) -> str:
        return f" ORIG {ccy} {amount_text} RATE {rate_text}"

    def credit_in(self, name: str, ref: str, day: int, tod: int) -> str:
        d = self.dates[day]
        return (
            f"{name[: self.name_width]} {ref[:18]} {d.day:02d}{_MON[d.month - 1]}"
            f"{d.year % 100:02d} {tod // 60:02d}:{tod % 60:02d}"
        )

    def batch_in(self, name: str, ref: str) -> str:
        return f"{name[: self.name_width]} {ref[:18]}"

    def credit_out(self, name: str, ref: str, day: int, tod: int) -> str:
        return self.credit_in(name, ref, day, tod)

    def salary(self, name: str, ref: str) -> str:
        return f"{name[: self.name_width]} {ref[:18]}"

    def direct_debit(self, name: str, ref: str, mandate: str) -> str:
        return f"{name[: self.name_width]} {mandate}"

    def standing_order(self, name: str, ref: str) -> str:
        return f"{name[: self.name_width]} {ref[:18]}"

    def fee(self, label: str, ref: str) -> str:
        return f"{label} REF : {ref}"

    def interest(self) -> str:
        return "INTEREST (GROSS)"

    def internal(self, outgoing: bool, other: str, ref: str) -> str:
        return f"{'TO' if outgoing else 'FROM'} {other} {ref}"

    def cash_out(self, city: str, last4: str, day: int) -> str:
        d = self.dates[day]
        return f"LNK {city[:14]} CD {last4} {d.day:02d}{_MON[d.month - 1]}{d.year % 100:02d}"

    def cash_in(self, branch: str) -> str:
        return f"CASH DEPOSIT {branch}"

    def fx(self, sell: str, buy: str, amount_text: str, rate_text: str, ref: str) -> str:
        return f"FX {sell}/{buy} {amount_text} @ {rate_text} {ref}"

    def loan(self, lender: str, ref: str, drawdown: bool) -> str:
        return f"{lender[: self.name_width]} {'LOAN ADVANCE' if drawdown else 'LOAN'} {ref}"

    def tax_authority(self, kind: str) -> str:
        return {
            "vat": "HMRC VAT",
            "payroll": "HMRC PAYE NIC",
            "corp": "HMRC CT",
            "other": "LOCAL COUNCIL RATES",
        }[kind]


class GbCulture(Culture):
    """UK: Lloyds-style lines, Faster Payments/BACS with 18-character references."""

    price_factor = 0.87
    vat_roll_back = True
    payroll_roll_back = True


class DeCulture(Culture):
    country = "DE"
    currency = "EUR"
    vat_rate_bps = 1900
    payroll_tax_bps = 4000
    name_width = 70

    def card(self, merchant: str, store: str, city: str, last4: str, day: int, tod: int) -> str:
        d = self.dates[day]
        return (
            f"Kartenzahlung girocard {merchant}//{city.title()}/DE {d.day:02d}.{d.month:02d}."
            f"{d.year} {tod // 60:02d}:{tod % 60:02d} Karte {last4}"
        )

    def credit_in(self, name: str, ref: str, day: int, tod: int) -> str:
        return f"Gutschrift {name[:70]} SVWZ+{ref} EREF+{ref.replace(' ', '')[:35]}"

    def credit_out(self, name: str, ref: str, day: int, tod: int) -> str:
        return f"SEPA-Überweisung {name[:70]} SVWZ+{ref} EREF+{ref.replace(' ', '')[:35]}"

    def batch_in(self, name: str, ref: str) -> str:
        return f"Gutschrift {name[:70]} SVWZ+{ref}"

    def salary(self, name: str, ref: str) -> str:
        return f"Lohn/Gehalt {name[:70]} SVWZ+{ref}"

    def direct_debit(self, name: str, ref: str, mandate: str) -> str:
        return f"SEPA-Lastschrift {name[:70]} SVWZ+{ref} MREF+{mandate} CRED+DE98ZZZ0{mandate[-8:]}"

    def standing_order(self, name: str, ref: str) -> str:
        return f"Dauerauftrag {name[:70]} SVWZ+{ref}"

    def fee(self, label: str, ref: str) -> str:
        return f"Entgelt {label} {ref}"

    def interest(self) -> str:
        return "Zinsen/Abschluss"

    def internal(self, outgoing: bool, other: str, ref: str) -> str:
        return f"Umbuchung {'auf' if outgoing else 'von'} {other} SVWZ+{ref}"

    def cash_out(self, city: str, last4: str, day: int) -> str:
        d = self.dates[day]
        return (
            f"Bargeldauszahlung GA {city.title()} {d.day:02d}.{d.month:02d}.{d.year} Karte {last4}"
        )

    def cash_in(self, branch: str) -> str:
        return f"Bareinzahlung Filiale {branch}"

    def fx(self, sell: str, buy: str, amount_text: str, rate_text: str, ref: str) -> str:
        return f"Devisenkassa {sell}/{buy} {amount_text} Kurs {rate_text} {ref}"

    def loan(self, lender: str, ref: str, drawdown: bool) -> str:
        return f"{'Darlehensauszahlung' if drawdown else 'Tilgung/Zinsen Darlehen'} {lender} {ref}"

    def tax_authority(self, kind: str) -> str:
        return {
            "vat": "Finanzamt",
            "payroll": "Finanzamt",
            "corp": "Finanzamt",
            "other": "Stadtkasse Gewerbesteuer",
        }[kind]


class NlCulture(Culture):
    country = "NL"
    currency = "EUR"
    vat_rate_bps = 2100
    payroll_tax_bps = 3500
    name_width = 70
    vat_roll_back = True
    payroll_roll_back = True

    def card(self, merchant: str, store: str, city: str, last4: str, day: int, tod: int) -> str:
        d = self.dates[day]
        return (
            f"{merchant} {city.title()} Pasvolgnr:001 {d.day:02d}-{d.month:02d}-{d.year} "
            f"{tod // 60:02d}:{tod % 60:02d} Transactie:{store}{last4[:2]} Term:{store}"
        )

    def credit_in(self, name: str, ref: str, day: int, tod: int) -> str:
        return f"Naam: {name[:70]} Omschrijving: {ref} Kenmerk: {ref.replace(' ', '')[:35]}"

    credit_out = credit_in

    def batch_in(self, name: str, ref: str) -> str:
        return f"Naam: {name[:70]} Omschrijving: {ref}"

    def salary(self, name: str, ref: str) -> str:
        return f"Naam: {name[:70]} Omschrijving: {ref}"

    def direct_debit(self, name: str, ref: str, mandate: str) -> str:
        return f"Naam: {name[:70]} Omschrijving: {ref} Machtiging ID: {mandate} Incassant ID: NL98ZZZ{mandate[-9:]}"  # noqa: E501

    def standing_order(self, name: str, ref: str) -> str:
        return f"Naam: {name[:70]} Omschrijving: {ref} Periodieke overboeking"

    def fee(self, label: str, ref: str) -> str:
        return f"Kosten {label} {ref}"

    def interest(self) -> str:
        return "Rente spaarrekening"

    def internal(self, outgoing: bool, other: str, ref: str) -> str:
        return f"{'Naar' if outgoing else 'Van'} {other} Omschrijving: {ref}"

    def cash_out(self, city: str, last4: str, day: int) -> str:
        d = self.dates[day]
        return f"Geldautomaat {city.title()} Pasvolgnr:001 {d.day:02d}-{d.month:02d}-{d.year}"

    def cash_in(self, branch: str) -> str:
        return f"Storting {branch}"

    def fx(self, sell: str, buy: str, amount_text: str, rate_text: str, ref: str) -> str:
        return f"Valutatransactie {sell}/{buy} {amount_text} koers {rate_text} {ref}"

    def loan(self, lender: str, ref: str, drawdown: bool) -> str:
        return f"Naam: {lender} Omschrijving: {'Uitbetaling lening' if drawdown else 'Aflossing lening'} {ref}"  # noqa: E501

    def tax_authority(self, kind: str) -> str:
        return "Belastingdienst"


class FrCulture(Culture):
    country = "FR"
    currency = "EUR"
    vat_rate_bps = 2000
    payroll_tax_bps = 4500
    name_width = 32

    def card(self, merchant: str, store: str, city: str, last4: str, day: int, tod: int) -> str:
        d = self.dates[day]
        return f"CB {merchant[:20]} {d.day:02d}/{d.month:02d} {city[:13]} CARTE X{last4}"

    def credit_in(self, name: str, ref: str, day: int, tod: int) -> str:
        return f"VIR SEPA RECU /DE {name[:32]} /MOTIF {ref} /REF {ref.replace(' ', '')[:20]}"

    def credit_out(self, name: str, ref: str, day: int, tod: int) -> str:
        return f"VIR SEPA EMIS /MOTIF {ref} /BEN {name[:32]} /REFDO {ref.replace(' ', '')[:20]}"

    def batch_in(self, name: str, ref: str) -> str:
        return f"VIR SEPA RECU /DE {name[:32]} /MOTIF {ref}"

    def salary(self, name: str, ref: str) -> str:
        return f"VIR SEPA EMIS /MOTIF {ref} /BEN {name[:32]}"

    def direct_debit(self, name: str, ref: str, mandate: str) -> str:
        return f"PRLV SEPA {name[:32]} ID EMETTEUR/FR{mandate[-10:]} MDT/{mandate} REF/{ref}"

    def standing_order(self, name: str, ref: str) -> str:
        return f"VIR PERMANENT {name[:32]} {ref}"

    def fee(self, label: str, ref: str) -> str:
        return f"COMMISSIONS {label.upper()} {ref}"

    def interest(self) -> str:
        return "INTERETS CREDITEURS"

    def internal(self, outgoing: bool, other: str, ref: str) -> str:
        return f"VIR INTERNE {'VERS' if outgoing else 'DE'} {other} {ref}"

    def cash_out(self, city: str, last4: str, day: int) -> str:
        d = self.dates[day]
        return f"RETRAIT DAB {d.day:02d}/{d.month:02d} {city[:13]} CARTE X{last4}"

    def cash_in(self, branch: str) -> str:
        return f"VERSEMENT ESPECES {branch}"

    def fx(self, sell: str, buy: str, amount_text: str, rate_text: str, ref: str) -> str:
        return f"OPERATION DE CHANGE {sell}/{buy} {amount_text} COURS {rate_text} {ref}"

    def loan(self, lender: str, ref: str, drawdown: bool) -> str:
        return f"{'DEBLOCAGE PRET' if drawdown else 'ECHEANCE PRET'} {lender} {ref}"

    def tax_authority(self, kind: str) -> str:
        return {"vat": "DGFIP TVA", "payroll": "URSSAF", "corp": "DGFIP IS", "other": "DGFIP CFE"}[
            kind
        ]


class UsCulture(Culture):
    country = "US"
    currency = "USD"
    price_factor = 1.1
    vat_rate_bps = 725  # state + local sales tax
    payroll_tax_bps = 2500
    name_width = 16  # ACH company name field

    def card(self, merchant: str, store: str, city: str, last4: str, day: int, tod: int) -> str:
        d = self.dates[day]
        return (
            f"POS PURCHASE {merchant[:18]} #{store} {city} {d.month:02d}/{d.day:02d} CARD {last4}"
        )

    def credit_in(self, name: str, ref: str, day: int, tod: int) -> str:
        return f"ORIG CO NAME:{name[:16]} CO ENTRY DESCR:PAYMENT SEC:CCD IND ID:{ref[:15]}"

    def credit_out(self, name: str, ref: str, day: int, tod: int) -> str:
        return f"ONLINE ACH PAYMENT TO {name[:22]} REF {ref[:15]}"

    def batch_in(self, name: str, ref: str) -> str:
        return f"ORIG CO NAME:{name[:16]} CO ENTRY DESCR:DEPOSIT SEC:CCD IND ID:{ref[:15]}"

    def salary(self, name: str, ref: str) -> str:
        return f"ACH PAYROLL DIRECT DEP {name[:22]} {ref[:15]}"

    def direct_debit(self, name: str, ref: str, mandate: str) -> str:
        return f"ORIG CO NAME:{name[:16]} CO ENTRY DESCR:{ref[:10]} SEC:PPD IND ID:{mandate[:15]}"

    def standing_order(self, name: str, ref: str) -> str:
        return f"RECURRING TRANSFER TO {name[:22]} {ref[:15]}"

    def fee(self, label: str, ref: str) -> str:
        return f"{label.upper()} FEE {ref}"

    def interest(self) -> str:
        return "INTEREST PAYMENT"

    def internal(self, outgoing: bool, other: str, ref: str) -> str:
        return f"ONLINE TRANSFER {'TO' if outgoing else 'FROM'} {other} REF #{ref}"

    def cash_out(self, city: str, last4: str, day: int) -> str:
        d = self.dates[day]
        return f"ATM WITHDRAWAL {city} {d.month:02d}/{d.day:02d} CARD {last4}"

    def cash_in(self, branch: str) -> str:
        return f"BRANCH DEPOSIT {branch}"

    def fx(self, sell: str, buy: str, amount_text: str, rate_text: str, ref: str) -> str:
        return f"FX TRADE {sell}/{buy} {amount_text} RATE {rate_text} {ref}"

    def loan(self, lender: str, ref: str, drawdown: bool) -> str:
        return f"{lender[:16]} {'LOAN PROCEEDS' if drawdown else 'LOAN PMT'} {ref}"

    def tax_authority(self, kind: str) -> str:
        return {
            "vat": "STATE COMPTROLLER",
            "payroll": "IRS USATAXPYMT",
            "corp": "IRS USATAXPYMT",
            "other": "COUNTY TAX",
        }[kind]


_BY_COUNTRY: dict[str, type[Culture]] = {
    "GB": GbCulture,
    "DE": DeCulture,
    "NL": NlCulture,
    "FR": FrCulture,
    "US": UsCulture,
}


@lru_cache(maxsize=32)
def culture_for(country: str, start: date, n_days: int) -> Culture:
    """One culture object per (country, calendar) and process; they are read-only."""
    return _BY_COUNTRY[country](start, n_days)
