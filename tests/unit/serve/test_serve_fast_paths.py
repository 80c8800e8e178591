"""The request path's shortcuts keep their promises: cached tokens expire with the token, the
feed cache drops a page once anything is committed, background refreshes coalesce, and the
SQLite write lane runs one job at a time."""

from __future__ import annotations

import asyncio
import threading
import time
from datetime import UTC, datetime

import pytest

from ledgerlens.core.ledger import Role
from ledgerlens.serve.feed_cache import CachedPage, FeedCache
from ledgerlens.serve.refresh import RefreshScheduler
from ledgerlens.serve.security import AuthError, AuthSettings, TokenVerifier, issue_dev_token
from ledgerlens.serve.writes import WriteLane

SETTINGS = AuthSettings()


def test_a_verified_token_is_cached_until_its_expiry_and_never_past_it() -> None:
    now = [time.time()]
    verifier = TokenVerifier(SETTINGS, cache_s=3600, clock=lambda: now[0])
    token = issue_dev_token(SETTINGS, "u1", {"b1": Role.OWNER}, ttl_hours=0.5)
    assert verifier.cached(token) is None
    principal = verifier.verify(token)
    assert verifier.cached(token) == principal and principal.role_for("b1") == Role.OWNER
    now[0] += 0.5 * 3600 + 1  # past exp: the cache forgets it, whatever cache_s says
    assert verifier.cached(token) is None


def test_a_token_that_fails_is_never_cached() -> None:
    verifier = TokenVerifier(SETTINGS)
    forged = issue_dev_token(AuthSettings(secret="another-secret-" * 3), "u1", {"b1": Role.OWNER})
    with pytest.raises(AuthError):
        verifier.verify(forged)
    assert verifier.cached(forged) is None
    expired = issue_dev_token(SETTINGS, "u1", {"b1": Role.OWNER},
                              now=datetime(2020, 1, 1, tzinfo=UTC))  # fmt: skip
    with pytest.raises(AuthError):
        verifier.verify(expired)
    assert verifier.cached(expired) is None


def test_the_token_cache_is_bounded() -> None:
    verifier = TokenVerifier(SETTINGS, max_cached=2)
    tokens = [issue_dev_token(SETTINGS, f"u{i}", {"b": Role.OWNER}) for i in range(3)]
    for t in tokens:
        verifier.verify(t)
    assert verifier.cached(tokens[0]) is None
    assert verifier.cached(tokens[1]) is not None and verifier.cached(tokens[2]) is not None


def test_feed_pages_are_served_only_while_the_counter_stands_still() -> None:
    counter = [7]
    cache = FeedCache(lambda: counter[0])
    page = CachedPage(b"{}", '"e1"')
    version = cache.version()
    cache.put("b1", version, ("open", 0, 20), page)
    assert cache.get("b1", ("open", 0, 20)) == page
    assert cache.get("b1", ("all", 0, 20)) is None and cache.get("b2", ("open", 0, 20)) is None
    counter[0] += 1  # a commit anywhere
    assert cache.get("b1", ("open", 0, 20)) is None
    cache.put("b1", version, ("open", 0, 20), page)  # built from rows older than the commit
    cache.put("b1", cache.version(), ("all", 0, 20), page)
    cache.put("b1", version, ("open", 0, 20), page)  # late and older: not kept
    assert cache.get("b1", ("open", 0, 20)) is None
    assert cache.get("b1", ("all", 0, 20)) == page


def test_without_a_change_counter_nothing_is_cached() -> None:
    cache = FeedCache(None)
    cache.put("b1", cache.version(), ("open", 0, 20), CachedPage(b"{}", '"e"'))
    assert not cache.enabled and cache.get("b1", ("open", 0, 20)) is None


def test_refreshes_of_a_business_coalesce_and_a_write_during_one_schedules_the_next() -> None:
    async def scenario() -> tuple[list[str], list[str]]:
        ran: list[str] = []
        outcomes: list[str] = []
        started, release = asyncio.Event(), asyncio.Event()

        async def refresh(business_id: str) -> None:
            ran.append(business_id)
            if len(ran) == 1:
                started.set()
                await release.wait()

        s = RefreshScheduler(refresh, 0.01, outcomes.append)
        for _ in range(50):  # a burst of POSTs for b1, one for b2
            s.schedule("b1")
        s.schedule("b2")
        await started.wait()  # b1's refresh is running (held open)
        s.schedule("b1")  # a write during it: one more, later, never overlapping
        s.schedule("b1")
        release.set()
        for _ in range(200):
            if len(ran) == 3 and not s.pending("b1"):
                break
            await asyncio.sleep(0.01)
        await s.close()
        return ran, outcomes

    ran, outcomes = asyncio.run(scenario())
    assert sorted(ran) == ["b1", "b1", "b2"]
    assert outcomes.count("coalesced") == 50 and outcomes.count("done") == 3


def test_a_failed_refresh_is_counted_and_the_next_write_schedules_again() -> None:
    async def scenario() -> list[str]:
        outcomes: list[str] = []

        async def refresh(business_id: str) -> None:
            raise RuntimeError("storage down")

        s = RefreshScheduler(refresh, 0.0, outcomes.append)
        s.schedule("b1")
        for _ in range(100):
            if outcomes:
                break
            await asyncio.sleep(0.01)
        s.schedule("b1")
        for _ in range(100):
            if len(outcomes) == 2:
                break
            await asyncio.sleep(0.01)
        await s.close()
        return outcomes

    assert asyncio.run(scenario()) == ["failed", "failed"]


def test_the_serial_write_lane_runs_one_job_at_a_time() -> None:
    lane = WriteLane(serial=True)
    lock = threading.Lock()
    running, peak = [0], [0]

    def job(i: int) -> int:
        with lock:
            running[0] += 1
            peak[0] = max(peak[0], running[0])
        time.sleep(0.005)
        with lock:
            running[0] -= 1
        return i

    async def burst() -> list[int]:
        return await asyncio.gather(*(lane.run(job, i) for i in range(12)))

    assert asyncio.run(burst()) == list(range(12))
    lane.close()
    assert asyncio.run(burst()) == list(range(12))  # a closed lane starts a new thread
    lane.close()
    assert peak[0] == 1
