"""Counterparty normalization: canonical payees from noisy bank text, brand/MCC tables, IBANs."""

from __future__ import annotations

import pytest

from ledgerlens.core.taxonomy import load_taxonomy
from ledgerlens.enrich.counterparties import (
    load_brands,
    mcc_category,
    normalize_counterparty,
    normalize_text,
    tokenize_iban,
)


@pytest.mark.parametrize(
    ("description", "expected"),
    [
        ("SHELL 0231 LEICES CD 1417 14JAN24", "Shell"),
        ("Kartenzahlung girocard SHELL//Berlin/DE 26.07.2026 03:54 Karte 6867", "Shell"),
        ("CB SHELL 02/04 NANTES CARTE X2834", "Shell"),
        ("ESSO Tilburg Pasvolgnr:001 15-12-2025 19:45 Transactie:279590 Term:2795", "Esso"),
        ("POS PURCHASE GOOGLE *WORKSPACE # INTERNET 02/23 CARD 7234", "Google Workspace"),
        ("XERO UK  INTERNET CD 5915 03APR26", "Xero"),
        ("TESCO STORES #0231 LONDON **** 1234", "Tesco"),
        ("ORIG CO NAME:STRIPE VISA CO ENTRY DESCR:DEPOSIT SEC:CCD IND ID:7851059 1105", "Stripe"),
        ("AMZN MKTP DE*2K4LL0 AMAZON.DE", "Amazon Marketplace"),
    ],
)
def test_brand_lines_normalize_to_one_canonical_name(description: str, expected: str) -> None:
    cp = normalize_counterparty(description)
    assert cp.name == expected
    assert cp.source == "brand"
    assert cp.category_hint in load_taxonomy()


@pytest.mark.parametrize(
    ("description", "expected"),
    [
        ("FASTER PAYMENT ACME PLUMBING LTD REF 12345 **** 1234", "Acme Plumbing"),
        ("SEPA CT Bürobedarf Müller GmbH SVWZ+RE 2024-118", "Bürobedarf Müller"),
        ("VIR SEPA RECU /DE Roux Foods SAS /MOTIF FACTURE FA-2025-0282", "Roux Foods"),
        ("Naam: Zenith Food Service V.O.F. Omschrijving: INV 5216 Kenmerk: INV5216",
         "Zenith Food Service"),
    ],
)  # fmt: skip
def test_unknown_payees_lose_rail_words_references_and_legal_forms(
    description: str, expected: str
) -> None:
    cp = normalize_counterparty(description)
    assert cp.name.upper() == expected.upper()
    assert cp.source == "description"
    assert cp.legal_form or expected == "Roux Foods"


def test_same_payee_in_different_banks_words_gets_one_key() -> None:
    a = normalize_counterparty("FASTER PAYMENT ACME PLUMBING LTD REF 12345")
    b = normalize_counterparty("SEPA CT ACME PLUMBING LIMITED SVWZ+INV 99")
    c = normalize_counterparty("x", counterparty_name="Acme Plumbing Ltd")
    assert a.key == b.key == c.key == "name:ACME PLUMBING"


def test_iban_token_groups_without_revealing_the_iban() -> None:
    t1 = tokenize_iban("NL91 ABNA 0417 1643 00", b"secret")
    t2 = tokenize_iban("nl91abna0417164300", b"secret")
    assert t1 == t2 and t1.startswith("iban:")
    assert "0417" not in t1 and "NL91" not in t1
    assert tokenize_iban("NL91ABNA0417164300", b"other") != t1
    assert tokenize_iban("", b"secret") == ""
    cp = normalize_counterparty("SEPA CT JANSEN", iban_token=t1)
    assert cp.key == t1


def test_normalize_text_removes_card_masks_dates_ibans_and_keeps_accents() -> None:
    text = normalize_text("Łódź Société Générale **** 1234 14JAN24 19:45 NL91ABNA0417164300 #0231")
    assert "1234" not in text and "14JAN24" not in text and "0417" not in text
    assert text.startswith("ŁÓDŹ SOCIÉTÉ GÉNÉRALE")
    assert "IBAN" in text
    assert normalize_text("Straße") == "STRASSE"  # one shared rule: str.upper


def test_mcc_table_covers_the_common_codes() -> None:
    assert mcc_category("6011") == ("transfer.cash", "cash withdrawal")
    assert mcc_category("5541")[0] == "opex.vehicle_fuel"  # type: ignore[index]
    assert mcc_category("3005")[0] == "opex.travel"  # type: ignore[index]
    assert mcc_category("") is None and mcc_category("12") is None
    assert mcc_category("0001") is None


def test_every_table_category_is_a_taxonomy_leaf() -> None:
    tax = load_taxonomy()
    assert all(b.category in tax for b in load_brands())
    for code in range(10000):
        found = mcc_category(f"{code:04d}")
        assert found is None or found[0] in tax
