"""The log's tail of a process: subscribers get what commits after they joined, a
subscriber joining as the last one leaves is not left without a reader, and a log
replaced under it (its end below what was read) tells its subscribers so."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import update

from ediary_gql.context import AppServices
from ediary_gql.db.models.event_log import EventLogHead
from ediary_gql.events import channels
from ediary_gql.events import log as event_log
from ediary_gql.events.publish import queue_event, unit_of_work
from ediary_gql.events.tail import LogRewound, LogTail
from ediary_gql.events.types import GradeChanged

CHILD = 41


def _grade(grade_id: int, child_id: int = CHILD) -> GradeChanged:
    return GradeChanged(grade_id=grade_id, child_id=child_id, class_id=6, school_id=7, action="CREATED")


async def _commit(services: AppServices, *events: GradeChanged) -> None:
    async with unit_of_work(services.session_factory, services.bus) as session:
        for event in events:
            queue_event(session, event)


def _tail(services: AppServices) -> LogTail:
    return LogTail(services.session_factory, services.bus, backlog=100, poll_seconds=0.2)


async def test_a_subscriber_gets_what_commits_after_it_joined_and_only_that(app_services: AppServices) -> None:
    tail = _tail(app_services)
    try:
        await _commit(app_services, _grade(1))  # before anyone follows
        async with tail.tap([channels.child_grades(CHILD)]) as tap:
            await _commit(app_services, _grade(2), _grade(3, child_id=CHILD + 1), _grade(4))
            got = [(await asyncio.wait_for(tap.next(), 5)).payload["grade_id"] for _ in range(2)]
            assert got == [2, 4]  # its channel's, in order; not the one before it joined
        # the last one left: the reader stops; the next subscriber starts at the log's end
        for _ in range(50):
            if tail.subscribers == 0 and tail._reader is None:
                break
            await asyncio.sleep(0.05)
        await _commit(app_services, _grade(5))
        async with tail.tap([channels.child_grades(CHILD)]) as tap:
            await _commit(app_services, _grade(6))
            assert (await asyncio.wait_for(tap.next(), 5)).payload["grade_id"] == 6
    finally:
        await tail.stop()


async def test_joining_while_the_last_one_leaves_keeps_a_reader(app_services: AppServices) -> None:
    tail = _tail(app_services)
    try:
        for n in range(5):
            leaving = tail.tap([channels.child_grades(CHILD)])
            await leaving.__aenter__()
            joined = asyncio.create_task(_first_after_joining(app_services, tail, grade_id=100 + n))
            await asyncio.sleep(0)  # the newcomer is on its way in
            await leaving.__aexit__(None, None, None)
            assert await asyncio.wait_for(joined, 5) == 100 + n
    finally:
        await tail.stop()


async def _first_after_joining(services: AppServices, tail: LogTail, *, grade_id: int) -> int:
    async with tail.tap([channels.child_grades(CHILD)]) as tap:
        await _commit(services, _grade(grade_id))
        return int((await asyncio.wait_for(tap.next(), 5)).payload["grade_id"])


@pytest.mark.postgres_only  # the head row is rewritten under a running reader
async def test_a_log_replaced_under_the_tail_tells_its_subscribers(app_services: AppServices) -> None:
    tail = _tail(app_services)
    head = await event_log.head(app_services.session_factory)
    try:
        async with tail.tap([channels.child_grades(CHILD)]) as tap:
            await _commit(app_services, _grade(7))
            await asyncio.wait_for(tap.next(), 5)
            # the database is replaced by one whose log ends far below (a restore)
            async with app_services.session_factory() as s, s.begin():
                await s.execute(update(EventLogHead).values(last_position=0))
            await _commit(app_services, _grade(8))
            with pytest.raises(LogRewound):
                await asyncio.wait_for(tap.next(), 5)
    finally:
        await tail.stop()
        async with app_services.session_factory() as s, s.begin():  # positions go on above the old ones
            await s.execute(update(EventLogHead).values(last_position=head + 1_000_000))
