"""The import path end to end on real databases (SQLite file and the PostgreSQL server).

The same tests run on both backends through the ``db_url`` fixture: idempotent re-imports,
overlapping statements, atomic refusal, concurrent imports of one file, canonical CSV round trip.
"""

from __future__ import annotations

import multiprocessing
from pathlib import Path

import pytest

from ledgerlens.bootstrap import Container, bootstrap
from ledgerlens.config import DbSettings, Settings
from ledgerlens.ingest.export import export_business
from ledgerlens.jobs.setup import ensure_business

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


@pytest.fixture
def app(db_url: str):  # type: ignore[no-untyped-def]
    c = bootstrap(Settings(db=DbSettings(url=db_url)))
    ensure_business(c.uow_factory, "acme", "Acme Ltd", "GB", "GBP")
    ensure_business(c.uow_factory, "other", "Other GmbH", "DE", "EUR")
    ensure_business(c.uow_factory, "demo-cafe", "Demo Café Ltd", "GB", "GBP")
    yield c
    c.dispose()


def _rows(c: Container, business: str = "acme") -> int:
    with c.uow_factory() as uow:
        return uow.scope(business).transactions.count()


MT940_JAN_1_15 = """:20:S1
:25:NL91ABNA0417164300
:28C:1/1
:60F:C260101EUR1000,00
:61:2601050105D10,00NTRFNONREF
:86:COFFEE BAR
:61:2601050105D10,00NTRFNONREF
:86:COFFEE BAR
:61:2601100110C250,00NTRFNONREF
:86:INVOICE 17 ACME
:62F:C260115EUR1230,00
"""

MT940_JAN_1_31 = """:20:S2
:25:NL91ABNA0417164300
:28C:2/1
:60F:C260101EUR1000,00
:61:2601050105D10,00NTRFNONREF
:86:COFFEE BAR
:61:2601050105D10,00NTRFNONREF
:86:COFFEE BAR
:61:2601100110C250,00NTRFNONREF
:86:INVOICE 17 ACME
:61:2601200120D30,00NTRFNONREF
:86:TAXI
:62F:C260131EUR1200,00
"""


def test_examples_import_then_reimport_adds_nothing(app: Container) -> None:
    files = sorted(p for p in EXAMPLES.iterdir() if p.is_file())
    first = [app.importer.import_file(f, "demo-cafe") for f in files]
    assert all(not r.refused for r in first), [r.issues for r in first]
    stored = _rows(app, "demo-cafe")
    assert stored == sum(r.transactions for r in first) > 0
    again = [app.importer.import_file(f, "demo-cafe") for f in files]
    assert sum(r.new for r in again) == 0
    assert sum(r.duplicates for r in again) == stored
    assert _rows(app, "demo-cafe") == stored


def test_overlapping_statements_add_only_the_new_lines(app: Container, tmp_path: Path) -> None:
    a = tmp_path / "jan-1-15.sta"
    b = tmp_path / "jan-1-31.sta"
    a.write_text(MT940_JAN_1_15)
    b.write_text(MT940_JAN_1_31)
    ra = app.importer.import_file(a, "acme")
    assert (ra.new, ra.reconciled) == (3, 1)  # the two identical coffees stay two
    rb = app.importer.import_file(b, "acme")
    assert (rb.transactions, rb.new, rb.duplicates, rb.reconciled) == (4, 1, 3, 1)
    assert _rows(app) == 4


def test_refused_file_changes_nothing(app: Container, tmp_path: Path) -> None:
    good = tmp_path / "good.sta"
    good.write_text(MT940_JAN_1_15)
    app.importer.import_file(good, "acme")
    before = _rows(app)
    bad = tmp_path / "bad.sta"
    # a valid first statement followed by a broken one: the whole file must be refused
    bad.write_text(
        MT940_JAN_1_31 + ":20:S3\n:25:NL91ABNA0417164300\n:60F:C260201EUR1200,00\n"
        ":61:2602XX0201D5,00NTRFNONREF\n:62F:C260228EUR1195,00\n"
    )
    report = app.importer.import_file(bad, "acme")
    assert report.refused
    assert any(i.line is not None for i in report.issues)
    assert _rows(app) == before


def test_unknown_business_is_refused_with_a_clear_reason(app: Container) -> None:
    report = app.importer.import_file(EXAMPLES / "demo-cafe-current-2026-10.mt940", "nobody")
    assert report.refused
    assert "unknown business" in report.issues[0].message


def test_rows_of_another_business_are_refused(app: Container, tmp_path: Path) -> None:
    csv = (EXAMPLES / "demo-cafe-eur-2026-10.csv").read_text().replace(",demo-cafe,", ",acme,")
    path = tmp_path / "eur.csv"
    path.write_text(csv)
    report = app.importer.import_file(path, "other")
    assert report.refused and report.issues[0].field == "business_id"
    assert _rows(app, "other") == 0


def test_tenants_do_not_see_each_other(app: Container) -> None:
    app.importer.import_file(EXAMPLES / "demo-cafe-current-2026-10.mt940", "acme")
    with app.uow_factory() as uow:
        acme = uow.scope("acme").transactions.list()
        assert acme
        other = uow.scope("other")
        assert other.transactions.list() == []
        assert other.transactions.get(acme[0].transaction_id) is None
        assert other.accounts.get(acme[0].account_id) is None


def test_canonical_csv_export_reproduces_the_file(app: Container, tmp_path: Path) -> None:
    src = tmp_path / "in.csv"
    src.write_text(
        (EXAMPLES / "demo-cafe-eur-2026-10.csv").read_text().replace("demo-cafe", "acme")
    )
    assert not app.importer.import_file(src, "acme").refused
    out = tmp_path / "out.csv"
    n = export_business(app.uow_factory, "acme", out)
    assert n == 3
    assert out.read_bytes() == src.read_bytes()


def _import_in_child(args: tuple[str, str]) -> int:
    url, path = args
    c = bootstrap(Settings(db=DbSettings(url=url)), upgrade=False)
    try:
        report = c.importer.import_file(Path(path), "acme")
        assert not report.refused, report.issues
        return report.new
    finally:
        c.dispose()


def test_two_concurrent_imports_of_one_file_add_it_once(
    app: Container, db_url: str, tmp_path: Path
) -> None:
    lines = [":20:BIG", ":25:NL91ABNA0417164300", ":28C:1/1", ":60F:C260101EUR0,00"]
    total = 0
    for i in range(3000):
        lines += [f":61:2601{1 + i % 28:02d}D1,{i % 100:02d}NTRFNONREF", f":86:PAYMENT {i}"]
        total -= 100 + i % 100
    lines.append(f":62F:D260131EUR{abs(total) // 100},{abs(total) % 100:02d}")
    path = tmp_path / "big.sta"
    path.write_text("\n".join(lines) + "\n")
    ctx = multiprocessing.get_context("spawn")
    with ctx.Pool(2) as pool:
        news = pool.map(_import_in_child, [(db_url, str(path))] * 2)
    assert sum(news) == 3000  # each line counted new by exactly one of the two imports
    assert _rows(app) == 3000


def test_unreachable_database_is_a_clear_refusal_not_a_crash() -> None:
    c = bootstrap(
        Settings(db=DbSettings(url="postgresql+psycopg://postgres@127.0.0.1:1/test")),
        upgrade=False,
    )
    try:
        report = c.importer.import_file(EXAMPLES / "demo-cafe-current-2026-10.mt940", "acme")
    finally:
        c.dispose()
    assert report.refused
    assert "database unavailable" in report.issues[0].message
