"""Background workers: the loop the delivery dispatcher, the report worker, the webhook
sender and the data-export worker share, and the running of one as a process of its own.

A worker does its work in `round()`, which says whether more is waiting. `start()` runs
rounds in a task of the current event loop until `stop()`: at once after a round that
left more, else when woken (`wake()`, or a message on the worker's bus channel, in any
process) or every `poll_seconds`. A failed round (the database away) is retried after a
growing pause; a loop that crashes is started again. Wake-ups are "something changed"
signals only: a round reads the database, so a lost one costs a poll interval at most.
"""

from __future__ import annotations

import abc
import asyncio
import contextlib
import io
import signal
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import ClassVar, TypeVar

import structlog
from sqlalchemy import ColumnElement, Select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import InstrumentedAttribute

from ediary_gql.events.bus import BusError, EventBus
from ediary_gql.events.publish import Publisher, unit_of_work
from ediary_gql.settings import Settings

MAX_FAILURE_PAUSE = 60.0  # seconds between rounds while they keep failing
CRASH_PAUSE = 5.0  # before the loop is started again
MAX_WAKEUP_BACKOFF = 30.0
Claimed = TypeVar("Claimed")


@dataclass(frozen=True, slots=True)
class WorkerEvents:
    """A worker's log event names (dashboards and alerts know them)."""

    round_failed: str
    crashed: str
    wakeups_interrupted: str
    wakeups_failed: str

    @classmethod
    def named(cls, area: str, worker: str) -> WorkerEvents:
        """`delivery`, `dispatcher` → delivery_round_failed, delivery_dispatcher_crashed, …"""
        return cls(
            round_failed=f"{area}_round_failed",
            crashed=f"{area}_{worker}_crashed",
            wakeups_interrupted=f"{area}_wakeups_interrupted",
            wakeups_failed=f"{area}_wakeups_failed",
        )


class NoBus:
    """Publishes nowhere, for a worker without a bus: its events are in the event log,
    which the servers read."""

    async def publish(self, channel: str, message: str) -> None:
        return None


class BytesReader:
    """A file made in memory (a rendered report, an archive), as the storage reads it."""

    def __init__(self, data: bytes) -> None:
        self._buffer = io.BytesIO(data)

    async def read(self, size: int = -1, /) -> bytes:
        return self._buffer.read(size)


async def claim_oldest(
    session_factory: async_sessionmaker[AsyncSession],
    publisher: Publisher,
    *,
    due: Select[int],
    key: InstrumentedAttribute[int],
    take: Callable[[AsyncSession, ColumnElement[bool]], Awaitable[Claimed | None]],
) -> Claimed | None:
    """Claim the row `due` selects (its `key`, one row) for this worker: `take(session,
    chosen)` updates the row `chosen` picks, in a transaction committed before this returns.

    On PostgreSQL the row is locked first with `FOR UPDATE SKIP LOCKED`, in a statement of
    its own (inside `IN (… FOR UPDATE SKIP LOCKED)` PostgreSQL may run the subquery again),
    so workers in several processes take different rows without waiting for each other.
    SQLite runs one writer at a time, so one UPDATE … WHERE key IN (due) claims atomically;
    an idle poll there only reads, in a connection of its own: no write lock."""
    async with session_factory() as peek:
        postgres = peek.get_bind().dialect.name == "postgresql"
        if not postgres and await peek.scalar(due) is None:
            return None
    async with unit_of_work(session_factory, publisher) as session:
        if postgres:
            found = await session.scalar(due.with_for_update(skip_locked=True))
            if found is None:
                return None
            chosen: ColumnElement[bool] = key == found
        else:
            chosen = key.in_(due)
        return await take(session, chosen)


