"""The timer every server process runs its upkeep jobs on (concurrency/periodic.py)."""

from __future__ import annotations

import asyncio

from ediary_gql.concurrency.periodic import Periodic


async def _rounds_within(periodic: Periodic, seconds: float) -> None:
    periodic.start()
    try:
        await asyncio.sleep(seconds)
    finally:
        await periodic.stop()


async def test_a_job_at_start_runs_at_once_then_each_interval() -> None:
    runs: list[float] = []

    async def job() -> None:
        runs.append(asyncio.get_running_loop().time())

    await _rounds_within(Periodic(job, name="t", interval_seconds=10, failed_event="t_failed", at_start=True), 0.1)
    assert len(runs) == 1  # at once, and not again before the interval
    late: list[int] = []

    async def other() -> None:
        late.append(1)

    await _rounds_within(Periodic(other, name="t", interval_seconds=10, failed_event="t_failed"), 0.1)
    assert late == []  # without at_start: the first round comes after one interval


async def test_a_failed_round_does_not_end_the_job() -> None:
    calls = 0

    async def flaky() -> None:
        nonlocal calls
        calls += 1
        if calls == 1:
            raise ConnectionError("the database is away")

    await _rounds_within(Periodic(flaky, name="t", interval_seconds=0.02, failed_event="t_failed", at_start=True), 0.3)
    assert calls >= 3


async def test_an_interval_of_zero_never_runs_and_stop_is_idempotent() -> None:
    async def job() -> None:
        raise AssertionError("not to run")

    periodic = Periodic(job, name="t", interval_seconds=0, failed_event="t_failed", at_start=True)
    await _rounds_within(periodic, 0.05)
    await periodic.stop()
