"""``ledgerlens demo`` prints the first owner's weekly digest: a digest that fails to build is
an error (logged with its traceback, shown, exit 1), never silently replaced by the summary."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest
import structlog
from rich.console import Console

import ledgerlens.pipeline as pipeline
from ledgerlens.jobs import demo_serve
from ledgerlens.jobs.demo_serve import DemoOwner, DemoPortfolio

OWNER = DemoOwner("biz-demo-1", "Harbour Street Bakery", 0.62, "2026-03-09")


def _broken(cmd: Any, services: Any) -> Any:
    raise RuntimeError("digest template missing")


class _Container:
    settings = SimpleNamespace(db=SimpleNamespace(url="sqlite:///var/demo.db"))

    def __init__(self) -> None:
        self.disposed = False

    def services(self) -> object:
        return object()

    def dispose(self) -> None:
        self.disposed = True


def test_a_digest_that_fails_to_build_raises(monkeypatch: pytest.MonkeyPatch) -> None:
    assert demo_serve._command("BuildDigest") is not None  # the insights stage is wired
    monkeypatch.setattr(pipeline, "dispatch", _broken)
    with pytest.raises(RuntimeError, match="digest template missing"):
        demo_serve._digest(_Container(), OWNER.business_id)  # type: ignore[arg-type]


def test_no_digest_yet_is_not_an_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(pipeline, "dispatch", lambda cmd, services: None)  # no consent
    console = Console(record=True, width=200)
    assert demo_serve._print_digest(_Container(), OWNER, console) is True  # type: ignore[arg-type]
    assert "(no digest yet" in console.export_text()


def test_the_demo_logs_the_error_and_exits_non_zero(monkeypatch: pytest.MonkeyPatch) -> None:
    import ledgerlens.bootstrap as bootstrap

    container = _Container()
    monkeypatch.setattr(bootstrap, "bootstrap", lambda **kw: container)
    monkeypatch.setattr(bootstrap, "configure_logging", lambda *a, **kw: None)
    monkeypatch.setattr(
        demo_serve, "prepare_demo", lambda c, n, console: DemoPortfolio(1, 120, [OWNER])
    )
    monkeypatch.setattr(pipeline, "dispatch", _broken)
    console = Console(record=True, width=200)
    with structlog.testing.capture_logs() as logs:
        code = demo_serve.run_full_demo(1, 8000, console, serve=False)
    assert code == 1
    failed = [e for e in logs if e["event"] == "demo_digest_failed"]
    assert failed and failed[0]["log_level"] == "error" and failed[0]["exc_info"] is True
    assert failed[0]["business_id"] == OWNER.business_id
    shown = console.export_text()
    assert "could not be built (RuntimeError: digest template missing)" in shown
    assert "Demo logins" not in shown  # stopped before handing out logins or serving
    assert container.disposed
