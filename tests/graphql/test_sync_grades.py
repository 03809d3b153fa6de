"""syncGrades over HTTP: grades entered and corrected by sourcedId by enterGrade's and
correctGrade's rules, all or nothing, idempotent, a dry run, and who may."""

from __future__ import annotations

import asyncio
import datetime as dt
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from ediary_gql.db.models.audit import AuditEntry
from ediary_gql.db.models.enums import GradeAction, LessonStatus, NotificationKind
from ediary_gql.db.models.grades import Grade, GradeRevision
from ediary_gql.db.models.lessons import Lesson
from ediary_gql.db.models.notifications import Notification
from ediary_gql.db.models.school_setup import RosterLink
from tests.diary_writes_support import error_codes
from tests.factories import make_child, make_enrollment, make_school_class
from tests.support import GraphQLClient
from tests.sync_support import SyncWorld, gid, make_sync_world, sync

GRADE_FIELDS = (
    "items { index sourcedId action grade { id value weight comment sourcedId teacher { id } child { id } } }"
)


@pytest.fixture
async def sw(session: AsyncSession) -> SyncWorld:
    return await make_sync_world(session)


@pytest.fixture
async def lessons(session: AsyncSession, sw: SyncWorld) -> list[Lesson]:
    return await sw.lessons(session, 3)


def grade(sid: str, child: str = "STU-1", lesson: str = "L-1", value: str = "5", **more: Any) -> dict[str, Any]:
    return {"sourcedId": sid, "childSourcedId": child, "lessonSourcedId": lesson, "value": value, **more}


def problems(payload: dict[str, Any]) -> list[tuple[str, str]]:
    return [(".".join(e["field"] or []), e["code"]) for e in payload["userErrors"]]


async def test_grades_entered_by_sourced_id_then_a_rerun_changes_nothing(
    gql: GraphQLClient, session: AsyncSession, sw: SyncWorld, lessons: list[Lesson]
) -> None:
    # given the school's admin
    token = await sw.token(gql, sw.admin)
    items = [
        grade("G-1", value="5", controlType="TEST", comment="Контрольная"),
        grade("G-2", child="STU-2", value="4"),
        grade("G-3", lesson="L-2", value="PASS"),
    ]
    # when three grades are synced
    payload = await sync(gql, token, "syncGrades", sw, items, selection=GRADE_FIELDS)
    # then each is entered as enterGrade enters one, by the admin, with its sourcedId
    assert payload["userErrors"] == []
    assert payload["applied"] is True
    assert payload["summary"] == {"created": 3, "updated": 0, "unchanged": 0}
    first = payload["items"][0]
    assert (first["index"], first["sourcedId"], first["action"]) == (0, "G-1", "CREATED")
    assert first["grade"]["value"] == "5"
    assert first["grade"]["weight"] == "2.00"
    assert first["grade"]["sourcedId"] == "G-1"
    assert first["grade"]["teacher"]["id"] == gid("User", sw.admin.id)
    assert payload["items"][1]["grade"]["child"]["id"] == gid("Child", sw.other_child.id)
    rows = list(await session.scalars(select(Grade).order_by(Grade.id)))
    assert [(g.value, g.lesson_id, g.period_id, g.graded_on) for g in rows] == [
        ("5", lessons[0].id, sw.period.id, lessons[0].date),
        ("4", lessons[0].id, sw.period.id, lessons[0].date),
        ("PASS", lessons[1].id, sw.period.id, lessons[1].date),
    ]
    revisions = await session.scalars(select(GradeRevision.action))
    assert list(revisions) == [GradeAction.CREATED] * 3
    # and one audit entry for the call: who (the admin), the counts, each grade as entered
    entry = await session.scalar(select(AuditEntry).where(AuditEntry.action == "syncGrades"))
    assert entry is not None
    assert entry.actor_user_id == sw.admin.id
    assert entry.after is not None
    assert (entry.after["created"], entry.after["updated"], entry.after["unchanged"]) == (3, 0, 0)
    assert [(c["sourcedId"], c["gradeId"], c["after"]["value"]) for c in entry.after["changes"]] == [
        (i["sourcedId"], i["grade"]["id"], i["grade"]["value"]) for i in payload["items"]
    ]
    # and the families are told, as of a grade a teacher enters
    notices = await session.scalar(
        select(func.count(Notification.id)).where(
            Notification.user_id == sw.parent.id, Notification.kind == NotificationKind.GRADE
        )
    )
    assert notices == 1

    # when the same items are synced again
    again = await sync(gql, token, "syncGrades", sw, items)
    # then nothing changes
    assert again["summary"] == {"created": 0, "updated": 0, "unchanged": 3}
    assert await session.scalar(select(func.count(Grade.id))) == 3
    assert await session.scalar(select(func.count(GradeRevision.id))) == 3


