"""The categorizer: estimator contract, calibration/abstention, rules, sources and reasons."""

from __future__ import annotations

import numpy as np
import pytest
from tests.unit.enrich.conftest import make_tx

from ledgerlens.core.taxonomy import load_taxonomy
from ledgerlens.enrich.categorize import Categorizer, CategorizerModel, feature_row
from ledgerlens.enrich.categorize.features import business_profiles, size_band
from ledgerlens.enrich.categorize.model import ABSTAIN_FLOOR, choose_threshold

_TOY = [
    (("SHELL LONDON", "dir=out mcc=5541"), "opex.vehicle_fuel"),
    (("ESSO PARIS", "dir=out mcc=5541"), "opex.vehicle_fuel"),
    (("ARAL BERLIN", "dir=out mcc=5541"), "opex.vehicle_fuel"),
    (("PIZZA ROMA", "dir=out mcc=5812"), "opex.meals_entertainment"),
    (("CAFE LUNA", "dir=out mcc=5812"), "opex.meals_entertainment"),
    (("BISTRO ROMA", "dir=out mcc=5812"), "opex.meals_entertainment"),
    (("STRIPE PAYOUT", "dir=in mcc=none"), "income.sales"),
    (("SUMUP PAYOUT", "dir=in mcc=none"), "income.sales"),
    (("ZETTLE PAYOUT", "dir=in mcc=none"), "income.sales"),
] * 4


def _toy_model(**params: object) -> CategorizerModel:
    rows, labels = zip(*_TOY, strict=True)
    return CategorizerModel(min_df=1, max_iter=200, **params).fit(list(rows), list(labels))  # type: ignore[arg-type]


def test_estimator_contract_params_and_learned_attributes() -> None:
    model = CategorizerModel(C=3.0, min_df=1)
    assert model.get_params()["C"] == 3.0
    assert not hasattr(model, "classes_")
    fitted = _toy_model()
    assert isinstance(fitted.fit([r for r, _ in _TOY], [y for _, y in _TOY]), CategorizerModel)
    assert set(fitted.classes_) == {"opex.vehicle_fuel", "opex.meals_entertainment",
                                    "income.sales"}  # fmt: skip
    assert fitted.predict([("TOTAL LYON", "dir=out mcc=5541")])[0] == "opex.vehicle_fuel"
    proba = fitted.predict_proba([("CAFE ROMA", "dir=out mcc=5812")])
    assert proba.shape == (1, 3) and abs(proba.sum() - 1) < 1e-5


def test_calibration_sets_a_threshold_and_the_model_abstains_below_it() -> None:
    model = _toy_model()
    val = [(("SHELL X", "dir=out mcc=5541"), "opex.vehicle_fuel"),
           (("ROMA", "dir=out"), "opex.meals_entertainment"),
           (("QQQQ", "dir=in"), "opex.vehicle_fuel")]  # fmt: skip
    model.calibrate([r for r, _ in val], [y for _, y in val])
    assert model.temperature_ > 0
    assert 0.0 < model.threshold_ <= 1.0
    conf = model.predict_proba([("QQQQ", "dir=in")]).max()
    assert (model.predict([("QQQQ", "dir=in")])[0] == "") == (conf < model.threshold_)


def test_choose_threshold_keeps_the_longest_accurate_prefix() -> None:
    classes = np.array(["a", "b"])
    proba = np.array([[0.99, 0.01], [0.9, 0.1], [0.7, 0.3], [0.6, 0.4]])
    y = np.array(["a", "a", "a", "b"])  # the least confident one is wrong
    t = choose_threshold(proba, classes, y, np.ones(4), target=0.99)
    assert t == pytest.approx(0.7)
    # every row right: the cut would be 0, but the floor keeps an honest "not sure" below it
    assert choose_threshold(proba, classes, np.array(["a"] * 4), np.ones(4), 0.99) == ABSTAIN_FLOOR
    low = np.array([[0.3, 0.7], [0.35, 0.65]])
    assert choose_threshold(low, classes, np.array(["b", "b"]), np.ones(2), 0.5) == ABSTAIN_FLOOR


def test_size_band_grows_with_the_amount_and_respects_the_currency_exponent() -> None:
    assert size_band(-500, "EUR") < size_band(-50_000, "EUR") < size_band(-5_000_000, "EUR")
    assert size_band(5_000, "JPY") == size_band(500_000, "EUR")


def test_features_never_contain_the_iban_or_the_card_number() -> None:
    tx = make_tx(1, "SEPA CT JANSEN NL91ABNA0417164300 **** 4321", -1000,
                 counterparty_iban="NL91ABNA0417164300")  # fmt: skip
    text, meta = feature_row(tx)
    assert "0417" not in text + meta and "4321" not in text + meta
    assert "ibanc=NL" in meta and "iban=1" in meta


def test_business_profile_names_the_trade_from_transfer_payees() -> None:
    txs = [make_tx(i, f"SEPA CT TIMBER YARD {i}", -5000, counterparty_name="Oak Timber GmbH")
           for i in range(3)] + [make_tx(9, "SHELL", -100, mcc="5541")]  # fmt: skip
    assert business_profiles(txs) == {"b1": ("TIMBER",)}


