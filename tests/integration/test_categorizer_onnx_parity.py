"""ONNX export parity: sklearn and onnxruntime give identical categories on 10,000 multilingual
transactions (synthetic DE/FR/NL/GB/US lines plus hand-written Polish, Czech, Nordic, Turkish
and Greek payees), onnxruntime run in chunks of at most 4000 rows."""

from __future__ import annotations

import numpy as np
import pytest

from ledgerlens.core.ledger import Transaction

pytestmark = pytest.mark.slow

_EXTRA = [
    "Bürobedarf Müller GmbH Düsseldorf", "Société Générale frais de tenue de compte",
    "Łódź Żabka sklep nr 12", "Kraków Orlen stacja paliw", "Škoda Servis Brno s.r.o.",
    "Café Crème Saint-Étienne", "Ærø Færgefart billet", "Smørrebrød København",
    "Straßenbahn Köln Fahrkarte", "İstanbul Kırtasiye Ltd. Şti.", "Ελληνικά Ταχυδρομεία",
    "Façade Rénovation Île-de-France", "Øresund Bro Afgift", "Niño Panadería Señor",
    "Gdańsk Księgarnia Ćma", "Åhléns Göteborg kassa", "Überweisung an Jürgen Größ",
    "Crème brûlée Ñandú Łukasz", "Zürich Bahnhofstraße Kiosk", "Ševčík účetnictví",
]  # fmt: skip


def _corpus(n: int) -> list[tuple[str, str]]:
    from ledgerlens.enrich.categorize.features import feature_rows
    from ledgerlens.ml.categorizer.data import world_examples
    from ledgerlens.synth.world import generate_world

    world = generate_world(12, 6, 424242, workers=1)
    examples = world_examples(world, seed=424242)
    rng = np.random.default_rng(5)
    picked = [examples[i] for i in rng.choice(len(examples), n - 2000, replace=False)]
    txs = [e.tx for e in picked]
    base = picked[0].tx
    for i in range(2000):
        text = _EXTRA[i % len(_EXTRA)]
        txs.append(Transaction(
            transaction_id=f"x{i}", business_id="bx", account_id="ax",
            booking_date=base.booking_date, value_date=None,
            amount_minor=int(rng.integers(-500_000, 500_000)) or 1, currency="EUR",
            description=f"{text} {int(rng.integers(1, 9999))}",
            counterparty_name=text if i % 3 == 0 else "", mcc=("5541", "5812", "")[i % 3],
        ))  # fmt: skip
    return feature_rows(txs)


def test_onnx_and_sklearn_give_identical_categories_on_10000_multilingual_rows() -> None:
    from ledgerlens.adapters.model_store import load_categorizer
    from ledgerlens.ml.categorizer.onnx_export import export_onnx, onnx_predict, onnx_session

    categorizer, _ = load_categorizer()
    model = categorizer.model
    rows = _corpus(10_000)
    assert len(rows) == 10_000
    assert any("Ł" in t or "Ü" in t for t, _ in rows)
    session = onnx_session(export_onnx(model))
    labels, probs = onnx_predict(session, rows, chunk=4000)
    py_proba = model.predict_proba(rows)
    py_labels = model.classes_[py_proba.argmax(axis=1)]
    mismatches = int((labels.astype(str) != py_labels.astype(str)).sum())
    assert mismatches == 0
    assert np.abs(probs - py_proba).max() < 1e-4
    # the abstain decision (threshold from the manifest) agrees too, away from float ties
    py_abstain = py_proba.max(axis=1) < model.threshold_
    onnx_abstain = probs.max(axis=1) < model.threshold_
    near = np.abs(py_proba.max(axis=1) - model.threshold_) < 1e-4
    assert (py_abstain == onnx_abstain)[~near].all()
