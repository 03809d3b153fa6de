"""The report worker: a queued report made, stored and told of in one transaction; what
cannot be made failing in words; faults retried and then given up; a report whose worker
died taken over when its lease runs out; several workers sharing the queue; the expiry of
files; running in the background and in the server."""

from __future__ import annotations

import asyncio
import datetime as dt
from typing import Any

import pytest
from sqlalchemy import delete, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from ediary_gql.app import create_app
from ediary_gql.context import AppServices
from ediary_gql.db.engine import create_engine, create_session_factory
from ediary_gql.db.models.children import Child
from ediary_gql.db.models.enums import Channel, NotificationKind, ReportFormat, ReportKind, ReportStatus
from ediary_gql.db.models.notifications import NotificationDelivery
from ediary_gql.db.models.reports import Report
from ediary_gql.errors import DomainError, ErrorCode
from ediary_gql.events import channels
from ediary_gql.events.types import ReportChanged
from ediary_gql.reports.document import ReportDocument
from ediary_gql.services.reports import worker as worker_module
from ediary_gql.services.reports.worker import ReportWorker, claim_next
from ediary_gql.settings import Settings
from ediary_gql.storage import StorageKeyError, storage_for
from tests.diary_writes_support import World, make_world
from tests.services.reports.queue_support import NOW, ask, events_of, notices, report, reports, tiny_document
from tests.support import wait_on_bus

LEASE = dt.timedelta(seconds=300)


@pytest.fixture
async def world(session: AsyncSession) -> World:
    return await make_world(session)


def _worker(services: AppServices, settings: Settings, **options: Any) -> ReportWorker:
    fields: dict[str, Any] = {
        "session_factory": services.session_factory,
        "storage": storage_for(settings.upload_dir),
        "lease": LEASE,
        "max_attempts": 3,
        "file_ttl": dt.timedelta(hours=168),
    }
    fields.update(options)
    return ReportWorker(**fields)


async def _stored(settings: Settings, key: str | None) -> bytes:
    assert key is not None
    return b"".join([chunk async for chunk in storage_for(settings.upload_dir).open(key)])


class Faulty:
    """A builder that raises `fault` the first `times` times, then makes a tiny document
    (after `delay` seconds)."""

    def __init__(self, fault: Exception | None = None, *, times: int = 10**6, delay: float = 0.0) -> None:
        self.fault, self.times, self.delay, self.calls = fault, times, delay, 0

    async def __call__(self, session: AsyncSession, report: Report, *, now: dt.datetime) -> ReportDocument:
        self.calls += 1
        if self.delay:
            await asyncio.sleep(self.delay)
        if self.fault is not None and self.calls <= self.times:
            raise self.fault
        return tiny_document()


# --- a report made ----------------------------------------------------------------------------


async def test_a_ready_report_is_stored_told_of_and_heard_of(
    app_services: AppServices, settings: Settings, world: World
) -> None:
    # given the parent's request for the child's progress as a PDF
    asked = await ask(app_services, world.parent, world)

    # when the worker runs (with the real builder)
    finished = await ReportWorker.from_settings(settings, app_services.session_factory).drain(now=NOW)

    # then the report is READY, its file stored, kept for the configured time
    assert finished == 1
    made = await report(app_services, asked.id)
    assert (made.status, made.attempts, made.error) == (ReportStatus.READY, 1, None)
    assert (made.started_at, made.finished_at, made.lease_until) == (NOW, NOW, None)
    assert made.expires_at == NOW + dt.timedelta(hours=settings.report_file_ttl_hours)
    data = await _stored(settings, made.storage_key)
    assert data.startswith(b"%PDF")
    assert made.byte_size == len(data)
    # and the parent is told, by email and push (REPORT's default channels)
    [notice] = await notices(app_services, world.parent)
    assert notice.kind is NotificationKind.REPORT
    assert notice.title == "Отчёт готов"
    assert "«Успеваемость" in notice.body
    assert "1 четверть" in notice.body
    assert "PDF" in notice.body
    async with app_services.session_factory() as s:
        sent = set((await s.scalars(select(NotificationDelivery.channel))).all())
    assert sent == {Channel.EMAIL, Channel.PUSH}
    # and their reportEvents channel heard it queued, taken up and made
    changes = await events_of(app_services, ReportChanged.kind)
    assert [e.payload["status"] for e in changes] == ["QUEUED", "RUNNING", "READY"]
    assert {e.channel for e in changes} == {channels.user_reports(world.parent.id)}


