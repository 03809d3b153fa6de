"""The event log: events commit with their change, positions follow commit order (two
transactions made to commit out of order), and old events are pruned."""

from __future__ import annotations

import asyncio
import datetime as dt

import pytest
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from ediary_gql.context import AppServices
from ediary_gql.db.base import utcnow
from ediary_gql.db.engine import create_engine, create_session_factory
from ediary_gql.db.models.event_log import EventRecord
from ediary_gql.events import channels
from ediary_gql.events import log as event_log
from ediary_gql.events.publish import queue_event, unit_of_work
from ediary_gql.events.retention import Pruner
from ediary_gql.events.types import GradeChanged
from tests.support import StatementCounter


def _grade(grade_id: int) -> GradeChanged:
    return GradeChanged(grade_id=grade_id, child_id=5, class_id=6, school_id=7, action="CREATED")


async def _last_position(services: AppServices) -> int:
    return await event_log.head(services.session_factory)


async def test_events_are_logged_with_their_change_or_not_at_all(
    app_services: AppServices, sql_counter: StatementCounter
) -> None:
    start = await _last_position(app_services)
    with sql_counter:
        async with unit_of_work(app_services.session_factory, app_services.bus) as session:
            queue_event(session, _grade(1))
            queue_event(session, _grade(2))
    assert sum("INSERT INTO event_log" in s for s in sql_counter.statements) == 1  # one statement for both

    async def failing() -> None:
        async with unit_of_work(app_services.session_factory, app_services.bus) as session:
            queue_event(session, _grade(3))
            raise RuntimeError("the change fails")

    with pytest.raises(RuntimeError):
        await failing()

    logged = await event_log.read_after(app_services.session_factory, after=start, limit=10)
    assert [(e.kind, e.channel, e.payload["grade_id"]) for e in logged] == [
        ("grade.changed", channels.child_grades(5), 1),
        ("grade.changed", channels.child_grades(5), 2),
    ]
    assert [e.position for e in logged] == [start + 1, start + 2]
    # a channel's events only
    assert await event_log.read_after(app_services.session_factory, after=start, limit=10, channels=["x"]) == []


@pytest.mark.postgres_only
async def test_positions_follow_commit_order_not_append_order(app_services: AppServices) -> None:
    """Transaction A appends first (the lower id) but commits after B: a reader that saw
    B must still find A, above B's position. On SQLite writers are serialized by the
    database lock, so two cannot cross (hence PostgreSQL only)."""
    start = await _last_position(app_services)
    a_appended, release_a = asyncio.Event(), asyncio.Event()

    async def transaction_a() -> None:
        async with unit_of_work(app_services.session_factory, app_services.bus) as session:
            queue_event(session, _grade(100))
            await event_log.append(session, [_grade(101)])  # its row is written now: the lower id
            a_appended.set()
            await release_a.wait()  # … and commits only after B has, and a reader has read

    async def transaction_b() -> None:
        await a_appended.wait()
        async with unit_of_work(app_services.session_factory, app_services.bus) as session:
            queue_event(session, _grade(200))

    task_a = asyncio.create_task(transaction_a())
    await transaction_b()
    # a reader now sees B only: A is not committed
    seen = await event_log.read_after(app_services.session_factory, after=start, limit=10)
    assert [e.payload["grade_id"] for e in seen] == [200]
    release_a.set()
    await task_a
    later = await event_log.read_after(app_services.session_factory, after=seen[-1].position, limit=10)
    assert sorted(e.payload["grade_id"] for e in later) == [100, 101]  # not lost below the reader
    async with app_services.session_factory() as s:
        rows = (await s.execute(select(EventRecord.id, EventRecord.position).where(EventRecord.position > start))).all()
    positions = [int(p or 0) for _, p in sorted(rows)]
    assert positions != sorted(positions)  # append order is not position order


async def _logged_one_old_one_new(services: AppServices, *, old: int, new: int) -> None:
    """Two grade events in the log, the one of grade `old` made 8 days ago."""
    async with unit_of_work(services.session_factory, services.bus) as session:
        queue_event(session, _grade(old))
        queue_event(session, _grade(new))
    await event_log.place(services.session_factory)
    async with services.session_factory() as s, s.begin():
        await s.execute(
            update(EventRecord)
            .where(EventRecord.payload["grade_id"].as_integer() == old)
            .values(created_at=utcnow() - dt.timedelta(days=8))
        )


async def test_old_events_are_pruned(app_services: AppServices) -> None:
    await _logged_one_old_one_new(app_services, old=7, new=8)
    pruned = await event_log.prune(app_services.session_factory, older_than=utcnow() - dt.timedelta(days=7))
    assert pruned >= 1
    kept = await event_log.read_after(app_services.session_factory, after=0, limit=1000)
    assert 7 not in [e.payload["grade_id"] for e in kept]
    assert 8 in [e.payload["grade_id"] for e in kept]
    oldest = await event_log.oldest_position(app_services.session_factory)
    assert oldest is not None
    assert oldest == min(e.position for e in kept)


async def test_a_server_process_prunes_by_itself(app_services: AppServices) -> None:
    # given an event past the retention and a recent one
    await _logged_one_old_one_new(app_services, old=11, new=12)
    # when the server's pruner has had its round
    pruner = Pruner(app_services.session_factory, retention_days=7, interval_seconds=0.05)
    pruner.start()
    try:
        for _ in range(100):
            kept = [
                e.payload["grade_id"]
                for e in await event_log.read_after(app_services.session_factory, after=0, limit=1000)
            ]
            if 11 not in kept:
                break
            await asyncio.sleep(0.05)
    finally:
        await pruner.stop()
    # then the old one is gone and the recent one kept
    assert 11 not in kept
    assert 12 in kept


async def test_relays_placing_side_by_side_number_every_event_once(app_services: AppServices) -> None:
    # given two engines (two processes' pools) placing as fast as they can while events
    # commit one by one: the tail's and the webhook relay's head() in each process
    settings = app_services.settings
    other = create_engine(settings.database_url, pool_size=4)
    factories = [app_services.session_factory, create_session_factory(other)]
    start = await event_log.head(app_services.session_factory)
    committed = 60
    done = asyncio.Event()

    async def write() -> None:
        for n in range(committed):
            async with unit_of_work(app_services.session_factory, app_services.bus) as session:
                queue_event(session, _grade(n))
            await asyncio.sleep(0)
        done.set()

    async def relay(factory: async_sessionmaker[AsyncSession]) -> None:
        while not done.is_set():
            await event_log.head(factory)

    try:
        await asyncio.gather(write(), *(relay(f) for f in factories for _ in range(3)))
        end = await event_log.head(app_services.session_factory)
    finally:
        await other.dispose()
    # then each event has its own position, one after another, and the head is the last
    async with app_services.session_factory() as session:
        positions = list(
            await session.scalars(
                select(EventRecord.position).where(EventRecord.position > start).order_by(EventRecord.position)
            )
        )
    assert positions == list(range(start + 1, start + committed + 1))
    assert end == start + committed
