"""The report worker: takes queued reports, builds, renders and stores them.

A round claims one report: a QUEUED one, or a RUNNING one whose lease ran out (its
worker stopped). Claiming counts the attempt and sets the lease, in a short transaction;
on PostgreSQL the row is locked with `FOR UPDATE SKIP LOCKED` first, so workers in
several processes take different reports without waiting for each other; on SQLite (one
writer at a time) one UPDATE … RETURNING claims atomically. While a report is built the
lease is pushed on, so a long build is not taken over.

A report is made by `build_document` (what the requester may see), rendered in a thread
(`reports.render`), and stored; READY, its notice to the requester and its ReportChanged
are one transaction. A DomainError from the builder (the report cannot be made: its
target is gone, …) fails it at once with that message; any other fault is retried after
a pause, and the report fails after `max_attempts` — as one whose workers kept dying does.
Every few minutes the worker also deletes the files of READY reports past `expires_at`
(EXPIRED).
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

import structlog
from sqlalchemy import ColumnElement, and_, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from ediary_gql.db.base import utcnow
from ediary_gql.db.models.enums import NotificationKind, ReportStatus
from ediary_gql.db.models.reports import Report
from ediary_gql.db.models.users import User
from ediary_gql.errors import DomainError
from ediary_gql.events import channels as event_channels
from ediary_gql.events.bus import EventBus
from ediary_gql.events.publish import Publisher, queue_event, unit_of_work
from ediary_gql.events.types import ReportChanged
from ediary_gql.reports.document import ReportDocument
from ediary_gql.reports.render import ReportFormat as RenderFormat
from ediary_gql.reports.render import render
from ediary_gql.services import school_time
from ediary_gql.services.background import BackgroundWorker, BytesReader, NoBus, WorkerEvents, claim_oldest
from ediary_gql.services.notifications import notify
from ediary_gql.services.reports import names
from ediary_gql.services.reports.build import build_document
from ediary_gql.settings import Settings
from ediary_gql.storage import Storage, storage_for

log = structlog.get_logger(__name__)

FAILED_PREFIX = "Не удалось сформировать отчёт: "
INTERNAL_ERROR = "внутренняя ошибка при построении отчёта"
EXPIRY_BATCH = 100
RETRY_BASE_SECONDS = 30.0


class Builder(Protocol):
    async def __call__(self, session: AsyncSession, report: Report, *, now: dt.datetime) -> ReportDocument: ...


@dataclass(frozen=True, slots=True)
class ClaimedReport:
    id: int
    requester_id: int
    attempts: int  # counting the one under way
    error: str | None  # what the attempt before this one left


def _due(now: dt.datetime) -> ColumnElement[bool]:
    r = Report
    return or_(r.status == ReportStatus.QUEUED, and_(r.status == ReportStatus.RUNNING, r.lease_until <= now))


async def claim_next(
    session_factory: async_sessionmaker[AsyncSession], publisher: Publisher, *, now: dt.datetime, lease: dt.timedelta
) -> ClaimedReport | None:
    """Take the oldest due report for this worker (committed before it returns)."""
    r = Report

    async def take(session: AsyncSession, chosen: ColumnElement[bool]) -> ClaimedReport | None:
        row = (
            await session.execute(
                update(r)
                .where(chosen, _due(now))
                .values(status=ReportStatus.RUNNING, attempts=r.attempts + 1, lease_until=now + lease, started_at=now)
                .returning(r.id, r.requested_by_id, r.attempts, r.error)
                .execution_options(synchronize_session=False)
            )
        ).first()
        if row is None:
            return None
        queue_event(session, ReportChanged(report_id=row.id, requester_id=row.requested_by_id, status="RUNNING"))
        return ClaimedReport(id=row.id, requester_id=row.requested_by_id, attempts=row.attempts, error=row.error)

    due = select(r.id).where(_due(now)).order_by(r.id).limit(1)
    return await claim_oldest(session_factory, publisher, due=due, key=r.id, take=take)


class _ClaimLost(Exception):
    """The report is no longer this worker's (another took it over, or it was deleted)."""