async def test_a_known_sourced_id_is_corrected_with_its_history(
    gql: GraphQLClient, session: AsyncSession, sw: SyncWorld, lessons: list[Lesson]
) -> None:
    token = await sw.token(gql, sw.admin)
    await sync(gql, token, "syncGrades", sw, [grade("G-1", value="3"), grade("G-2", value="4")])
    # when one grade comes again with another value (and a reason), the other with none
    payload = await sync(
        gql,
        token,
        "syncGrades",
        sw,
        [grade("G-1", value="4", reason="Пересдача"), grade("G-2", value="5")],
        selection=GRADE_FIELDS,
    )
    assert payload["userErrors"] == []
    assert payload["summary"] == {"created": 0, "updated": 2, "unchanged": 0}
    assert [i["grade"]["value"] for i in payload["items"]] == ["4", "5"]
    # then the history keeps the previous values, with the reasons (a default one when none)
    revisions = list(
        await session.execute(
            select(GradeRevision.old_value, GradeRevision.new_value, GradeRevision.reason)
            .where(GradeRevision.action == GradeAction.CORRECTED)
            .order_by(GradeRevision.id)
        )
    )
    assert [tuple(r) for r in revisions] == [("3", "4", "Пересдача"), ("4", "5", "Исправлено синхронизацией")]
    assert await session.scalar(select(func.count(Grade.id))) == 2
    # and the rows themselves hold the new values
    assert list(await session.scalars(select(Grade.value).order_by(Grade.id))) == ["4", "5"]


async def test_every_refused_item_is_named_by_its_index_and_nothing_is_written(
    gql: GraphQLClient, session: AsyncSession, sw: SyncWorld, lessons: list[Lesson]
) -> None:
    token = await sw.token(gql, sw.admin)
    # given a lesson not held yet and a cancelled one
    future = Lesson(
        school_id=sw.school.id,
        class_id=sw.school_class.id,
        subject_id=sw.subject.id,
        teacher_id=sw.teacher.id,
        date=dt.date(2027, 3, 1),
        start_time=dt.time(8, 30),
        end_time=dt.time(9, 15),
        external_id="L-FUTURE",
    )
    session.add(future)
    lessons[2].status = LessonStatus.CANCELLED
    # and a child of another class
    other_class = await make_school_class(session, school_id=sw.school.id, academic_year_id=sw.year.id)
    outsider = await make_child(session, school_id=sw.school.id, external_id="STU-OTHER")
    await make_enrollment(session, child_id=outsider.id, class_id=other_class.id)
    await session.commit()
    items = [
        grade("G-0"),
        grade("G-1", value="6"),
        grade("G-2", child="NOPE"),
        grade("G-3", lesson="L-FUTURE"),
        grade("G-4", lesson="L-3"),
        grade("G-5", child="STU-OTHER"),
        grade("G-0"),
        grade("bad id!"),
        grade("G-8", controlType="NOPE", comment="x" * 1001),
    ]
    payload = await sync(gql, token, "syncGrades", sw, items)
    assert payload["applied"] is False
    assert payload["summary"] is None
    assert problems(payload) == [
        ("items.6.sourcedId", "DUPLICATE"),
        ("items.7.sourcedId", "INVALID"),
        ("items.1.value", "INVALID"),
        ("items.2.childSourcedId", "NOT_FOUND"),
        ("items.3.lessonSourcedId", "INVALID_STATE"),
        ("items.4.lessonSourcedId", "INVALID_STATE"),
        ("items.5.childSourcedId", "NOT_FOUND"),
        ("items.8.controlType", "NOT_FOUND"),
        ("items.8.comment", "TOO_LONG"),
    ]
    assert await session.scalar(select(func.count(Grade.id))) == 0
    assert await session.scalar(select(func.count(RosterLink.id)).where(RosterLink.kind == "GRADE")) == 0


