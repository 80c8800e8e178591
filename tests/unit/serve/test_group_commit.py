"""``GroupCommit`` on a real serial ``WriteLane``: what queues while a group runs goes together
as the next group, each caller gets its own outcome, and a failing group does not stall the
queue. And ``WriteLane.generation`` counts ``run`` jobs but not ``run_known`` ones (the facts
cache of the real-time ingest relies on both)."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Sequence

import pytest

from ledgerlens.serve.writes import GroupCommit, WriteLane

WAIT_S = 10.0


class Blocking:
    """A ``process`` whose first call blocks until released (the writer is busy), recording
    every group it is handed."""

    def __init__(self, outcome: Callable[[int], int | BaseException] = lambda i: i * 10) -> None:
        self.groups: list[list[int]] = []
        self.started = threading.Event()
        self.release = threading.Event()
        self.outcome = outcome
        self.fail_first: BaseException | None = None

    def __call__(self, items: Sequence[int]) -> list[int | BaseException]:
        self.groups.append(list(items))
        if len(self.groups) == 1:
            self.started.set()
            assert self.release.wait(WAIT_S), "never released"
            if self.fail_first is not None:
                raise self.fail_first
        return [self.outcome(i) for i in items]


async def _busy(group: GroupCommit[int, int], process: Blocking, first: int) -> asyncio.Task[int]:
    """Submit ``first`` and wait until its group is running (blocked) on the writer thread."""
    task = asyncio.create_task(group.submit(first))
    started = await asyncio.to_thread(process.started.wait, WAIT_S)
    assert started, "the first group never started"
    return task


async def _queue(group: GroupCommit[int, int], items: Sequence[int]) -> list[asyncio.Task[int]]:
    tasks = [asyncio.create_task(group.submit(i)) for i in items]
    for _ in range(3):  # let every task reach the queue
        await asyncio.sleep(0)
    return tasks


def test_submits_queued_while_a_group_runs_go_together_as_the_next_group() -> None:
    lane, process = WriteLane(serial=True), Blocking()
    group: GroupCommit[int, int] = GroupCommit(lane, process)

    async def scenario() -> list[int]:
        first = await _busy(group, process, 1)
        queued = await _queue(group, [2, 3, 4])
        assert process.groups == [[1]]  # the others wait while the writer is busy
        process.release.set()
        return await asyncio.gather(first, *queued)

    try:
        assert asyncio.run(scenario()) == [10, 20, 30, 40]
    finally:
        lane.close()
    assert process.groups == [[1], [2, 3, 4]]  # one call for everything queued meanwhile


def test_a_lone_submit_runs_at_once_as_a_group_of_one() -> None:
    lane = WriteLane(serial=True)
    groups: list[list[int]] = []

    def process(items: Sequence[int]) -> list[int]:
        groups.append(list(items))
        return [i + 1 for i in items]

    group: GroupCommit[int, int] = GroupCommit(lane, process)

    async def scenario() -> list[int]:
        return [await group.submit(1), await group.submit(2)]

    try:
        assert asyncio.run(scenario()) == [2, 3]
    finally:
        lane.close()
    assert groups == [[1], [2]]


def test_at_most_max_items_go_together() -> None:
    lane, process = WriteLane(serial=True), Blocking()
    group: GroupCommit[int, int] = GroupCommit(lane, process, max_items=2)

    async def scenario() -> list[int]:
        first = await _busy(group, process, 1)
        queued = await _queue(group, [2, 3, 4, 5, 6])
        process.release.set()
        return await asyncio.gather(first, *queued)

    try:
        assert asyncio.run(scenario()) == [10, 20, 30, 40, 50, 60]
    finally:
        lane.close()
    assert process.groups == [[1], [2, 3], [4, 5], [6]]


def test_an_exception_outcome_is_raised_to_that_caller_only() -> None:
    def outcome(i: int) -> int | BaseException:
        return ValueError(f"item {i} refused") if i == 3 else i * 10

    lane, process = WriteLane(serial=True), Blocking(outcome)
    group: GroupCommit[int, int] = GroupCommit(lane, process)

    async def scenario() -> list[int | BaseException]:
        first = await _busy(group, process, 1)
        queued = await _queue(group, [2, 3, 4])
        process.release.set()
        return await asyncio.gather(first, *queued, return_exceptions=True)

    try:
        out = asyncio.run(scenario())
    finally:
        lane.close()
    assert out[:2] == [10, 20] and out[3] == 40
    assert isinstance(out[2], ValueError) and str(out[2]) == "item 3 refused"
    assert process.groups == [[1], [2, 3, 4]]


def test_a_failing_process_fails_its_whole_group_and_the_queue_goes_on() -> None:
    lane, process = WriteLane(serial=True), Blocking()
    process.fail_first = RuntimeError("database gone")
    group: GroupCommit[int, int] = GroupCommit(lane, process)

    async def scenario() -> tuple[list[int | BaseException], int]:
        first = await _busy(group, process, 1)
        queued = await _queue(group, [2, 3])
        process.release.set()
        out = await asyncio.gather(first, *queued, return_exceptions=True)
        return out, await group.submit(4)  # a later submit still works

    try:
        out, later = asyncio.run(scenario())
    finally:
        lane.close()
    assert isinstance(out[0], RuntimeError) and str(out[0]) == "database gone"
    assert out[1:] == [20, 30]  # the group queued behind the failure ran normally
    assert later == 40
    assert process.groups == [[1], [2, 3], [4]]


def test_a_failing_process_reaches_every_caller_of_its_group() -> None:
    lane, process = WriteLane(serial=True), Blocking()
    calls = [0]

    def flaky(items: Sequence[int]) -> list[int | BaseException]:
        calls[0] += 1
        if calls[0] == 2:  # the second group, of three callers, fails as a whole
            raise RuntimeError("group failed")
        return process(items)

    group: GroupCommit[int, int] = GroupCommit(lane, flaky)

    async def scenario() -> list[int | BaseException]:
        first = await _busy(group, process, 1)
        queued = await _queue(group, [2, 3, 4])
        process.release.set()
        out = await asyncio.gather(first, *queued, return_exceptions=True)
        return [*out, await group.submit(5)]

    try:
        out = asyncio.run(scenario())
    finally:
        lane.close()
    assert out[0] == 10 and out[4] == 50
    assert all(isinstance(o, RuntimeError) and str(o) == "group failed" for o in out[1:4])


def test_a_caller_that_went_away_does_not_disturb_the_others() -> None:
    lane, process = WriteLane(serial=True), Blocking()
    group: GroupCommit[int, int] = GroupCommit(lane, process)

    async def scenario() -> list[int]:
        first = await _busy(group, process, 1)
        gone, *queued = await _queue(group, [2, 3, 4])
        gone.cancel()  # e.g. the client disconnected
        await asyncio.sleep(0)
        process.release.set()
        out = await asyncio.gather(first, *queued)
        with pytest.raises(asyncio.CancelledError):
            await gone
        return out

    try:
        assert asyncio.run(scenario()) == [10, 30, 40]
    finally:
        lane.close()
    assert process.groups == [[1], [2, 3, 4]]  # its item still ran (its key is recorded)


def test_run_counts_in_the_generation_and_run_known_does_not() -> None:
    lane = WriteLane(serial=True)
    seen: list[int] = []

    def job() -> int:
        seen.append(lane.generation)
        return len(seen)

    async def scenario() -> None:
        assert lane.generation == 0
        await lane.run(job)
        await lane.run(job)
        assert lane.generation == 2
        await lane.run_known(job)
        await lane.run_known(job)
        assert lane.generation == 2
        group: GroupCommit[int, int] = GroupCommit(lane, lambda items: list(items))
        assert await group.submit(7) == 7  # the grouped ingest leaves it alone too
        assert lane.generation == 2
        await lane.run(job)
        assert lane.generation == 3

    try:
        asyncio.run(scenario())
    finally:
        lane.close()
    assert seen == [1, 2, 2, 2, 3]  # a counted job already sees its own count


def test_a_parallel_lane_counts_run_too() -> None:
    lane = WriteLane(serial=False)

    async def scenario() -> None:
        await lane.run(lambda: None)
        await lane.run_known(lambda: None)

    asyncio.run(scenario())
    assert lane.generation == 1


def test_after_a_larger_group_the_next_waits_briefly_for_as_many_callers() -> None:
    """At a steady load of N clients, the callers a group answered send their next request
    within a round trip: the next group waits (up to ``gather_s``) for N items instead of
    running the one already queued alone (without it, 4 clients split into groups 1, 3, 1, 3)."""
    lane = WriteLane(serial=True)
    groups: list[list[int]] = []

    def process(items: Sequence[int]) -> list[int]:
        groups.append(list(items))
        return list(items)

    group: GroupCommit[int, int] = GroupCommit(lane, process, gather_s=5.0)

    async def scenario() -> None:
        await asyncio.gather(*(group.submit(i) for i in (1, 2, 3)))  # one group of three
        assert groups == [[1, 2, 3]]
        early = asyncio.create_task(group.submit(4))
        await asyncio.sleep(0.05)  # well within gather_s: still waiting for two more
        assert groups == [[1, 2, 3]] and not early.done()
        await asyncio.gather(early, group.submit(5), group.submit(6))

    try:
        asyncio.run(scenario())
    finally:
        lane.close()
    assert groups == [[1, 2, 3], [4, 5, 6]]


def test_the_wait_for_more_callers_is_bounded_by_gather_s() -> None:
    lane = WriteLane(serial=True)
    groups: list[list[int]] = []

    def process(items: Sequence[int]) -> list[int]:
        groups.append(list(items))
        return list(items)

    group: GroupCommit[int, int] = GroupCommit(lane, process, gather_s=0.01)

    async def scenario() -> float:
        await asyncio.gather(*(group.submit(i) for i in (1, 2, 3, 4)))
        loop = asyncio.get_running_loop()
        t0 = loop.time()
        await group.submit(5)  # alone: waits at most gather_s for company, then runs
        return loop.time() - t0

    try:
        took = asyncio.run(scenario())
    finally:
        lane.close()
    assert groups == [[1, 2, 3, 4], [5]]
    assert took < WAIT_S  # bounded (not a timing assertion on the machine's speed)