def test_shipped_model_categorizes_clear_cases(categorizer: Categorizer) -> None:
    txs = [
        make_tx(1, "SHELL 0231 LEICES CD 1417 14JAN24", -6512, mcc="5541", currency="GBP"),
        make_tx(2, "Kartenzahlung girocard ADOBE *CREATIVE CLOUD//Internet/DE 26.07.2026", -5999,
                mcc="5734"),
        make_tx(3, "Naam: VATTENFALL Omschrijving: Termijnbedrag 03/2026 Machtiging ID: M1", -41230,
                counterparty_name="VATTENFALL"),
    ]  # fmt: skip
    results = categorizer.categorize(txs)
    assert [r.category for r in results] == ["opex.vehicle_fuel", "opex.software_subscriptions",
                                             "opex.utilities"]  # fmt: skip
    for r in results:
        assert r.source == categorizer.source and r.source.startswith("model:categorizer@")
        assert 0.0 < r.confidence <= 1.0
        assert r.reasons and all(isinstance(x, str) and x for x in r.reasons)
    assert any("MCC 5541" in x or "SHEL" in x for x in results[0].reasons)


def test_rules_go_first_with_their_id(categorizer: Categorizer) -> None:
    txs = [make_tx(1, "LNK LEEDS CD 1417 14JAN24", -2000, mcc="6011"),
           make_tx(2, "Devisenkassa EUR/USD", -100000, bank_tx_code="FORX/SPOT/OTHR"),
           make_tx(3, "LOHN", -250000, purpose_code="SALA")]  # fmt: skip
    results = categorizer.categorize(txs)
    assert [(r.category, r.source) for r in results] == [
        ("transfer.cash", "rule:mcc-atm-cash"),
        ("transfer.fx_conversion", "rule:bank-code-fx-deal"),
        ("opex.payroll", "rule:purpose-salary"),
    ]


def test_every_result_is_a_leaf_or_an_abstention(categorizer: Categorizer) -> None:
    junk = ["?", "", "ZZZZZZ QQQQ", "Łódź Société Générale", "123456789", "Bürobedarf Müller"]
    results = categorizer.categorize([make_tx(i, d, -100 - i) for i, d in enumerate(junk)])
    tax = load_taxonomy()
    assert len(results) == len(junk)
    for r in results:
        assert r.category == "" or r.category in tax
        assert r.abstained == (r.category == "")


def test_the_batch_scores_identical_rows_once_and_keeps_order(categorizer: Categorizer) -> None:
    txs = [make_tx(i, "CB SHELL 02/04 NANTES CARTE X2834", -5000, mcc="5541") for i in range(50)]
    txs.insert(10, make_tx(99, "VIR SEPA RECU /DE EBAY /MOTIF PAYOUT 000590", 90000,
                           counterparty_name="EBAY"))  # fmt: skip
    results = categorizer.categorize(txs, with_reasons=False)
    assert [r.transaction_id for r in results] == [t.transaction_id for t in txs]
    assert results[10].category == "income.marketplace_payout"
    assert {r.category for i, r in enumerate(results) if i != 10} == {"opex.vehicle_fuel"}


def test_the_lean_single_path_agrees_with_the_sklearn_pipeline(categorizer: Categorizer) -> None:
    model = categorizer.model
    rows = [feature_row(make_tx(1, "SHELL 0231 LEICES CD 1417 14JAN24", -6512, mcc="5541")),
            feature_row(make_tx(2, "Bürobedarf Müller  GmbH   Łódź", -1234)),
            ("", "dir=out unknown=token")]  # fmt: skip
    proba = model.predict_proba(rows)
    for row, p in zip(rows, proba, strict=True):
        best, conf, _ = model.score_one(row)
        assert best == int(p.argmax()) and conf == pytest.approx(float(p.max()), abs=1e-5)
    best, conf, _ = model.score_rows(rows)
    assert best.tolist() == proba.argmax(axis=1).tolist()
    assert np.allclose(conf, proba.max(axis=1), atol=1e-5)


def test_tax_offices_that_name_the_tax_are_rules_and_ambiguous_ones_are_not(
    categorizer: Categorizer,
) -> None:
    txs = [make_tx(1, "HMRC VAT VAT 01/2026 12APR26", -421000, counterparty_name="HMRC VAT"),
           make_tx(2, "PRLV SEPA DGFIP IS REF/CT 2026 06", -90000),
           make_tx(3, "SEPA-Lastschrift Stadtkasse Gewerbesteuer SVWZ+TAX", -50000),
           make_tx(4, "SEPA-Lastschrift Finanzamt SVWZ+CT 2026 09", -631094,
                   counterparty_name="Finanzamt")]  # fmt: skip
    got = [(r.category, r.source) for r in categorizer.categorize(txs, with_reasons=False)]
    assert got[:3] == [("tax.vat", "rule:tax-office-gb-vat"),
                       ("tax.corporate_income", "rule:tax-office-fr-corporate"),
                       ("tax.other", "rule:tax-office-de-trade-tax")]  # fmt: skip
    assert got[3][1].startswith("model:")  # Finanzamt collects every tax: the model decides


def test_business_context_counts_payees_and_is_absent_for_short_batches() -> None:
    from ledgerlens.enrich.categorize.features import business_contexts

    txs = [make_tx(i, "SEPA CT BOB BUILDER INV 1", -10_000, counterparty_name="Bob Builder")
           for i in range(20)] + [make_tx(99, "LOAN ADVANCE NATWEST", 9_000_000,
                                          counterparty_name="NATWEST LOAN")]  # fmt: skip
    assert business_contexts(txs) == {}  # 21 lines: too little history to say anything
    ctx = business_contexts(txs, min_lines=5)["b1"]
    loan = ctx.tokens(txs[-1], _cp(txs[-1]))
    assert "pn=in:once" in loan and "pin=1" in loan
    bob = ctx.tokens(txs[0], _cp(txs[0]))
    assert "pin=0" in bob and "pn=out:" in bob and "pn=out:once" not in bob


def _cp(tx: object) -> object:
    from ledgerlens.enrich.counterparties import normalize_counterparty

    return normalize_counterparty(tx.description, tx.counterparty_name, tx.mcc)  # type: ignore[attr-defined]
