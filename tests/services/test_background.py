"""The loop the background workers share (services/background.py): wake-ups from the bus,
the pause after a failed round, the periodic sweep, a clean stop."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable

from structlog.testing import capture_logs

from ediary_gql.context import AppServices
from ediary_gql.events.bus import EventBus
from ediary_gql.services.background import BackgroundWorker, WorkerEvents
from tests.support import wait_on_bus


class _Counting(BackgroundWorker):
    task_name = "test-worker"
    events = WorkerEvents.named("test", "worker")

    def __init__(
        self,
        *,
        channel: str | None,
        bus: EventBus | None,
        poll_seconds: float,
        fail_first: int = 0,
        sweep_every: float | None = None,
    ) -> None:
        super().__init__(poll_seconds=poll_seconds, bus=bus)
        self.channel = channel
        self.fail_first = fail_first
        self.sweep_every = sweep_every
        self.rounds = 0
        self.sweeps = 0
        self.backlog = 0  # rounds that say more is waiting
        self.ran = asyncio.Event()

    async def round(self) -> bool:
        self.rounds += 1
        self.ran.set()
        if self.rounds <= self.fail_first:
            raise RuntimeError("database away")
        if self.backlog:
            self.backlog -= 1
            return True
        return False

    def wake_channel(self) -> str | None:
        return self.channel

    def sweep_interval(self) -> float | None:
        return self.sweep_every

    async def sweep(self) -> None:
        self.sweeps += 1

    def failure_pause(self, failures: int) -> float:
        return 0.01 * failures


async def _until(condition: Callable[[], bool], within: float = 5.0) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while not condition():
        assert loop.time() < deadline, "not reached in time"
        await asyncio.sleep(0.01)


async def test_a_worker_wakes_on_its_channel_and_stops_cleanly(app_services: AppServices) -> None:
    # given a worker that would poll only once a minute, listening on a channel of its own
    channel = f"tests.background.{uuid.uuid4().hex}"
    worker = _Counting(channel=channel, bus=app_services.bus, poll_seconds=60)
    worker.start()
    try:
        await wait_on_bus(app_services, channel)
        await _until(lambda: worker.rounds >= 2)  # the first round, and one on subscribing
        await asyncio.sleep(0.05)
        before = worker.rounds

        # when something is published on its channel
        await app_services.bus.publish(channel, "{}")

        # then it runs a round at once, not at the next poll
        await _until(lambda: worker.rounds > before)
    finally:
        await asyncio.wait_for(worker.stop(), 5)
    # and it stops, leaving nothing subscribed
    assert not worker.running
    assert app_services.bus.subscriber_count(channel) == 0


async def test_a_round_that_leaves_more_is_followed_at_once() -> None:
    # given a worker polling once a minute whose first rounds say more is waiting
    worker = _Counting(channel=None, bus=None, poll_seconds=60)
    worker.backlog = 3
    worker.start()
    try:
        # then it runs them back to back, then waits for the poll
        await _until(lambda: worker.rounds == 4)
        await asyncio.sleep(0.05)
        assert worker.rounds == 4
    finally:
        await worker.stop()


async def test_a_failed_round_is_logged_and_retried_after_a_pause() -> None:
    # given a worker whose first two rounds fail (the database away)
    worker = _Counting(channel=None, bus=None, poll_seconds=60, fail_first=2)
    with capture_logs() as logs:
        worker.start()
        try:
            # then it tries again after its pause, without waiting for the poll
            await _until(lambda: worker.rounds >= 3)
        finally:
            await worker.stop()
    failed = [entry for entry in logs if entry["event"] == "test_round_failed"]
    assert [entry["failures"] for entry in failed] == [1, 2]


async def test_the_sweep_runs_first_then_once_an_interval() -> None:
    # given a worker sweeping once an hour and woken often
    worker = _Counting(channel=None, bus=None, poll_seconds=0.01, sweep_every=3600)
    worker.start()
    try:
        await _until(lambda: worker.rounds >= 5)
    finally:
        await worker.stop()
    # then it swept before its first round and not since
    assert worker.sweeps == 1


async def test_a_stop_cuts_off_a_round_that_outlasts_the_grace() -> None:
    # given a worker stuck in a round
    class _Stuck(_Counting):
        async def round(self) -> bool:
            self.ran.set()
            await asyncio.sleep(3600)
            return False

    worker = _Stuck(channel=None, bus=None, poll_seconds=60)
    worker.start()
    await asyncio.wait_for(worker.ran.wait(), 5)

    # when it is stopped with a short grace, it ends anyway
    await asyncio.wait_for(worker.stop(grace=0.05), 5)
    assert not worker.running
