"""The delivery dispatcher: works the outbox table (`notification_deliveries`).

Each round claims a batch of due PENDING deliveries, sends each through its
channel and records the outcome: SENT with `sent_at`; or, on failure, the
error, and a retry after an exponential, jittered delay (30 s, 2 min, 8 min,
32 min, 2 h, then 6 h) until `max_attempts`, when it is FAILED. A refusal that
can never succeed (no such mailbox) is FAILED at once.

Claiming is a short transaction that pushes `next_attempt_at` out by a lease
and counts the attempt, so no other dispatcher sees the row while it is being
sent. On PostgreSQL the due rows are locked with `FOR UPDATE SKIP LOCKED`
first: dispatchers in several processes take disjoint batches without waiting
for each other. SQLite has no row locks but runs one writer at a time, so a
single UPDATE … RETURNING claims atomically there.

Delivery is at least once: a process that dies between a send and its record
leaves the row claimed, and it is sent again when the lease runs out.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import enum
import math
import random
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TypeVar

import structlog
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from ediary_gql.db.base import utcnow
from ediary_gql.db.models.enums import Channel, DeliveryStatus
from ediary_gql.db.models.notifications import Notification, NotificationDelivery
from ediary_gql.events import channels as event_channels
from ediary_gql.events.bus import EventBus
from ediary_gql.services.background import BackgroundWorker, WorkerEvents
from ediary_gql.services.delivery.channels import DeliveryChannel, DeliveryError, build_channels
from ediary_gql.settings import Settings

log = structlog.get_logger(__name__)

ERROR_MAX = 2000  # characters of last_error kept
_jitter = random.SystemRandom()
Item = TypeVar("Item")
Sent = TypeVar("Sent")


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    max_attempts: int = 8
    base_seconds: float = 30.0
    factor: float = 4.0
    max_seconds: float = 6 * 3600.0
    jitter: float = 0.2  # ± this share of the delay, so retries of one outage spread out

    @classmethod
    def from_settings(cls, settings: Settings) -> RetryPolicy:
        return cls(
            max_attempts=settings.delivery_max_attempts,
            base_seconds=settings.delivery_retry_base_seconds,
            max_seconds=settings.delivery_retry_max_seconds,
        )

    def delay(self, attempts: int) -> dt.timedelta:
        """How long to wait after the `attempts`-th failed attempt."""
        exponent = min(max(attempts - 1, 0), 64)
        raw = min(self.max_seconds, self.base_seconds * self.factor**exponent)
        spread = raw * self.jitter
        return dt.timedelta(seconds=raw + _jitter.uniform(-spread, spread))


@dataclass(frozen=True, slots=True)
class ClaimedDelivery:
    id: int
    channel: Channel
    address: str | None
    attempts: int  # counting the one under way
    subject: str
    body: str


class Outcome(enum.Enum):
    SENT = "SENT"
    RETRY = "RETRY"
    FAILED = "FAILED"


@dataclass(frozen=True, slots=True)
class DispatchReport:
    claimed: int = 0
    sent: int = 0
    retrying: int = 0
    failed: int = 0

    def __add__(self, other: DispatchReport) -> DispatchReport:
        return DispatchReport(
            claimed=self.claimed + other.claimed,
            sent=self.sent + other.sent,
            retrying=self.retrying + other.retrying,
            failed=self.failed + other.failed,
        )


def batch_lease(*, batch_size: int, concurrency: int, send_timeout: float) -> dt.timedelta:
    """How long a claimed batch is hidden from other workers: longer than the slowest batch
    can take, every send being cut off at `send_timeout`, with a minute to record them."""
    rounds = math.ceil(batch_size / concurrency)
    return dt.timedelta(seconds=send_timeout * rounds + 60)


async def send_batch(
    claimed: Sequence[Item],
    *,
    concurrency: int,
    send: Callable[[Item], Awaitable[Sent]],
    record: Callable[[Item, Sent], Awaitable[Outcome]],
) -> DispatchReport:
    """Send the claimed items, `concurrency` at a time, and record each as its send ends
    (recording is not held to the limit: it waits on the database, not the receiver)."""
    limiter = asyncio.Semaphore(concurrency)

    async def one(item: Item) -> Outcome:
        async with limiter:
            sent = await send(item)
        return await record(item, sent)

    outcomes = await asyncio.gather(*(one(item) for item in claimed))
    return DispatchReport(
        claimed=len(claimed),
        sent=outcomes.count(Outcome.SENT),
        retrying=outcomes.count(Outcome.RETRY),
        failed=outcomes.count(Outcome.FAILED),
    )


async def drain_rounds(once: Callable[[], Awaitable[DispatchReport]], *, batch_size: int) -> DispatchReport:
    """Rounds of `once` until one claims less than a full batch: nothing more is due."""
    total = DispatchReport()
    while True:
        report = await once()
        total += report
        if report.claimed < batch_size:
            return total


async def claim_due(
    session_factory: async_sessionmaker[AsyncSession], *, now: dt.datetime, limit: int, lease: dt.timedelta
) -> list[ClaimedDelivery]:
    """Take up to `limit` due deliveries for this dispatcher (committed before it returns)."""
    d = NotificationDelivery
    async with session_factory() as session, session.begin():
        due = (
            select(d.id)
            .where(d.status == DeliveryStatus.PENDING, d.next_attempt_at <= now)
            .order_by(d.next_attempt_at, d.id)
            .limit(limit)
        )
        if session.get_bind().dialect.name == "postgresql":
            # Lock first, in a statement of its own: inside `id IN (subquery … LIMIT n FOR
            # UPDATE SKIP LOCKED)` PostgreSQL may run the subquery again and claim far more.
            ids = list(await session.scalars(due.with_for_update(skip_locked=True)))
            if not ids:
                return []
            chosen = d.id.in_(ids)
        else:
            # SQLite: one writer at a time, so one UPDATE … RETURNING claims atomically; a
            # SELECT first would make two dispatchers' transactions collide on the upgrade.
            # An idle poll only reads, though (in a connection of its own): no write lock.
            async with session_factory() as peek:
                if await peek.scalar(due.limit(1)) is None:
                    return []
            chosen = d.id.in_(due)
        claimed = (
            await session.execute(
                update(d)
                .where(chosen, d.status == DeliveryStatus.PENDING, d.next_attempt_at <= now)
                .values(attempts=d.attempts + 1, next_attempt_at=now + lease)
                .returning(d.id, d.user_id, d.notification_id, d.channel, d.address, d.attempts)
                .execution_options(synchronize_session=False)
            )
        ).all()
        if not claimed:
            return []
        texts = {
            row.id: (row.title, row.body)
            for row in await session.execute(
                # the recipients name the partitions (PostgreSQL reads theirs only)
                select(Notification.id, Notification.title, Notification.body).where(
                    Notification.user_id.in_({row.user_id for row in claimed}),
                    Notification.id.in_({row.notification_id for row in claimed}),
                )
            )
        }
    return [
        ClaimedDelivery(
            id=row.id,
            channel=Channel(row.channel),
            address=row.address,
            attempts=row.attempts,
            subject=texts[row.notification_id][0],
            body=texts[row.notification_id][1],
        )
        for row in sorted(claimed, key=lambda r: r.id)
        if row.notification_id in texts  # a notification deleted meanwhile takes its deliveries along
    ]


class Dispatcher(BackgroundWorker):
    """Sends due deliveries: `dispatch_once()` for one round, `start()`/`stop()` to
    run it in the background (woken by new deliveries, else every poll interval).
    Deliveries cut off mid-send by `stop()` stay claimed and are sent again after the lease."""

    task_name = "delivery-dispatcher"
    events = WorkerEvents.named("delivery", "dispatcher")

    def __init__(
        self,
        *,
        session_factory: async_sessionmaker[AsyncSession],
        channels: Mapping[Channel, DeliveryChannel],
        retry: RetryPolicy | None = None,
        batch_size: int = 20,
        concurrency: int = 4,
        send_timeout: float = 30.0,
        poll_seconds: float = 1.0,
        bus: EventBus | None = None,
        clock: Callable[[], dt.datetime] = utcnow,
    ) -> None:
        if batch_size < 1 or concurrency < 1:
            raise ValueError("batch_size and concurrency must be at least 1")
        super().__init__(poll_seconds=poll_seconds, bus=bus)
        self._session_factory = session_factory
        self._channels = dict(channels)
        self.retry = retry or RetryPolicy()
        self.batch_size = batch_size
        self.concurrency = concurrency
        self.send_timeout = send_timeout
        self._clock = clock

    @classmethod
    def from_settings(
        cls, settings: Settings, session_factory: async_sessionmaker[AsyncSession], *, bus: EventBus | None = None
    ) -> Dispatcher:
        return cls(
            session_factory=session_factory,
            channels=build_channels(settings, session_factory),
            retry=RetryPolicy.from_settings(settings),
            batch_size=settings.dispatcher_batch_size,
            concurrency=settings.dispatcher_concurrency,
            send_timeout=settings.delivery_send_timeout_seconds,
            poll_seconds=settings.dispatcher_poll_seconds,
            bus=bus,
        )

    @property
    def lease(self) -> dt.timedelta:
        """How long a claimed delivery is hidden from other dispatchers: longer than
        the slowest batch can take, since every send is cut off at `send_timeout`."""
        return batch_lease(batch_size=self.batch_size, concurrency=self.concurrency, send_timeout=self.send_timeout)

    # -- one round ---------------------------------------------------------------------

    async def dispatch_once(self, *, now: dt.datetime | None = None) -> DispatchReport:
        """Claim one batch of deliveries due at `now` (default: the clock), send and record them."""
        clock = self._clock if now is None else (lambda: now)
        claimed = await claim_due(self._session_factory, now=clock(), limit=self.batch_size, lease=self.lease)
        if not claimed:
            return DispatchReport()

        async def record(item: ClaimedDelivery, sent: tuple[Outcome, str | None]) -> Outcome:
            outcome, error = sent
            if outcome is Outcome.RETRY and item.attempts >= self.retry.max_attempts:
                outcome = Outcome.FAILED
            await self._record(item, outcome, error, clock())
            return outcome

        return await send_batch(claimed, concurrency=self.concurrency, send=self._send, record=record)

    async def drain(self, *, now: dt.datetime | None = None) -> DispatchReport:
        """Rounds until nothing is due (failed sends wait for their retry time)."""
        return await drain_rounds(lambda: self.dispatch_once(now=now), batch_size=self.batch_size)

    async def _send(self, item: ClaimedDelivery) -> tuple[Outcome, str | None]:
        channel = self._channels.get(item.channel)
        if channel is None:  # not configured here: another process may be, or a fix will come
            return Outcome.RETRY, f"no {item.channel.value} channel is configured"
        if not item.address:
            return Outcome.FAILED, "no address"
        try:
            async with asyncio.timeout(self.send_timeout):
                await channel.send(address=item.address, subject=item.subject, body=item.body)
        except DeliveryError as exc:
            return (Outcome.RETRY if exc.retryable else Outcome.FAILED), str(exc)
        except TimeoutError:
            return Outcome.RETRY, f"timed out after {self.send_timeout:g} s"
        except Exception as exc:  # a fault in a channel must not lose the message
            log.exception("delivery_channel_fault", delivery_id=item.id, channel=item.channel.value)
            return Outcome.RETRY, f"{type(exc).__name__}: {exc}"
        return Outcome.SENT, None

    async def _record(self, item: ClaimedDelivery, outcome: Outcome, error: str | None, now: dt.datetime) -> None:
        d = NotificationDelivery
        # Only while the claim is still ours: same attempt, still pending.
        stmt = update(d).where(d.id == item.id, d.status == DeliveryStatus.PENDING, d.attempts == item.attempts)
        if outcome is Outcome.SENT:
            stmt = stmt.values(status=DeliveryStatus.SENT, sent_at=now, last_error=None)
        elif outcome is Outcome.FAILED:
            stmt = stmt.values(status=DeliveryStatus.FAILED, last_error=(error or "")[:ERROR_MAX])
        else:
            retry_at = now + self.retry.delay(item.attempts)
            stmt = stmt.values(last_error=(error or "")[:ERROR_MAX], next_attempt_at=retry_at)
        try:
            async with self._session_factory() as session, session.begin():
                result = await session.execute(stmt.execution_options(synchronize_session=False))
        except Exception:  # the claim's lease runs out and the delivery is tried again
            log.exception("delivery_record_failed", delivery_id=item.id, outcome=outcome.value)
            return
        if not result.rowcount:  # type: ignore[attr-defined]
            log.warning("delivery_claim_lost", delivery_id=item.id, outcome=outcome.value)
        elif outcome is not Outcome.SENT:
            log.warning(
                "delivery_failed" if outcome is Outcome.FAILED else "delivery_retry",
                delivery_id=item.id,
                channel=item.channel.value,
                attempts=item.attempts,
                error=error,
            )

    # -- running in the background ---------------------------------------------------

    async def round(self) -> bool:
        # a full batch: more may be due at once
        return (await self.dispatch_once()).claimed >= self.batch_size

    def wake_channel(self) -> str:
        """New deliveries were committed (DeliveriesQueued), in any process."""
        return event_channels.deliveries()