async def test_a_dry_run_reports_and_writes_nothing(
    gql: GraphQLClient, session: AsyncSession, sw: SyncWorld, lessons: list[Lesson]
) -> None:
    token = await sw.token(gql, sw.admin)
    await sync(gql, token, "syncGrades", sw, [grade("G-1", value="3")])
    payload = await sync(
        gql, token, "syncGrades", sw, [grade("G-1", value="4"), grade("G-2")], dry_run=True, selection=GRADE_FIELDS
    )
    assert payload["applied"] is False
    assert payload["userErrors"] == []
    assert payload["summary"] == {"created": 1, "updated": 1, "unchanged": 0}
    assert [(i["action"], i["grade"]) for i in payload["items"]] == [("UPDATED", None), ("CREATED", None)]
    assert list(await session.scalars(select(Grade.value))) == ["3"]
    assert await session.scalar(select(func.count(AuditEntry.id)).where(AuditEntry.action == "syncGrades")) == 1


async def test_a_deleted_grade_and_a_grade_moved_to_another_child_are_refused(
    gql: GraphQLClient, session: AsyncSession, sw: SyncWorld, lessons: list[Lesson]
) -> None:
    token = await sw.token(gql, sw.admin)
    await sync(gql, token, "syncGrades", sw, [grade("G-1"), grade("G-2")])
    deleted = await session.scalar(
        select(Grade)
        .join(RosterLink, RosterLink.target_id == Grade.id)
        .where(RosterLink.kind == "GRADE", RosterLink.external_id == "G-1")
    )
    assert deleted is not None
    deleted.deleted_at = dt.datetime.now(dt.UTC)
    await session.commit()
    payload = await sync(gql, token, "syncGrades", sw, [grade("G-1", value="4"), grade("G-2", child="STU-2")])
    assert problems(payload) == [("items.0.sourcedId", "INVALID_STATE"), ("items.1.childSourcedId", "INVALID")]


@pytest.mark.parametrize("who", ["teacher", "other_teacher", "parent", "operator", "foreign_admin"])
async def test_only_the_schools_admin_may_sync(
    gql: GraphQLClient, session: AsyncSession, sw: SyncWorld, lessons: list[Lesson], who: str
) -> None:
    token = await sw.token(gql, getattr(sw, who))
    body = await gql.post(
        "mutation($i: SyncGradesInput!) { syncGrades(input: $i) { applied userErrors { code } } }",
        {"i": {"schoolId": gid("School", sw.school.id), "items": [grade("G-1")]}},
        token=token,
    )
    assert error_codes(body) == ["FORBIDDEN"]
    assert await session.scalar(select(func.count(Grade.id))) == 0


async def test_the_batch_is_bounded(gql: GraphQLClient, sw: SyncWorld) -> None:
    token = await sw.token(gql, sw.admin)
    empty = await sync(gql, token, "syncGrades", sw, [])
    assert problems(empty) == [("items", "REQUIRED")]
    many = await sync(gql, token, "syncGrades", sw, [grade(f"G-{n}") for n in range(1001)])
    assert problems(many) == [("items", "INVALID")]


async def test_two_calls_at_once_keep_one_grade_per_sourced_id(
    gql: GraphQLClient, session: AsyncSession, sw: SyncWorld, lessons: list[Lesson]
) -> None:
    token = await sw.token(gql, sw.admin)
    items = [grade(f"G-{n}", lesson=f"L-{n % 3 + 1}") for n in range(50)]
    first, second = await asyncio.gather(*(sync(gql, token, "syncGrades", sw, items) for _ in range(2)))
    # each either wrote the batch (the later one finding it all there) or was refused whole, to be sent again
    for payload in (first, second):
        assert payload["applied"] or problems(payload) == [("items", "CONFLICT")]
    assert first["applied"] or second["applied"]
    assert await session.scalar(select(func.count(Grade.id))) == 50
    assert await session.scalar(select(func.count(RosterLink.id)).where(RosterLink.kind == "GRADE")) == 50
