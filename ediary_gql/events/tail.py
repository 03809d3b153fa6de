"""The log's tail in this process: one reader of the event log for every subscriber.

A subscriber does not read the log itself, nor hold a queue of its own. The process has
one `LogTail`: woken by the bus (a message on any channel somebody here follows: Redis
carries it from every process) or, if a wake-up is lost (Redis down, a dropped
message), by a poll every `poll_seconds`, it reads what was committed since its `tip`
(one statement per batch, whatever the number of subscribers) and appends each event to
the buffer of its channel. A buffer keeps the channel's last `backlog` events, shared by
all its subscribers; a subscriber (`Tap`) is only its position in them and the channels
it follows. So an idle subscription costs the socket and a small record, and an event is
decoded once per process, not once per subscriber.

A subscriber that falls more than `backlog` events of a channel behind finds events it
has not seen dropped from the buffer (`SubscriberTooSlow`, with the position it reached):
it resumes from the log with its cursor. Nothing it was owed is lost: the log keeps it.

The tail reads only while somebody follows: it stops when the last subscriber leaves, and
the next one starts it at the log's end.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import deque
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager

import structlog
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from ediary_gql.events import log as event_log
from ediary_gql.events.bus import BusError, EventBus
from ediary_gql.events.log import LoggedEvent

log = structlog.get_logger(__name__)

READ_BATCH = 500
# How long a new subscriber waits for its wake-up channel to listen upstream. Past it
# (Redis down) it goes on: the poll still brings every event, later.
LISTEN_WAIT_SECONDS = 2.0
RETRY_SECONDS = (0.2, 0.5, 1.0, 2.0)


class SubscriberTooSlow(Exception):
    """Events a subscriber had not taken were dropped from its channel's buffer."""

    def __init__(self, position: int) -> None:
        super().__init__(f"fell behind after position {position}")
        self.position = position


class LogRewound(Exception):
    """The log was replaced under a subscriber: its positions mean nothing any more."""


class _Buffer:
    """A channel's recent events, in position order, shared by its subscribers. `floor`:
    every event of the channel above it is in `events` (it rises as old ones drop off)."""

    __slots__ = ("events", "floor", "rewound", "taps", "waiters")

    def __init__(self, floor: int, size: int) -> None:
        self.events: deque[LoggedEvent] = deque(maxlen=size)
        self.floor = floor
        self.rewound = False
        self.taps = 0
        # the futures of the subscribers waiting for this channel: one per waiting
        # subscriber, whatever the number of channels it follows (no task per wait)
        self.waiters: set[asyncio.Future[None]] = set()

    def push(self, event: LoggedEvent) -> None:
        if len(self.events) == self.events.maxlen:
            self.floor = self.events[0].position
        self.events.append(event)

    def notify(self) -> None:
        waiters, self.waiters = self.waiters, set()
        for waiter in waiters:
            if not waiter.done():
                waiter.set_result(None)

    def after(self, position: int) -> LoggedEvent | None:
        """The first event above `position` (SubscriberTooSlow if some were dropped)."""
        if self.rewound:
            raise LogRewound
        if self.floor > position:
            raise SubscriberTooSlow(position)
        found = None
        for event in reversed(self.events):  # the newest are where a live subscriber looks
            if event.position <= position:
                break
            found = event
        return found


class _Waker:
    """The bus subscription of one channel: any message on it wakes the tail."""

    __slots__ = ("listening", "task", "users")

    def __init__(self) -> None:
        self.listening = asyncio.Event()
        self.task: asyncio.Task[None] | None = None
        self.users = 0


class Tap:
    """One subscriber's place in the tail: `position` is the last event it was handed."""

    __slots__ = ("_buffers", "position")

    def __init__(self, buffers: list[_Buffer], position: int) -> None:
        self._buffers = buffers
        self.position = position

    @property
    def buffers(self) -> list[_Buffer]:
        return self._buffers

    async def next(self) -> LoggedEvent:
        """The next event of its channels, waiting for one if need be."""
        while True:
            found = self._take()
            if found is not None:
                self.position = found.position
                return found
            waiter = asyncio.get_running_loop().create_future()
            for buffer in self._buffers:
                buffer.waiters.add(waiter)
            try:
                await waiter
            finally:
                for buffer in self._buffers:
                    buffer.waiters.discard(waiter)

    def _take(self) -> LoggedEvent | None:
        found: LoggedEvent | None = None
        for buffer in self._buffers:
            candidate = buffer.after(self.position)
            if candidate is not None and (found is None or candidate.position < found.position):
                found = candidate
        return found


