"""syncAttendance over HTTP: marks written by sourcedId by markAttendance's rules, a mark
made by hand taken over, all or nothing, idempotent, and who may."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from ediary_gql.db.models.attendance import Attendance
from ediary_gql.db.models.audit import AuditEntry
from ediary_gql.db.models.enums import AttendanceStatus, LessonStatus, NotificationKind
from ediary_gql.db.models.lessons import Lesson
from ediary_gql.db.models.notifications import Notification
from ediary_gql.db.models.school_setup import RosterLink
from tests.diary_writes_support import error_codes
from tests.factories import make_attendance
from tests.support import GraphQLClient
from tests.sync_support import SyncWorld, gid, make_sync_world, sync

FIELDS = "items { index sourcedId action attendance { id status minutesLate reason sourcedId markedBy { id } } }"


@pytest.fixture
async def sw(session: AsyncSession) -> SyncWorld:
    return await make_sync_world(session)


@pytest.fixture
async def lessons(session: AsyncSession, sw: SyncWorld) -> list[Lesson]:
    return await sw.lessons(session, 3)


def mark(sid: str, child: str = "STU-1", lesson: str = "L-1", status: str = "PRESENT", **more: Any) -> dict[str, Any]:
    return {"sourcedId": sid, "childSourcedId": child, "lessonSourcedId": lesson, "status": status, **more}


def problems(payload: dict[str, Any]) -> list[tuple[str, str]]:
    return [(".".join(e["field"] or []), e["code"]) for e in payload["userErrors"]]


async def _absence_notices(session: AsyncSession, user_id: int) -> int:
    found = await session.scalar(
        select(func.count(Notification.id)).where(
            Notification.user_id == user_id, Notification.kind == NotificationKind.ATTENDANCE
        )
    )
    return int(found or 0)


async def test_marks_written_by_sourced_id_guardians_told_and_a_rerun_changes_nothing(
    gql: GraphQLClient, session: AsyncSession, sw: SyncWorld, lessons: list[Lesson]
) -> None:
    token = await sw.token(gql, sw.admin)
    items = [
        mark("A-1", status="LATE", minutesLate=10, reason="  Автобус "),
        mark("A-2", child="STU-2"),
        mark("A-3", lesson="L-2", status="ABSENT"),
    ]
    payload = await sync(gql, token, "syncAttendance", sw, items, selection=FIELDS)
    assert payload["userErrors"] == []
    assert payload["summary"] == {"created": 3, "updated": 0, "unchanged": 0}
    late = payload["items"][0]["attendance"]
    assert (late["status"], late["minutesLate"], late["reason"], late["sourcedId"]) == ("LATE", 10, "Автобус", "A-1")
    assert late["markedBy"]["id"] == gid("User", sw.admin.id)
    # the child's guardian hears of the lateness and the absence, the classmate's of nothing
    assert await _absence_notices(session, sw.parent.id) == 2
    assert await _absence_notices(session, sw.other_parent.id) == 0
    # one audit entry for the call, with each lesson's changes as markAttendance gives them
    entry = await session.scalar(select(AuditEntry).where(AuditEntry.action == "syncAttendance"))
    assert entry is not None
    assert entry.actor_user_id == sw.admin.id
    assert entry.after is not None
    assert [(c["lessonId"], [m["to"] for m in c["changes"]]) for c in entry.after["changes"]] == [
        (gid("Lesson", lessons[0].id), ["LATE", "PRESENT"]),
        (gid("Lesson", lessons[1].id), ["ABSENT"]),
    ]
    assert await session.scalar(select(func.count(AuditEntry.id)).where(AuditEntry.action == "markAttendance")) == 0

    again = await sync(gql, token, "syncAttendance", sw, items)
    assert again["summary"] == {"created": 0, "updated": 0, "unchanged": 3}
    assert await _absence_notices(session, sw.parent.id) == 2
    assert await session.scalar(select(func.count(Attendance.id))) == 3

    # a changed status is an update; guardians are told only of what became ABSENT or LATE
    changed = await sync(
        gql, token, "syncAttendance", sw, [mark("A-1", status="PRESENT"), mark("A-2", child="STU-2", status="SICK")]
    )
    assert changed["summary"] == {"created": 0, "updated": 2, "unchanged": 0}
    assert await _absence_notices(session, sw.other_parent.id) == 0


async def test_a_mark_made_by_hand_is_taken_over_and_another_sourced_id_is_refused(
    gql: GraphQLClient, session: AsyncSession, sw: SyncWorld, lessons: list[Lesson]
) -> None:
    # given the teacher marked the child present at L-1 by hand
    await make_attendance(
        session,
        child_id=sw.child.id,
        lesson_id=lessons[0].id,
        status=AttendanceStatus.PRESENT,
        marked_by_id=sw.teacher.id,
    )
    await session.commit()
    token = await sw.token(gql, sw.admin)
    # when the integrator sends the same mark under its sourcedId
    payload = await sync(gql, token, "syncAttendance", sw, [mark("A-1")], selection=FIELDS)
    # then that mark takes the sourcedId (and keeps who marked it)
    assert payload["userErrors"] == []
    assert payload["items"][0]["action"] == "UPDATED"
    assert payload["items"][0]["attendance"]["sourcedId"] == "A-1"
    assert payload["items"][0]["attendance"]["markedBy"]["id"] == gid("User", sw.teacher.id)
    assert await session.scalar(select(func.count(Attendance.id))) == 1
    # and another sourcedId for that child and lesson is refused
    other = await sync(gql, token, "syncAttendance", sw, [mark("A-9")])
    assert problems(other) == [("items.0.sourcedId", "CONFLICT")]


async def test_every_refused_item_is_named_and_nothing_is_written(
    gql: GraphQLClient, session: AsyncSession, sw: SyncWorld, lessons: list[Lesson]
) -> None:
    lessons[2].status = LessonStatus.CANCELLED
    session.add(
        Lesson(
            school_id=sw.school.id,
            class_id=sw.school_class.id,
            subject_id=sw.subject.id,
            teacher_id=sw.teacher.id,
            date=dt.date(2027, 3, 1),
            start_time=dt.time(8, 30),
            end_time=dt.time(9, 15),
            external_id="L-FUTURE",
        )
    )
    await session.commit()
    token = await sw.token(gql, sw.admin)
    items = [
        mark("A-0"),
        mark("A-1", status="LATE"),
        mark("A-2", status="LATE", minutesLate=301),
        mark("A-3", minutesLate=5),
        mark("A-4", lesson="L-3"),
        mark("A-5", lesson="L-FUTURE"),
        mark("A-6", child="NOPE", reason="x" * 501),
        mark("A-7", lesson="L-2"),
        mark("A-8", lesson="L-2"),
    ]
    payload = await sync(gql, token, "syncAttendance", sw, items)
    assert problems(payload) == [
        ("items.1.childSourcedId", "DUPLICATE"),
        ("items.2.childSourcedId", "DUPLICATE"),
        ("items.3.childSourcedId", "DUPLICATE"),
        ("items.4.lessonSourcedId", "INVALID_STATE"),
        ("items.5.lessonSourcedId", "INVALID_STATE"),
        ("items.6.childSourcedId", "NOT_FOUND"),
        ("items.6.reason", "TOO_LONG"),
        ("items.8.childSourcedId", "DUPLICATE"),
    ]
    assert await session.scalar(select(func.count(Attendance.id))) == 0
    assert await session.scalar(select(func.count(RosterLink.id)).where(RosterLink.kind == "ATTENDANCE")) == 0


async def test_a_marks_fields_follow_mark_attendance(
    gql: GraphQLClient, session: AsyncSession, sw: SyncWorld, lessons: list[Lesson]
) -> None:
    token = await sw.token(gql, sw.admin)
    items = [
        mark("A-1", status="LATE"),
        mark("A-2", child="STU-2", status="LATE", minutesLate=301),
        mark("A-3", lesson="L-2", minutesLate=5),
    ]
    payload = await sync(gql, token, "syncAttendance", sw, items)
    assert problems(payload) == [
        ("items.0.minutesLate", "REQUIRED"),
        ("items.1.minutesLate", "INVALID"),
        ("items.2.minutesLate", "INVALID"),
    ]


async def test_a_dry_run_writes_nothing(
    gql: GraphQLClient, session: AsyncSession, sw: SyncWorld, lessons: list[Lesson]
) -> None:
    token = await sw.token(gql, sw.admin)
    payload = await sync(
        gql, token, "syncAttendance", sw, [mark("A-1", status="ABSENT")], dry_run=True, selection=FIELDS
    )
    assert payload["applied"] is False
    assert payload["items"][0]["action"] == "CREATED"
    assert payload["items"][0]["attendance"] is None
    assert await session.scalar(select(func.count(Attendance.id))) == 0
    assert await _absence_notices(session, sw.parent.id) == 0


@pytest.mark.parametrize("who", ["teacher", "parent", "operator", "foreign_admin"])
async def test_only_the_schools_admin_may_sync(
    gql: GraphQLClient, session: AsyncSession, sw: SyncWorld, lessons: list[Lesson], who: str
) -> None:
    token = await sw.token(gql, getattr(sw, who))
    body = await gql.post(
        "mutation($i: SyncAttendanceInput!) { syncAttendance(input: $i) { applied } }",
        {"i": {"schoolId": gid("School", sw.school.id), "items": [mark("A-1")]}},
        token=token,
    )
    assert error_codes(body) == ["FORBIDDEN"]
    assert await session.scalar(select(func.count(Attendance.id))) == 0
