"""Property test: real statement files, mutated, never crash the importer nor half-write.

Hypothesis takes real files from ../shared (one per format) and damages them the ways files get
damaged in the wild: truncation, flipped bytes, a wrong encoding, a huge field, swapped signs.
Every parser must return issues instead of raising, the importer must never hit its internal-error
fallback, and whenever a file is refused the database must be exactly as before.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ledgerlens.bootstrap import bootstrap
from ledgerlens.config import DbSettings, Settings
from ledgerlens.ingest.detect import HEAD_BYTES, default_parsers, detect_parser
from ledgerlens.jobs.setup import ensure_business

SAMPLES = [
    "fruitl00p-php-mt940/Rabo__sample.sta",
    "svenstaro-mt940-rs/MT940_FI_Example.sta",
    "genkgo-camt/camt053.v2.multi.statement.xml",
    "genkgo-camt/camt054.v4.xml",
    "subite-camt-to-coda/Other/account_statement.xml",
    "moov-io-bai2/sample1.txt",
    "csingley-ofxtools/stmtrs.ofx",
    "csingley-ofxtools/br_nubank_cc.ofx",
    "ofxstatement-plugin-samples/dutch-gpaulissen/ing_ok.csv",
    "ofxstatement-plugin-samples/lloyds-metasaura/sample-statement.csv",
    "ofxstatement-plugin-samples/revolut-mlaitinen/2021-october.csv",
]
EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def _corpus(external: Path) -> list[tuple[str, bytes]]:
    files = [
        (name, (external / name).read_bytes()) for name in SAMPLES if (external / name).is_file()
    ]
    files += [(p.name, p.read_bytes()) for p in sorted(EXAMPLES.iterdir()) if p.is_file()]
    return files


def _mutate(data: bytes, kind: str, pos: float, value: int) -> bytes:
    i = int(pos * len(data))
    if kind == "truncate":
        return data[:i]
    if kind == "flip":
        b = bytearray(data)
        for k in range(1 + value % 8):
            j = (i + k * 7919) % len(b)
            b[j] = (b[j] + 1 + value) % 256
        return bytes(b)
    if kind == "encoding":
        text = data.decode("utf-8", errors="replace")
        enc = ("cp1250", "cp1257", "utf-16", "latin-1")[value % 4]
        return text.encode(enc, errors="replace")
    if kind == "huge_field":
        return data[:i] + b"A" * (50_000 + value * 100) + data[i:]
    if kind == "swap_signs":
        table = [(b"CRDT", b"DBIT"), (b"C2", b"D2"), (b"-", b"+"), (b"Af", b"Bij")]
        a, b_ = table[value % len(table)]
        return data.replace(a, b"\x00TMP\x00").replace(b_, a).replace(b"\x00TMP\x00", b_)
    raise AssertionError(kind)


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory, external_data: Path):  # type: ignore[no-untyped-def]
    tmp = tmp_path_factory.mktemp("mutations")
    c = bootstrap(Settings(db=DbSettings(url=f"sqlite:///{tmp}/m.db")))
    ensure_business(c.uow_factory, "mut", "Mutations Ltd", "GB", "GBP")
    yield c, tmp, _corpus(external_data)
    c.dispose()


def _snapshot(c) -> tuple[int, int, int, int]:  # type: ignore[no-untyped-def]
    with c.uow_factory() as uow:
        s = uow.scope("mut")
        txs = s.transactions.list()
        return (
            len(txs),
            sum(t.amount_minor for t in txs),
            len(s.accounts.list()),
            len(s.statements.list()),
        )


@settings(
    max_examples=120,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    derandomize=True,
)
@given(
    which=st.integers(min_value=0, max_value=10_000),
    kind=st.sampled_from(["truncate", "flip", "encoding", "huge_field", "swap_signs"]),
    pos=st.floats(min_value=0.0, max_value=1.0, allow_nan=False),
    value=st.integers(min_value=0, max_value=255),
)
def test_mutated_real_files_never_crash_nor_half_write(world, which, kind, pos, value) -> None:  # type: ignore[no-untyped-def]
    c, tmp, corpus = world
    name, data = corpus[which % len(corpus)]
    mutated = _mutate(data, kind, pos, value)

    parser = detect_parser(mutated[:HEAD_BYTES], name, default_parsers())
    if parser is not None:
        parser.parse(mutated, name)  # must return issues, never raise

    path = Path(tmp) / f"mutated-{Path(name).name}"
    path.write_bytes(mutated)
    before = _snapshot(c)
    report = c.importer.import_file(path, "mut")
    after = _snapshot(c)

    assert not any("internal error" in i.message for i in report.issues), report.issues
    if report.refused:
        assert after == before, f"refused {name} ({kind}) but the database changed"
        assert all(str(i) for i in report.issues)
    else:
        assert after[0] - before[0] == report.new