class LogTail:
    def __init__(
        self,
        session_factory: async_sessionmaker[AsyncSession],
        bus: EventBus,
        *,
        backlog: int = 1000,
        poll_seconds: float = 1.0,
    ) -> None:
        self._session_factory = session_factory
        self._bus = bus
        self._backlog = backlog
        self._poll_seconds = poll_seconds
        self._buffers: dict[str, _Buffer] = {}
        self._wakers: dict[str, _Waker] = {}
        self._wake = asyncio.Event()
        self._lock = asyncio.Lock()
        self._reader: asyncio.Task[None] | None = None
        self._tip = 0
        self._reads_begun = 0  # see _caught_up
        self._read_done = 0  # the number of the last read that ended well
        self._joining = 0
        self._closed = False
        self._subscribers = 0

    @property
    def subscribers(self) -> int:
        """Subscriptions following the tail now."""
        return self._subscribers

    def subscriber_count(self, channel: str) -> int:
        buffer = self._buffers.get(channel)
        return 0 if buffer is None else buffer.taps

    @property
    def tip(self) -> int:
        """The last position this process has read."""
        return self._tip

    @asynccontextmanager
    async def tap(self, channels: Sequence[str]) -> AsyncIterator[Tap]:
        """`async with tail.tap(channels) as tap`: from here on every event of `channels`
        above `tap.position` (the tail's tip now) comes through `tap.next()`."""
        names = list(dict.fromkeys(channels))
        self._joining += 1  # the reader does not stop while someone is joining
        try:
            await self._ensure_reading()
            await self._caught_up()
            # From reading the tip to joining the buffers nothing awaits: no event falls between.
            tap = Tap([self._join(name) for name in names], self._tip)
        finally:
            self._joining -= 1
        self._subscribers += 1
        wakers: list[_Waker] = []
        try:
            # Then the wake-ups: what is committed before they listen is read at the next
            # poll, or when they start listening (each wakes the reader then).
            wakers.extend(self._waker(name) for name in names)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(
                    asyncio.gather(*(waker.listening.wait() for waker in wakers)), LISTEN_WAIT_SECONDS
                )
            yield tap
        finally:
            self._subscribers -= 1
            for name, buffer in zip(names, tap.buffers, strict=True):
                self._leave(name, buffer)
            # counts dropped and tasks cancelled at once, so a second cancel leaks nothing
            ended = [task for name in names[: len(wakers)] if (task := self._release_waker(name)) is not None]
            if ended:
                await asyncio.wait(ended)

    async def stop(self) -> None:
        self._closed = True
        reader, self._reader = self._reader, None
        tasks = [t for t in (reader, *(w.task for w in self._wakers.values())) if t is not None]
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(BaseException):
                await task
        self._wakers.clear()

    # -- the reader ------------------------------------------------------------------

    async def _ensure_reading(self) -> None:
        if self._closed:
            raise RuntimeError("the log tail is stopped")
        async with self._lock:
            if self._reader is None or self._reader.done():  # none yet, or it failed
                if not self._buffers:  # nobody follows: start at the log's end
                    self._tip = await self._head_with_retries()
                # else: subscribers are owed what follows the tip, so the reader goes on from it
                self._reader = asyncio.create_task(self._read_loop(), name="event-log-tail")

    async def _caught_up(self) -> None:
        """Returns once the tail has read what was committed before the call: a new
        subscriber starts after it. A burst of subscribers shares one read: whoever finds
        that a read began after they arrived (and has ended: they hold the lock) is done."""
        arrived = self._reads_begun
        async with self._lock:
            if self._read_done <= arrived:  # no read that began after we arrived has ended well
                await self._read_new()

    async def _read_loop(self) -> None:
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self._poll_seconds)
            self._wake.clear()
            failed = False
            async with self._lock:
                if not self._buffers and not self._joining:  # nobody follows: the next one starts at the end
                    self._reader = None
                    return
                try:
                    await self._read_new()
                except Exception:  # the database is away: the next wake-up or poll tries again
                    log.warning("event_tail_read_failed", exc_info=True)
                    failed = True
            if failed:
                await asyncio.sleep(RETRY_SECONDS[-1])

    async def _read_new(self) -> None:
        self._reads_begun += 1
        number = self._reads_begun
        while True:
            # what waits is placed, and the log's end read, in one transaction
            head = await event_log.head(self._session_factory)
            if head < self._tip:
                self._rewound()
            batch = await event_log.read_after(
                self._session_factory, after=self._tip, up_to=head, limit=READ_BATCH, place_first=False
            )
            touched: set[_Buffer] = set()
            for event in batch:  # appended and the tip moved with no await between
                buffer = self._buffers.get(event.channel)
                if buffer is not None:
                    buffer.push(event)
                    touched.add(buffer)
                self._tip = event.position
            for buffer in touched:
                buffer.notify()
            if len(batch) < READ_BATCH:
                self._read_done = number
                return
            await asyncio.sleep(0)  # let the subscribers take this batch before the next

    async def _head_with_retries(self) -> int:
        for delay in (*RETRY_SECONDS, None):
            try:
                return await event_log.head(self._session_factory)
            except Exception:
                if delay is None:
                    raise
                log.warning("event_tail_head_failed", exc_info=True)
                await asyncio.sleep(delay)
        raise AssertionError("unreachable")

    def _rewound(self) -> None:
        """The log's end is below what this process has read: the database was replaced
        (a restore, a wiped test database). Every subscriber is told its cursor is no
        longer good (CURSOR_EXPIRED), and reading goes on from the new end."""
        log.warning("event_log_rewound", tip=self._tip)
        for buffer in self._buffers.values():
            buffer.rewound = True
            buffer.notify()
        self._buffers.clear()
        self._tip = 0  # read from the start of what is kept: the new log is all new

    # -- buffers ---------------------------------------------------------------------

    def _join(self, channel: str) -> _Buffer:
        buffer = self._buffers.get(channel)
        if buffer is None:
            buffer = self._buffers[channel] = _Buffer(self._tip, self._backlog)
        buffer.taps += 1
        return buffer

    def _leave(self, channel: str, buffer: _Buffer) -> None:
        buffer.taps -= 1
        if buffer.taps == 0 and self._buffers.get(channel) is buffer:
            del self._buffers[channel]

    # -- wake-ups --------------------------------------------------------------------

    def _waker(self, channel: str) -> _Waker:
        waker = self._wakers.get(channel)
        if waker is None:
            waker = self._wakers[channel] = _Waker()
            waker.task = asyncio.create_task(self._listen(channel, waker), name=f"event-wake:{channel}")
        waker.users += 1
        return waker

    def _release_waker(self, channel: str) -> asyncio.Task[None] | None:
        """One user fewer; the channel's listener cancelled (returned) when none is left."""
        waker = self._wakers[channel]
        waker.users -= 1
        if waker.users > 0:
            return None
        del self._wakers[channel]
        if waker.task is not None:
            waker.task.cancel()
        return waker.task

    async def _listen(self, channel: str, waker: _Waker) -> None:
        """Hold the channel's bus subscription; on a loss, subscribe again (waking the
        reader each time: what was said while it was away is in the log)."""
        attempt = 0
        while True:
            try:
                async with self._bus.subscribe(channel) as subscription:
                    waker.listening.set()
                    attempt = 0
                    self._wake.set()
                    async for _ in subscription:
                        self._wake.set()
            except BusError:
                waker.listening.clear()
            self._wake.set()
            await asyncio.sleep(RETRY_SECONDS[min(attempt, len(RETRY_SECONDS) - 1)])
            attempt += 1