class BackgroundWorker(abc.ABC):
    """The shared loop. A subclass names its task and log events, implements `round()`,
    and may name a bus channel to wake on (`wake_channel`), a periodic sweep run before
    a round (`sweep_interval` + `sweep`) and its pause after a failed round."""

    task_name: ClassVar[str]
    events: ClassVar[WorkerEvents]

    def __init__(self, *, poll_seconds: float, bus: EventBus | None = None) -> None:
        self.poll_seconds = poll_seconds
        self._bus = bus
        # logged under the subclass's module, as before the loop was shared
        self._log = structlog.get_logger(type(self).__module__)
        self._wakeup = asyncio.Event()
        self._stop = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    # -- what a worker defines ------------------------------------------------------------

    @abc.abstractmethod
    async def round(self) -> bool:
        """One round of work; True if more is waiting (the next round starts at once)."""

    def wake_channel(self) -> str | None:
        """The bus channel whose messages wake this worker (None: it only polls)."""
        return None

    def sweep_interval(self) -> float | None:
        """Seconds between sweeps (0: before every round; None: no sweep)."""
        return None

    async def sweep(self) -> None:
        """Periodic housekeeping, run before a round when `sweep_interval` has passed."""
        return

    def failure_pause(self, failures: int) -> float:
        """Seconds to wait after the `failures`-th failed round in a row."""
        return min(MAX_FAILURE_PAUSE, self.poll_seconds * 2.0**failures)

    # -- running --------------------------------------------------------------------------

    def wake(self) -> None:
        """Look for work now rather than at the next poll."""
        self._wakeup.set()

    def start(self) -> asyncio.Task[None]:
        """Run in a background task of the current event loop until `stop()`."""
        if self._task is None or self._task.done():
            self._stop.clear()
            self._task = asyncio.create_task(self._supervise(), name=self.task_name)
        return self._task

    @property
    def running(self) -> bool:
        return self._task is not None and not self._task.done()

    async def stop(self, *, grace: float = 10.0) -> None:
        """Let the round under way finish (up to `grace` seconds), then end. Work cut off
        mid-way stays claimed and is taken up again when its lease runs out."""
        self._stop.set()
        self._wakeup.set()
        task, self._task = self._task, None
        if task is None:
            return
        done, _ = await asyncio.wait({task}, timeout=grace)
        if not done:
            task.cancel()
            try:
                await task
            except asyncio.CancelledError:
                current = asyncio.current_task()
                if current is not None and current.cancelling():
                    raise

    async def run(self) -> None:
        """Rounds until stopped: at once when woken, else every `poll_seconds`; sweeps when
        due; a failed round is retried after `failure_pause`."""
        channel = self.wake_channel() if self._bus is not None else None
        listener = (
            asyncio.create_task(self._listen(channel), name=f"{self.task_name}-wakeup") if channel is not None else None
        )
        failures = 0
        swept_at: float | None = None  # a (re)started loop sweeps first
        try:
            while not self._stop.is_set():
                self._wakeup.clear()
                try:
                    interval = self.sweep_interval()
                    if interval is not None and (swept_at is None or time.monotonic() - swept_at >= interval):
                        swept_at = time.monotonic()
                        await self.sweep()
                    more = await self.round()
                except Exception:
                    failures += 1
                    self._log.exception(self.events.round_failed, failures=failures)
                    await self._pause(self.failure_pause(failures))
                    continue
                failures = 0
                if not more:
                    await self._idle(self.poll_seconds)
        finally:
            if listener is not None:
                listener.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await listener

    async def _supervise(self) -> None:
        while not self._stop.is_set():
            try:
                await self.run()
            except Exception:
                self._log.exception(self.events.crashed)
                await self._pause(CRASH_PAUSE)

    async def _idle(self, seconds: float) -> None:
        """Wait for a wake-up (stop() wakes too) or `seconds`."""
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(seconds):
                await self._wakeup.wait()

    async def _pause(self, seconds: float) -> None:
        """Wait `seconds` unless stopped; wake-ups do not cut it short."""
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(seconds):
                await self._stop.wait()

    async def _listen(self, channel: str) -> None:
        """Wake on every message of `channel`; resubscribe with backoff if the bus drops."""
        bus = self._bus
        if bus is None:
            return
        backoff = 0.5
        while not self._stop.is_set():
            try:
                async with bus.subscribe(channel) as subscription:
                    backoff = 0.5
                    self._wakeup.set()  # something may have come while nobody listened
                    async for _ in subscription:
                        self._wakeup.set()
            except BusError as exc:
                self._log.warning(self.events.wakeups_interrupted, error=str(exc))
            except Exception:
                self._log.exception(self.events.wakeups_failed)
            await self._pause(backoff)
            backoff = min(MAX_WAKEUP_BACKOFF, backoff * 2)


# --- a worker as a process of its own ----------------------------------------------------


@contextlib.asynccontextmanager
async def process_bus(settings: Settings, *, polling_only_event: str) -> AsyncIterator[EventBus | None]:
    """The event bus across processes (Redis) for the block, or None with memory:// (nothing
    crosses processes) or Redis away (logged as `polling_only_event`): a worker then polls,
    and the events it publishes reach subscribers through the event log."""
    bus: EventBus | None = None
    if not settings.broadcast_url.startswith("memory"):
        bus = EventBus(
            settings.broadcast_url, queue_size=settings.subscriber_queue_size, namespace=settings.broadcast_namespace
        )
        try:
            await bus.connect()
        except BusError as exc:
            structlog.get_logger(__name__).warning(polling_only_event, error=str(exc))
            bus = None
    try:
        yield bus
    finally:
        if bus is not None:
            await bus.disconnect()


async def run_until_signalled(worker: BackgroundWorker, *, grace: float = 10.0) -> None:
    """Run `worker` until SIGINT or SIGTERM; then let its round under way finish (up to
    `grace` seconds) and return."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    signals = (signal.SIGINT, signal.SIGTERM)
    for sig in signals:
        loop.add_signal_handler(sig, stop.set)
    try:
        worker.start()
        await stop.wait()
    finally:
        for sig in signals:
            loop.remove_signal_handler(sig)
        await worker.stop(grace=grace)
