"""A sync's SQL statements do not grow with its items: 10 items and 1,000 items cost the
same number (counted over HTTP, the whole request), for lessons, grades and marks, new
and again unchanged."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from tests.factories.lessons import lesson_times
from tests.support import GraphQLClient, StatementCounter
from tests.sync_support import SLOTS_PER_DAY, SyncWorld, make_sync_world, sync

SELECTION = "items { index sourcedId action }"
CHILDREN = 25  # × 40 lessons: 1,000 child × lesson pairs
LESSONS = 40


@pytest.fixture
async def sw(session: AsyncSession) -> SyncWorld:
    world = await make_sync_world(session)
    await world.children(session, CHILDREN - 2)
    return world


async def _counted(
    gql: GraphQLClient, counter: StatementCounter, token: str, mutation: str, sw: SyncWorld, items: list[dict[str, Any]]
) -> int:
    with counter:
        payload = await sync(gql, token, mutation, sw, items, selection=SELECTION)
    assert payload["userErrors"] == [], payload["userErrors"][:3]
    assert payload["applied"] is True
    return counter.count


def _pairs(count: int, *, skip: int = 0) -> list[tuple[str, str]]:
    """(child, lesson) sourcedIds, lesson by lesson."""
    found = [(f"STU-{c + 1}", f"L-{n + 1}") for n in range(LESSONS) for c in range(CHILDREN)]
    return found[skip : skip + count]


async def test_grades(gql: GraphQLClient, session: AsyncSession, sw: SyncWorld, sql_counter: StatementCounter) -> None:
    await sw.lessons(session, LESSONS)
    token = await sw.token(gql, sw.admin)

    def items(prefix: str, count: int) -> list[dict[str, Any]]:
        return [
            {"sourcedId": f"{prefix}-{n}", "childSourcedId": c, "lessonSourcedId": lesson, "value": "54321"[n % 5]}
            for n, (c, lesson) in enumerate(_pairs(count))
        ]

    few = await _counted(gql, sql_counter, token, "syncGrades", sw, items("A", 10))
    many = await _counted(gql, sql_counter, token, "syncGrades", sw, items("B", 1000))
    assert many == few
    # the same 1,000 again (nothing to write), and corrected
    unchanged = await _counted(gql, sql_counter, token, "syncGrades", sw, items("B", 1000))
    assert unchanged <= few
    corrected = [{**item, "value": "3"} for item in items("B", 1000)]
    few_corrected = await _counted(
        gql, sql_counter, token, "syncGrades", sw, [{**i, "value": "2"} for i in items("A", 10)]
    )
    assert await _counted(gql, sql_counter, token, "syncGrades", sw, corrected) == few_corrected


async def test_attendance(
    gql: GraphQLClient, session: AsyncSession, sw: SyncWorld, sql_counter: StatementCounter
) -> None:
    await sw.lessons(session, LESSONS)
    token = await sw.token(gql, sw.admin)

    def items(count: int, *, skip: int = 0, status: str = "PRESENT") -> list[dict[str, Any]]:
        return [
            {"sourcedId": f"A-{c}-{lesson}", "childSourcedId": c, "lessonSourcedId": lesson, "status": status}
            for c, lesson in _pairs(count, skip=skip)
        ]

    # every 5th mark an absence; the guardians' notices held to one a call (STU-1 absent once), so
    # that a call that tells someone is compared with one that tells someone too
    def absent_now_and_then(batch: list[dict[str, Any]]) -> list[dict[str, Any]]:
        told = False
        found = []
        for n, item in enumerate(batch):
            if item["childSourcedId"] in ("STU-1", "STU-2"):
                absent = item["childSourcedId"] == "STU-1" and not told
                told = told or absent
            else:
                absent = n % 5 == 0
            found.append({**item, "status": "ABSENT"} if absent else item)
        return found

    few = await _counted(gql, sql_counter, token, "syncAttendance", sw, absent_now_and_then(items(10)))
    many = await _counted(gql, sql_counter, token, "syncAttendance", sw, absent_now_and_then(items(990, skip=10)))
    assert many == few
    unchanged = await _counted(gql, sql_counter, token, "syncAttendance", sw, absent_now_and_then(items(990, skip=10)))
    assert unchanged <= few
    changed_few = await _counted(gql, sql_counter, token, "syncAttendance", sw, items(10, status="SICK"))
    changed_many = await _counted(gql, sql_counter, token, "syncAttendance", sw, items(990, skip=10, status="SICK"))
    assert changed_many == changed_few


async def test_lessons(gql: GraphQLClient, session: AsyncSession, sw: SyncWorld, sql_counter: StatementCounter) -> None:
    token = await sw.token(gql, sw.admin)
    days = await sw.school_days(session, 2 + -(-1000 // SLOTS_PER_DAY))

    def items(prefix: str, count: int, first_day: int) -> list[dict[str, Any]]:
        found = []
        for n in range(count):
            start, end = lesson_times(n % SLOTS_PER_DAY + 1)
            day: dt.date = days[first_day + n // SLOTS_PER_DAY]
            found.append(
                {
                    "sourcedId": f"{prefix}-{n}",
                    "classSourcedId": "CLS-1",
                    "subjectSourcedId": "SUB-MATH",
                    "teacherSourcedId": "T-1",
                    "date": day.isoformat(),
                    "startTime": start.isoformat(),
                    "endTime": end.isoformat(),
                    "room": "101",
                }
            )
        return found

    few = await _counted(gql, sql_counter, token, "syncLessons", sw, items("A", 10, 0))
    many = await _counted(gql, sql_counter, token, "syncLessons", sw, items("B", 1000, 2))
    assert many == few
    unchanged = await _counted(gql, sql_counter, token, "syncLessons", sw, items("B", 1000, 2))
    assert unchanged <= few
    moved_few = [{**item, "room": "202", "topic": "Повторение"} for item in items("A", 10, 0)]
    moved_many = [{**item, "room": "202", "topic": "Повторение"} for item in items("B", 1000, 2)]
    assert await _counted(gql, sql_counter, token, "syncLessons", sw, moved_many) == await _counted(
        gql, sql_counter, token, "syncLessons", sw, moved_few
    )