class ReportWorker(BackgroundWorker):
    """Makes queued reports: `work_once()` for one report, `drain()` until none is due,
    `expire_once()` for the expiry sweep, `start()`/`stop()` to run in the background
    (woken by newly queued reports, else every poll interval; expired files are swept
    every `expiry_interval_seconds`). A report cut off by `stop()` stays RUNNING and is
    taken up again when its lease runs out."""

    task_name = "report-worker"
    events = WorkerEvents.named("report", "worker")

    def __init__(
        self,
        *,
        session_factory: async_sessionmaker[AsyncSession],
        storage: Storage,
        bus: EventBus | None = None,
        lease: dt.timedelta = dt.timedelta(seconds=300),
        max_attempts: int = 3,
        file_ttl: dt.timedelta = dt.timedelta(hours=168),
        poll_seconds: float = 5.0,
        expiry_interval_seconds: float = 300.0,
        builder: Builder = build_document,
        clock: Callable[[], dt.datetime] = utcnow,
    ) -> None:
        if max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")
        super().__init__(poll_seconds=poll_seconds, bus=bus)
        self._session_factory = session_factory
        self._storage = storage
        self._publisher: Publisher = bus if bus is not None else NoBus()
        self.lease = lease
        self.max_attempts = max_attempts
        self.file_ttl = file_ttl
        self.expiry_interval_seconds = expiry_interval_seconds
        self._build = builder
        self._clock = clock

    @classmethod
    def from_settings(
        cls, settings: Settings, session_factory: async_sessionmaker[AsyncSession], *, bus: EventBus | None = None
    ) -> ReportWorker:
        return cls(
            session_factory=session_factory,
            storage=storage_for(settings.upload_dir),
            bus=bus,
            lease=dt.timedelta(seconds=settings.report_lease_seconds),
            max_attempts=settings.report_max_attempts,
            file_ttl=dt.timedelta(hours=settings.report_file_ttl_hours),
            poll_seconds=settings.report_poll_seconds,
            expiry_interval_seconds=settings.report_expiry_interval_seconds,
        )

    # -- one report ----------------------------------------------------------------------

    async def work_once(self, *, now: dt.datetime | None = None) -> int:
        """Claim one due report and see it through; the number finished (READY or FAILED)."""
        return (await self._take_one(now))[1]

    async def drain(self, *, now: dt.datetime | None = None) -> int:
        """Rounds until no report is due (one to retry waits for its pause); the number finished."""
        finished = 0
        while True:
            claimed, done = await self._take_one(now)
            finished += done
            if not claimed:
                return finished

    async def _take_one(self, now: dt.datetime | None) -> tuple[bool, int]:
        moment = self._clock() if now is None else now
        claimed = await claim_next(self._session_factory, self._publisher, now=moment, lease=self.lease)
        if claimed is None:
            return False, 0
        try:
            return True, int(await self._see_through(claimed, moment))
        except _ClaimLost:
            log.warning("report_claim_lost", report_id=claimed.id, attempts=claimed.attempts)
            return True, 0

    async def _see_through(self, claimed: ClaimedReport, now: dt.datetime) -> bool:
        """Make the claimed report; True if it is finished (READY or FAILED)."""
        if claimed.attempts > self.max_attempts:  # its workers kept stopping mid-way
            reason = claimed.error or f"работа над ним прерывалась (попыток: {self.max_attempts})"
            await self._fail(claimed, now, FAILED_PREFIX + reason)
            return True
        keeper = asyncio.create_task(self._keep_lease(claimed), name=f"report-{claimed.id}-lease")
        try:
            await self._store(claimed, now, await self._make(claimed, now))
        except DomainError as exc:  # it cannot be made: no use trying again
            await self._fail(claimed, now, str(exc))
            return True
        except _ClaimLost:
            raise
        except Exception:
            log.exception("report_build_failed", report_id=claimed.id, attempts=claimed.attempts)
            if claimed.attempts >= self.max_attempts:
                await self._fail(claimed, now, FAILED_PREFIX + INTERNAL_ERROR)
                return True
            await self._retry_later(claimed, now)
            return False
        finally:
            keeper.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await keeper
        return True

    async def _make(self, claimed: ClaimedReport, now: dt.datetime) -> tuple[Report, bytes]:
        """The report's row and its rendered bytes."""
        async with self._session_factory() as session:
            report = await session.get(Report, claimed.id)
            if report is None or report.status is not ReportStatus.RUNNING or report.attempts != claimed.attempts:
                raise _ClaimLost
            document = await self._build(session, report, now=now)
        data = await asyncio.to_thread(render, document, RenderFormat[report.format.value])
        return report, data

    def _mine(self, claimed: ClaimedReport) -> ColumnElement[bool]:
        r = Report
        return and_(r.id == claimed.id, r.status == ReportStatus.RUNNING, r.attempts == claimed.attempts)

    async def _keep_lease(self, claimed: ClaimedReport) -> None:
        """Push the lease on while the report is being made (every third of it)."""
        interval = max(self.lease.total_seconds() / 3, 0.01)
        while True:
            await asyncio.sleep(interval)
            try:
                async with self._session_factory() as session, session.begin():
                    result = await session.execute(
                        update(Report)
                        .where(self._mine(claimed))
                        .values(lease_until=self._clock() + self.lease)
                        .execution_options(synchronize_session=False)
                    )
            except Exception:  # the next beat tries again; the build goes on meanwhile
                log.warning("report_lease_not_extended", report_id=claimed.id, exc_info=True)
                continue
            if not result.rowcount:  # type: ignore[attr-defined]
                return

    async def _retry_later(self, claimed: ClaimedReport, now: dt.datetime) -> None:
        """Leave the report RUNNING with a short lease: a worker takes it again after it."""
        pause = min(self.lease.total_seconds(), RETRY_BASE_SECONDS * 2 ** (claimed.attempts - 1))
        try:
            async with self._session_factory() as session, session.begin():
                await session.execute(
                    update(Report)
                    .where(self._mine(claimed))
                    .values(lease_until=now + dt.timedelta(seconds=pause), error=INTERNAL_ERROR)
                    .execution_options(synchronize_session=False)
                )
        except Exception:  # the lease runs out as it is
            log.exception("report_retry_not_recorded", report_id=claimed.id)

    async def _store(self, claimed: ClaimedReport, now: dt.datetime, made: tuple[Report, bytes]) -> None:
        report, data = made
        key = await self._storage.save(BytesReader(data))
        expires_at = now + self.file_ttl
        try:
            async with unit_of_work(self._session_factory, self._publisher) as session:
                result = await session.execute(
                    update(Report)
                    .where(self._mine(claimed))
                    .values(
                        status=ReportStatus.READY,
                        storage_key=key,
                        byte_size=len(data),
                        finished_at=now,
                        expires_at=expires_at,
                        lease_until=None,
                        error=None,
                    )
                    .execution_options(synchronize_session=False)
                )
                if not result.rowcount:  # type: ignore[attr-defined]
                    raise _ClaimLost
                title = names.title(report, await names.names_of(session, report))
                zone = await school_time.school_zone(session, report.school_id)
                until = expires_at.astimezone(school_time.zone_info(zone))
                await self._tell(
                    session,
                    claimed,
                    status=ReportStatus.READY,
                    title="Отчёт готов",
                    body=f"Отчёт «{title}» ({report.format.value}) готов. Скачать его можно до {until:%d.%m.%Y %H:%M}.",
                )
        except BaseException:
            await self._storage.delete(key)  # nothing points at it
            raise

    async def _fail(self, claimed: ClaimedReport, now: dt.datetime, error: str) -> None:
        async with unit_of_work(self._session_factory, self._publisher) as session:
            result = await session.execute(
                update(Report)
                .where(self._mine(claimed))
                .values(status=ReportStatus.FAILED, finished_at=now, lease_until=None, error=error[:2000])
                .execution_options(synchronize_session=False)
            )
            if not result.rowcount:  # type: ignore[attr-defined]
                raise _ClaimLost
            report = await session.get(Report, claimed.id)
            if report is None:
                raise _ClaimLost
            title = names.title(report, await names.names_of(session, report))
            await self._tell(
                session,
                claimed,
                status=ReportStatus.FAILED,
                title="Отчёт не сформирован",
                body=f"Отчёт «{title}»: {error}",
            )
        log.warning("report_failed", report_id=claimed.id, attempts=claimed.attempts, error=error)

    async def _tell(
        self, session: AsyncSession, claimed: ClaimedReport, *, status: ReportStatus, title: str, body: str
    ) -> None:
        """The requester's notice (by their channels for REPORT) and the report's event."""
        user = await session.get(User, claimed.requester_id)
        if user is not None:
            await notify(
                session,
                user=user,
                kind=NotificationKind.REPORT,
                title=title,
                body=body,
                payload={"report_id": claimed.id, "status": status.value},
            )
        queue_event(
            session, ReportChanged(report_id=claimed.id, requester_id=claimed.requester_id, status=status.value)
        )

    # -- expiry ----------------------------------------------------------------------------

    async def expire_once(self, *, now: dt.datetime | None = None) -> int:
        """Delete the files of READY reports past `expires_at` (EXPIRED); how many expired."""
        moment = self._clock() if now is None else now
        r = Report
        async with self._session_factory() as session:
            due = (
                await session.execute(
                    select(r.id, r.requested_by_id, r.storage_key)
                    .where(r.status == ReportStatus.READY, r.expires_at <= moment)
                    .order_by(r.expires_at, r.id)
                    .limit(EXPIRY_BATCH)
                )
            ).all()
        expired = 0
        for report_id, requester_id, key in due:
            # the file first: a report is never EXPIRED with its file left behind (a READY
            # one whose file is gone is answered as expired, and the next sweep retries)
            if key:
                await self._storage.delete(key)
            async with unit_of_work(self._session_factory, self._publisher) as session:
                result = await session.execute(
                    update(r)
                    .where(r.id == report_id, r.status == ReportStatus.READY, r.storage_key == key)
                    .values(status=ReportStatus.EXPIRED, storage_key=None)
                    .execution_options(synchronize_session=False)
                )
                if result.rowcount:  # type: ignore[attr-defined]
                    expired += 1
                    queue_event(
                        session, ReportChanged(report_id=report_id, requester_id=requester_id, status="EXPIRED")
                    )
        return expired

    # -- running in the background ---------------------------------------------------------

    async def round(self) -> bool:
        claimed, _ = await self._take_one(None)
        return claimed  # one was made: another may be waiting

    def wake_channel(self) -> str:
        """A report was queued (ReportsQueued), in any process."""
        return event_channels.reports_queue()

    def sweep_interval(self) -> float:
        return self.expiry_interval_seconds

    async def sweep(self) -> None:
        await self.expire_once()
