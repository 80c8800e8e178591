"""The dispatcher as a running thing: one pass, or a pass every ``interval_s`` until stopped.

``DispatcherLoop`` dispatches ``pipeline_dispatch.DispatchDue`` through the pipeline. It runs
in the foreground (``ledgerlens dispatch --loop``: SIGTERM/SIGINT stop it after the current
pass) or in a daemon thread beside the web server (``ledgerlens demo``), stopped cleanly with
``stop()``. A pass that fails (database gone for a moment) is logged by error class and the
next one tries again; a pass never overlaps the previous one of the same loop, and passes of
different loops or processes are safe together (the outbox's claim decides who sends).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from ledgerlens.pipeline import dispatch
from ledgerlens.pipeline_dispatch import DispatchDue, DispatchReport

__all__ = ["DispatcherLoop", "counts_of"]


class DispatcherLoop:
    def __init__(
        self,
        services: Any,
        interval_s: float = 60.0,
        *,
        clock: Callable[[], datetime] | None = None,
        on_report: Callable[[DispatchReport], None] | None = None,
    ) -> None:
        if interval_s <= 0:
            raise ValueError("interval_s must be positive")
        self.services, self.interval_s = services, interval_s
        self._clock = clock or (lambda: datetime.now(UTC))
        self._on_report = on_report
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.passes = 0
        self.failures = 0

    def run_once(self, now: datetime | None = None) -> DispatchReport:
        report: DispatchReport = dispatch(DispatchDue(now=now or self._clock()), self.services)
        self.passes += 1
        if self._on_report is not None:
            self._on_report(report)
        return report

    def run_forever(self) -> None:
        """Passes until ``stop()``; the wait between passes ends at once when stopped."""
        import structlog

        log = structlog.get_logger("ledgerlens.dispatch")
        while not self._stop.is_set():
            try:
                r = self.run_once()
                if r.sent or r.failed or r.digests_queued or r.errors:
                    log.info("dispatch_pass", **{k: v for k, v in counts_of(r).items() if v})
            except Exception as exc:  # noqa: BLE001 - the loop outlives a bad pass
                self.failures += 1
                log.warning("dispatch_pass_failed", error=type(exc).__name__)
            self._stop.wait(self.interval_s)

    def start(self) -> DispatcherLoop:
        """Run in a daemon thread (the web server's process keeps serving meanwhile)."""
        if self._thread is not None:
            raise RuntimeError("already started")
        self._thread = threading.Thread(
            target=self.run_forever, name="ledgerlens-dispatcher", daemon=True
        )
        self._thread.start()
        return self

    def stop(self, timeout_s: float = 30.0) -> bool:
        """Ask the loop to end and wait for the current pass; True when it has ended."""
        self._stop.set()
        if self._thread is None:
            return True
        self._thread.join(timeout_s)
        return not self._thread.is_alive()

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()


def counts_of(r: DispatchReport) -> dict[str, int]:
    return {
        "digests_queued": r.digests_queued,
        "sent": r.sent,
        "held": r.held,
        "retrying": r.retrying,
        "failed": r.failed,
        "dropped": r.dropped,
        "skipped": r.skipped,
        "errors": r.errors,
    }
