"""syncLessons over HTTP: lessons created and updated by sourcedId by createLesson's and
updateLesson's rules (bookings, holidays, the year, the teacher's assignment), a lesson
made by hand taken over, all or nothing, idempotent, and who may."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from ediary_gql.db.models.audit import AuditEntry
from ediary_gql.db.models.enums import LessonStatus, NotificationKind
from ediary_gql.db.models.lessons import Lesson
from ediary_gql.db.models.notifications import Notification
from tests.diary_writes_support import MONDAY, error_codes
from tests.support import GraphQLClient
from tests.sync_support import SyncWorld, gid, make_sync_world, sync

FIELDS = "items { index sourcedId action lesson { id sourcedId date startTime status room topic teacher { id } } }"
TUESDAY = MONDAY + dt.timedelta(days=1)
HOLIDAY = dt.date(2026, 11, 4)  # День народного единства, a Wednesday


@pytest.fixture
async def sw(session: AsyncSession) -> SyncWorld:
    return await make_sync_world(session)


def lesson(
    sid: str, day: dt.date = MONDAY, start: str = "08:30", end: str = "09:15", teacher: str = "T-1", **more: Any
) -> dict[str, Any]:
    return {
        "sourcedId": sid,
        "classSourcedId": "CLS-1",
        "subjectSourcedId": "SUB-MATH",
        "teacherSourcedId": teacher,
        "date": day.isoformat(),
        "startTime": start,
        "endTime": end,
        **more,
    }


def problems(payload: dict[str, Any]) -> list[tuple[str, str]]:
    return [(".".join(e["field"] or []), e["code"]) for e in payload["userErrors"]]


async def test_lessons_created_by_sourced_id_families_told_and_a_rerun_changes_nothing(
    gql: GraphQLClient, session: AsyncSession, sw: SyncWorld
) -> None:
    token = await sw.token(gql, sw.admin)
    items = [
        lesson("L-1", room="101", topic="Дроби"),
        lesson("L-2", start="09:25", end="10:10", room="102"),
        lesson("L-3", day=TUESDAY, lessonNumber=1),
    ]
    payload = await sync(gql, token, "syncLessons", sw, items, selection=FIELDS)
    assert payload["userErrors"] == []
    assert payload["summary"] == {"created": 3, "updated": 0, "unchanged": 0}
    first = payload["items"][0]["lesson"]
    assert (first["sourcedId"], first["date"], first["startTime"], first["room"], first["topic"]) == (
        "L-1",
        MONDAY.isoformat(),
        "08:30:00",
        "101",
        "Дроби",
    )
    assert first["teacher"]["id"] == gid("User", sw.teacher.id)
    entry = await session.scalar(select(AuditEntry).where(AuditEntry.action == "syncLessons"))
    assert entry is not None
    assert entry.after is not None
    assert entry.after["created"] == 3
    assert [c["after"]["room"] for c in entry.after["changes"]] == ["101", "102", None]
    notices = await session.scalar(
        select(func.count(Notification.id)).where(
            Notification.user_id == sw.parent.id, Notification.kind == NotificationKind.LESSON
        )
    )
    assert notices == 1  # one grouped notice for the three

    again = await sync(gql, token, "syncLessons", sw, items)
    assert again["summary"] == {"created": 0, "updated": 0, "unchanged": 3}
    assert await session.scalar(select(func.count(Lesson.id))) == 3


async def test_a_known_lesson_is_moved_cancelled_and_given_a_substitute(
    gql: GraphQLClient, session: AsyncSession, sw: SyncWorld
) -> None:
    token = await sw.token(gql, sw.admin)
    await sync(gql, token, "syncLessons", sw, [lesson("L-1"), lesson("L-2", start="09:25", end="10:10")])
    payload = await sync(
        gql,
        token,
        "syncLessons",
        sw,
        [
            lesson("L-1", day=TUESDAY, substituteTeacherSourcedId="T-2"),
            lesson("L-2", start="09:25", end="10:10", status="CANCELLED"),
        ],
        selection=FIELDS,
    )
    assert payload["userErrors"] == []
    assert payload["summary"] == {"created": 0, "updated": 2, "unchanged": 0}
    rows = {row.external_id: row for row in await session.scalars(select(Lesson))}
    assert rows["L-1"].date == TUESDAY
    assert rows["L-1"].substitute_teacher_id == sw.other_teacher.id
    assert rows["L-2"].status == LessonStatus.CANCELLED
    entry = await session.scalar(
        select(AuditEntry).where(AuditEntry.action == "syncLessons").order_by(AuditEntry.id.desc()).limit(1)
    )
    assert entry is not None
    assert entry.after is not None
    assert [(c["before"]["status"], c["after"]["status"]) for c in entry.after["changes"]] == [
        ("SCHEDULED", "SCHEDULED"),
        ("SCHEDULED", "CANCELLED"),
    ]


async def test_the_teachers_rules_refuse_each_item_by_its_index(
    gql: GraphQLClient, session: AsyncSession, sw: SyncWorld
) -> None:
    # given a lesson of the class made by hand on Monday at 10:20 with the teacher in room 101
    await sw.lesson(session, start_time=dt.time(10, 20), end_time=dt.time(11, 5), room="101")
    await session.commit()
    token = await sw.token(gql, sw.admin)
    items = [
        lesson("L-0"),
        lesson("L-1", teacher="T-2", start="14:00", end="14:45"),  # not assigned to the class × subject
        lesson("L-2", day=HOLIDAY),  # a public holiday
        lesson("L-3", day=dt.date(2027, 7, 1)),  # after the year
        lesson("L-4", start="10:00", end="10:45"),  # the class and its teacher are busy (hand-made, 10:20)
        lesson("L-5", start="08:40", end="09:20"),  # overlaps L-0 of this batch
        lesson("L-6", start="11:00", end="10:00", room="x" * 33),
        lesson("L-7", teacher="NOPE"),
        {**lesson("L-8"), "classSourcedId": "NOPE"},
        lesson("L-9", day=HOLIDAY, allowOnHoliday=True, start="12:00", end="12:45"),  # a make-up day: fine
    ]
    payload = await sync(gql, token, "syncLessons", sw, items)
    assert problems(payload) == [
        ("items.6.endTime", "INVALID"),
        ("items.6.room", "TOO_LONG"),
        ("items.7.teacherSourcedId", "NOT_FOUND"),
        ("items.8.classSourcedId", "NOT_FOUND"),
        ("items.1.teacherSourcedId", "INVALID"),
        ("items.2.date", "INVALID"),
        ("items.3.date", "INVALID"),
        ("items.4.classSourcedId", "CONFLICT"),
        ("items.4.teacherSourcedId", "CONFLICT"),
        ("items.5.classSourcedId", "CONFLICT"),
        ("items.5.teacherSourcedId", "CONFLICT"),
    ]
    messages = {".".join(e["field"]): e["message"] for e in payload["userErrors"]}
    assert "items.0" in messages["items.5.classSourcedId"]
    assert await session.scalar(select(func.count(Lesson.id))) == 1


async def test_a_lessons_class_subject_and_teacher_stay(
    gql: GraphQLClient, session: AsyncSession, sw: SyncWorld
) -> None:
    token = await sw.token(gql, sw.admin)
    await sync(gql, token, "syncLessons", sw, [lesson("L-1")])
    payload = await sync(gql, token, "syncLessons", sw, [lesson("L-1", teacher="T-2")])
    assert problems(payload) == [("items.0.teacherSourcedId", "INVALID")]


async def test_a_lesson_made_by_hand_is_taken_over_not_booked_twice(
    gql: GraphQLClient, session: AsyncSession, sw: SyncWorld
) -> None:
    made = await sw.lesson(session, start_time=dt.time(8, 30), end_time=dt.time(9, 15), room=None)
    await session.commit()
    token = await sw.token(gql, sw.admin)
    payload = await sync(gql, token, "syncLessons", sw, [lesson("L-1", topic="Дроби")], selection=FIELDS)
    assert payload["userErrors"] == []
    assert payload["items"][0]["action"] == "UPDATED"
    assert payload["items"][0]["lesson"]["id"] == gid("Lesson", made.id)
    await session.refresh(made)
    assert (made.external_id, made.topic) == ("L-1", "Дроби")
    assert await session.scalar(select(func.count(Lesson.id))) == 1


async def test_a_dry_run_writes_nothing(gql: GraphQLClient, session: AsyncSession, sw: SyncWorld) -> None:
    token = await sw.token(gql, sw.admin)
    payload = await sync(gql, token, "syncLessons", sw, [lesson("L-1")], dry_run=True, selection=FIELDS)
    assert payload["applied"] is False
    assert payload["summary"] == {"created": 1, "updated": 0, "unchanged": 0}
    assert payload["items"][0]["lesson"] is None
    assert await session.scalar(select(func.count(Lesson.id))) == 0


@pytest.mark.parametrize("who", ["teacher", "parent", "operator", "foreign_admin"])
async def test_only_the_schools_admin_may_sync(
    gql: GraphQLClient, session: AsyncSession, sw: SyncWorld, who: str
) -> None:
    token = await sw.token(gql, getattr(sw, who))
    body = await gql.post(
        "mutation($i: SyncLessonsInput!) { syncLessons(input: $i) { applied } }",
        {"i": {"schoolId": gid("School", sw.school.id), "items": [lesson("L-1")]}},
        token=token,
    )
    assert error_codes(body) == ["FORBIDDEN"]
    assert await session.scalar(select(func.count(Lesson.id))) == 0