async def test_ready_notice_and_event_are_one_transaction_with_the_file(
    app_services: AppServices, settings: Settings, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given a queued report, and the notice failing to be written
    asked = await ask(app_services, world.parent, world, format=ReportFormat.CSV)

    async def broken_notify(*args: Any, **kwargs: Any) -> None:
        raise RuntimeError("the inbox is away")

    monkeypatch.setattr(worker_module, "notify", broken_notify)
    before = set((settings.upload_dir).rglob("*")) if settings.upload_dir.exists() else set()

    # when the worker makes it
    assert await _worker(app_services, settings, builder=Faulty()).work_once(now=NOW) == 0

    # then nothing of READY stands: still RUNNING, to be tried again, with no event and no file
    row = await report(app_services, asked.id)
    assert (row.status, row.storage_key, row.byte_size) == (ReportStatus.RUNNING, None, None)
    assert row.lease_until is not None
    assert row.lease_until > NOW
    assert [e.payload["status"] for e in await events_of(app_services, ReportChanged.kind)] == ["QUEUED", "RUNNING"]
    assert await notices(app_services, world.parent) == []
    after = set((settings.upload_dir).rglob("*")) if settings.upload_dir.exists() else set()
    assert {p for p in after - before if p.is_file()} == set()


# --- what cannot be made, and faults ------------------------------------------------------------


async def test_a_report_that_cannot_be_made_fails_at_once_with_the_builders_words(
    app_services: AppServices, settings: Settings, world: World, session: AsyncSession
) -> None:
    # given a report whose child is gone by the time the worker gets to it
    asked = await ask(app_services, world.parent, world, format=ReportFormat.CSV)
    await session.execute(delete(Child).where(Child.id == world.child.id))
    await session.commit()

    # when the worker (with the real builder) takes it up
    assert await ReportWorker.from_settings(settings, app_services.session_factory).drain(now=NOW) == 1

    # then it FAILED on the first attempt, with the builder's message, and the parent is told why
    failed = await report(app_services, asked.id)
    assert (failed.status, failed.attempts, failed.storage_key) == (ReportStatus.FAILED, 1, None)
    assert failed.error
    assert failed.finished_at == NOW
    [notice] = await notices(app_services, world.parent)
    assert (notice.kind, notice.title) == (NotificationKind.REPORT, "Отчёт не сформирован")
    assert failed.error in notice.body
    assert [e.payload["status"] for e in await events_of(app_services, ReportChanged.kind)][-1] == "FAILED"


async def test_a_domain_error_is_not_retried(app_services: AppServices, settings: Settings, world: World) -> None:
    asked = await ask(app_services, world.parent, world)
    builder = Faulty(DomainError(ErrorCode.NOT_FOUND, "Класс ребёнка удалён"))
    worker = _worker(app_services, settings, builder=builder)
    assert await worker.drain(now=NOW) == 1
    assert await worker.drain(now=NOW + LEASE * 10) == 0
    failed = await report(app_services, asked.id)
    assert (failed.status, failed.error, builder.calls) == (ReportStatus.FAILED, "Класс ребёнка удалён", 1)


async def test_a_fault_is_retried_after_a_pause(app_services: AppServices, settings: Settings, world: World) -> None:
    # given a builder that fails once
    asked = await ask(app_services, world.parent, world, format=ReportFormat.CSV)
    worker = _worker(app_services, settings, builder=Faulty(RuntimeError("disk hiccup"), times=1))

    # when the worker runs, the report waits, RUNNING, for its pause
    assert await worker.work_once(now=NOW) == 0
    waiting = await report(app_services, asked.id)
    assert (waiting.status, waiting.attempts) == (ReportStatus.RUNNING, 1)
    assert waiting.lease_until is not None
    assert NOW < waiting.lease_until <= NOW + LEASE
    assert await worker.drain(now=NOW) == 0  # nothing due meanwhile

    # and after it, it is made on the second attempt
    assert await worker.drain(now=waiting.lease_until) == 1
    made = await report(app_services, asked.id)
    assert (made.status, made.attempts, made.error) == (ReportStatus.READY, 2, None)


async def test_after_the_last_attempt_a_faulty_report_fails_in_words(
    app_services: AppServices, settings: Settings, world: World
) -> None:
    asked = await ask(app_services, world.parent, world)
    builder = Faulty(RuntimeError("out of memory"))
    worker = _worker(app_services, settings, builder=builder, max_attempts=3)
    moment = NOW
    for _ in range(3):
        await worker.work_once(now=moment)
        moment += LEASE
    failed = await report(app_services, asked.id)
    assert (failed.status, failed.attempts, builder.calls) == (ReportStatus.FAILED, 3, 3)
    assert failed.error is not None
    assert failed.error.startswith("Не удалось сформировать отчёт: ")
    assert "out of memory" not in failed.error  # a fault's text is for the log, not for the user
    [notice] = await notices(app_services, world.parent)
    assert notice.title == "Отчёт не сформирован"
    assert await worker.drain(now=moment + LEASE) == 0


# --- a worker that died -------------------------------------------------------------------------


async def test_a_report_whose_worker_died_is_taken_over_when_its_lease_runs_out(
    app_services: AppServices, settings: Settings, world: World
) -> None:
    # given a report taken up by a worker that then died (it claimed it and did nothing more)
    asked = await ask(app_services, world.parent, world, format=ReportFormat.CSV)
    claimed = await claim_next(app_services.session_factory, app_services.bus, now=NOW, lease=LEASE)
    assert claimed is not None
    assert (claimed.id, claimed.attempts) == (asked.id, 1)
    other = _worker(app_services, settings, builder=Faulty())

    # then another worker leaves it alone while the lease lasts
    assert await other.drain(now=NOW + LEASE - dt.timedelta(seconds=1)) == 0
    assert (await report(app_services, asked.id)).attempts == 1
    # and takes it over once the lease has run out
    assert await other.drain(now=NOW + LEASE) == 1
    made = await report(app_services, asked.id)
    assert (made.status, made.attempts) == (ReportStatus.READY, 2)


async def test_a_report_whose_workers_kept_dying_fails_after_the_last_attempt(
    app_services: AppServices, settings: Settings, world: World
) -> None:
    asked = await ask(app_services, world.parent, world)
    moment = NOW
    for _ in range(3):  # three workers take it up and die
        assert await claim_next(app_services.session_factory, app_services.bus, now=moment, lease=LEASE)
        moment += LEASE
    builder = Faulty()
    assert await _worker(app_services, settings, builder=builder, max_attempts=3).drain(now=moment) == 1
    failed = await report(app_services, asked.id)
    assert (failed.status, builder.calls) == (ReportStatus.FAILED, 0)
    assert failed.error == "Не удалось сформировать отчёт: работа над ним прерывалась (попыток: 3)"
    assert [n.title for n in await notices(app_services, world.parent)] == ["Отчёт не сформирован"]


async def test_the_lease_is_kept_while_a_long_report_is_made(
    app_services: AppServices, settings: Settings, world: World
) -> None:
    # given a build that takes several times the lease
    asked = await ask(app_services, world.parent, world, format=ReportFormat.CSV)
    short = dt.timedelta(seconds=0.3)
    slow = _worker(app_services, settings, builder=Faulty(delay=1.2), lease=short)
    other = _worker(app_services, settings, builder=Faulty(), lease=short)

    # when it runs, another worker polling meanwhile never takes it over
    making = asyncio.create_task(slow.work_once())
    assert (await _wait_for_status(app_services, asked.id, ReportStatus.RUNNING)).status is ReportStatus.RUNNING
    taken_over = 0
    while not making.done():
        taken_over += await other.work_once()
        await asyncio.sleep(0.1)
    assert await making == 1
    assert taken_over == 0
    made = await report(app_services, asked.id)
    assert (made.status, made.attempts) == (ReportStatus.READY, 1)


# --- several workers -------------------------------------------------------------------------------


async def test_two_workers_at_once_make_each_report_once(
    app_services: AppServices, settings: Settings, world: World
) -> None:
    # given eight queued reports, and two workers with their own connection pools (as two processes)
    for user in (world.parent, world.admin):
        for _ in range(4):
            await ask(app_services, user, world, format=ReportFormat.CSV)
    engines = [create_engine(settings.database_url) for _ in range(2)]
    builders = [Faulty(delay=0.05), Faulty(delay=0.05)]
    try:
        workers = [
            _worker(app_services, settings, session_factory=create_session_factory(engine), builder=builder)
            for engine, builder in zip(engines, builders, strict=True)
        ]
        # when both drain the queue at the same time
        first, second = await asyncio.gather(*(w.drain(now=NOW) for w in workers))
    finally:
        for engine in engines:
            await engine.dispose()

    # then every report was made once, and both did part of the work
    assert first + second == 8
    assert builders[0].calls > 0
    assert builders[1].calls > 0
    assert builders[0].calls + builders[1].calls == 8
    assert {(r.status, r.attempts) for r in await reports(app_services)} == {(ReportStatus.READY, 1)}


@pytest.mark.postgres_only
async def test_a_report_locked_by_another_worker_is_skipped_not_waited_for(
    app_services: AppServices, settings: Settings, world: World
) -> None:
    # given two queued reports, the older locked by another worker's transaction mid-claim
    locked = await ask(app_services, world.parent, world, format=ReportFormat.CSV)
    free = await ask(app_services, world.parent, world, format=ReportFormat.CSV)
    engine = create_engine(settings.database_url)
    worker = _worker(app_services, settings, builder=Faulty())
    try:
        async with engine.connect() as other, other.begin():
            await other.execute(text("SELECT id FROM reports WHERE id = :id FOR UPDATE"), {"id": locked.id})

            # when a worker runs meanwhile, it makes the free one without waiting for the lock
            assert await asyncio.wait_for(worker.work_once(now=NOW), 5) == 1
            assert (await report(app_services, free.id)).status is ReportStatus.READY
            assert (await report(app_services, locked.id)).status is ReportStatus.QUEUED
        # and the other one once the lock is gone
        assert await worker.work_once(now=NOW) == 1
    finally:
        await engine.dispose()
    assert (await report(app_services, locked.id)).status is ReportStatus.READY


# --- expiry ------------------------------------------------------------------------------------------


async def test_an_expired_reports_file_is_deleted(app_services: AppServices, settings: Settings, world: World) -> None:
    # given a ready report
    asked = await ask(app_services, world.parent, world, format=ReportFormat.CSV)
    worker = _worker(app_services, settings, builder=Faulty(), file_ttl=dt.timedelta(hours=2))
    assert await worker.drain(now=NOW) == 1
    made = await report(app_services, asked.id)
    assert made.storage_key is not None
    await _stored(settings, made.storage_key)

    # when the sweep runs before its time, nothing happens; after it, the file is deleted
    assert await worker.expire_once(now=NOW + dt.timedelta(hours=1)) == 0
    assert (await report(app_services, asked.id)).status is ReportStatus.READY
    assert await worker.expire_once(now=NOW + dt.timedelta(hours=2)) == 1
    expired = await report(app_services, asked.id)
    assert (expired.status, expired.storage_key) == (ReportStatus.EXPIRED, None)
    with pytest.raises(StorageKeyError):
        await _stored(settings, made.storage_key)
    # and the requester hears of it; a second sweep finds nothing
    assert [e.payload["status"] for e in await events_of(app_services, ReportChanged.kind)][-1] == "EXPIRED"
    assert await worker.expire_once(now=NOW + dt.timedelta(days=30)) == 0


# --- running in the background ------------------------------------------------------------------------


async def _wait_for_status(services: AppServices, report_id: int, status: ReportStatus, within: float = 10) -> Report:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while True:
        row = await report(services, report_id)
        if row.status is status or loop.time() > deadline:
            return row
        await asyncio.sleep(0.02)


async def test_a_running_worker_wakes_on_a_new_request_and_stops_cleanly(
    app_services: AppServices, settings: Settings, world: World
) -> None:
    # given a worker in the background that would poll only once a minute
    worker = _worker(app_services, settings, builder=Faulty(), bus=app_services.bus, poll_seconds=60)
    worker.start()
    try:
        await wait_on_bus(app_services, channels.reports_queue())
        await asyncio.sleep(0.05)  # its first round (on subscribing) is over

        # when a report is asked for
        started = asyncio.get_running_loop().time()
        asked = await ask(app_services, world.parent, world, kind=ReportKind.ATTENDANCE, format=ReportFormat.HTML)

        # then it is made at once, not at the next poll
        made = await _wait_for_status(app_services, asked.id, ReportStatus.READY)
        assert made.status is ReportStatus.READY
        assert asyncio.get_running_loop().time() - started < 5
    finally:
        await asyncio.wait_for(worker.stop(), 5)
    assert not worker.running
    assert app_services.bus.subscriber_count(channels.reports_queue()) == 0


async def test_the_server_runs_a_worker_for_its_lifetime(
    app_services: AppServices, settings: Settings, world: World
) -> None:
    # given a server started with REPORTS_WORKER_ENABLED (the test server runs without)
    app = create_app(settings.model_copy(update={"reports_worker_enabled": True, "report_poll_seconds": 0.05}))
    async with app.router.lifespan_context(app):
        worker: ReportWorker = app.state.report_worker
        assert worker.running
        services: AppServices = app.state.services

        # when a report is asked for through it
        asked = await ask(services, world.parent, world, format=ReportFormat.CSV)

        # then it is made
        assert (await _wait_for_status(app_services, asked.id, ReportStatus.READY)).status is ReportStatus.READY
    # and the worker ends with the server
    assert not worker.running
