"""The change feed (`changes`): every create, update and delete of a school's lessons,
grades, attendance marks, homework and enrolments, in commit order, paged by a durable
cursor; for the school's admins (and its integrations: test_changes_integration.py)."""

from __future__ import annotations

import asyncio

from sqlalchemy.ext.asyncio import AsyncSession

from ediary_gql.context import AppServices
from ediary_gql.db.models.enums import StaffRole
from ediary_gql.db.models.lessons import Lesson
from ediary_gql.events import cursors
from tests.changes_support import (
    CHANGES_WITH_RECORDS,
    ENROL,
    changes,
    correct,
    create_lesson,
    delete,
    grade,
    homework,
    kinds,
    mark,
    school_gid,
)
from tests.diary_writes_support import MONDAY, World, error_codes, gid
from tests.factories import make_school, make_staff_membership
from tests.support import GraphQLClient

UPDATE = "mutation($i: UpdateLessonInput!) { updateLesson(input: $i) { userErrors { code } } }"


async def test_every_create_update_and_delete_of_the_school_is_in_the_feed_in_commit_order(
    gql: GraphQLClient, session: AsyncSession, world: World, lesson: Lesson
) -> None:
    # given the school's admin, who starts reading at the feed's end
    admin = await world.token(gql, world.admin)
    start = (await changes(gql, admin))["cursor"]
    teacher = await world.token(gql, world.teacher)
    # when the teacher creates a lesson, grades, corrects, marks twice, gives homework, moves
    # the lesson and deletes the grade, and the admin enrols a child
    new_lesson = await create_lesson(gql, teacher, world)
    grade_id = await grade(gql, teacher, world, lesson)
    await correct(gql, teacher, grade_id, "4")
    lesson_gid = gid("Lesson", lesson.id)
    marks = await mark(gql, teacher, lesson_gid, {world.child.id: "PRESENT", world.other_child.id: "ABSENT"})
    await mark(gql, teacher, lesson_gid, {world.child.id: "PRESENT", world.other_child.id: "LATE"})
    homework_id = await homework(gql, teacher, lesson_gid)
    data = await gql.data(UPDATE, {"i": {"lessonId": new_lesson, "topic": "Дроби"}}, token=teacher)
    assert data["updateLesson"]["userErrors"] == []
    await delete(gql, teacher, grade_id)
    data = await gql.data(
        ENROL,
        {
            "i": {
                "classId": gid("SchoolClass", world.school_class.id),
                "startsOn": MONDAY.isoformat(),
                "child": {
                    "lastName": "Петров",
                    "firstName": "Иван",
                    "birthDate": "2015-03-14",
                    "sex": "MALE",
                    "snils": "112-233-445 95",
                },
            }
        },
        token=admin,
    )
    assert data["enrollChild"]["userErrors"] == [], data
    enrollment_id = data["enrollChild"]["enrollment"]["id"]

    # then the admin's feed lists each change once, in the order they were made
    page = await changes(gql, admin, after=start)
    child_mark, other_mark = marks[gid("Child", world.child.id)], marks[gid("Child", world.other_child.id)]
    assert kinds(page) == [
        ("LESSON", "CREATED", new_lesson),
        ("GRADE", "CREATED", grade_id),
        ("GRADE", "UPDATED", grade_id),
        *sorted([("ATTENDANCE", "CREATED", child_mark), ("ATTENDANCE", "CREATED", other_mark)]),
        ("ATTENDANCE", "UPDATED", other_mark),  # the unchanged mark is no change
        ("HOMEWORK", "CREATED", homework_id),
        ("LESSON", "UPDATED", new_lesson),
        ("GRADE", "DELETED", grade_id),
        ("ENROLLMENT", "CREATED", enrollment_id),
    ]
    assert page["hasMore"] is False
    first = page["changes"][0]
    assert first["eventType"] == "lesson.created"
    assert first["schoolId"] == school_gid(world)
    assert first["cursor"] == cursors.encode(int(first["eventId"]))
    positions = [int(c["eventId"]) for c in page["changes"]]
    assert positions == sorted(positions)
    assert len(set(positions)) == len(positions)
    # and each record is there to read as it is now (a deleted grade is kept, marked deleted)
    records = await gql.data(CHANGES_WITH_RECORDS, {"after": start}, token=admin)
    found = {(c["type"], c["action"]): c["record"] for c in records["changes"]["changes"]}
    assert found[("LESSON", "CREATED")] == {"id": new_lesson, "__typename": "Lesson"}
    assert found[("HOMEWORK", "CREATED")] == {"id": homework_id, "__typename": "Homework"}
    assert found[("GRADE", "DELETED")] == {"id": grade_id, "__typename": "Grade"}


async def test_the_feed_pages_by_cursor_and_a_poll_at_its_end_is_empty(
    gql: GraphQLClient, world: World, lesson: Lesson
) -> None:
    # given five changes after the admin's cursor
    admin = await world.token(gql, world.admin)
    start = (await changes(gql, admin))["cursor"]
    teacher = await world.token(gql, world.teacher)
    made = [await create_lesson(gql, teacher, world, start=f"{10 + n}:00") for n in range(5)]
    # when the admin reads two at a time
    seen: list[str] = []
    cursor, pages = start, 0
    while True:
        page = await changes(gql, admin, after=cursor, first=2)
        seen += [c["recordId"] for c in page["changes"]]
        cursor, pages = page["cursor"], pages + 1
        if not page["hasMore"]:
            break
    # then the pages hold them all, in order, once
    assert seen == made
    assert pages == 3
    # and polling from the end finds nothing, and keeps the place
    again = await changes(gql, admin, after=cursor)
    assert again == {"changes": [], "cursor": cursor, "hasMore": False}
    # until the next change, which comes alone
    newer = await create_lesson(gql, teacher, world, start="16:00")
    assert kinds(await changes(gql, admin, after=cursor)) == [("LESSON", "CREATED", newer)]


async def test_types_filter_the_feed(gql: GraphQLClient, world: World, lesson: Lesson) -> None:
    admin = await world.token(gql, world.admin)
    start = (await changes(gql, admin))["cursor"]
    teacher = await world.token(gql, world.teacher)
    await create_lesson(gql, teacher, world)
    grade_id = await grade(gql, teacher, world, lesson)
    page = await changes(gql, admin, after=start, types=["GRADE", "HOMEWORK"])
    assert kinds(page) == [("GRADE", "CREATED", grade_id)]


async def test_the_feed_is_the_schools_own(
    gql: GraphQLClient, session: AsyncSession, world: World, lesson: Lesson
) -> None:
    # given a change at the world's school
    admin = await world.token(gql, world.admin)
    start = (await changes(gql, admin))["cursor"]
    await grade(gql, await world.token(gql, world.teacher), world, lesson)
    # then the other school's admin, reading their own feed, does not see it
    foreign = await world.token(gql, world.foreign_admin)
    assert kinds(await changes(gql, foreign, after=start)) == []
    # and each who is not the school's admin is refused its feed
    for user in (world.foreign_admin, world.teacher, world.parent, world.student, world.operator):
        token = await world.token(gql, user)
        body = await gql.post(
            "query($s: ID) { changes(schoolId: $s) { cursor } }", {"s": school_gid(world)}, token=token
        )
        assert error_codes(body) == ["FORBIDDEN"], (user.id, body)
    body = await gql.post("query { changes { cursor } }")
    assert error_codes(body) == ["UNAUTHENTICATED"]


async def test_an_admin_of_several_schools_names_the_school(
    gql: GraphQLClient, session: AsyncSession, world: World, lesson: Lesson
) -> None:
    # given an admin of a second school too
    other = await make_school(session)
    await make_staff_membership(session, user_id=world.admin.id, school_id=other.id, role=StaffRole.SCHOOL_ADMIN)
    await session.commit()
    admin = await world.token(gql, world.admin)
    # then the feed must name its school
    body = await gql.post("query { changes { cursor } }", token=admin)
    assert error_codes(body) == ["REQUIRED"]
    # and each school's feed has its own changes
    start = (await changes(gql, admin, school=school_gid(world)))["cursor"]
    grade_id = await grade(gql, await world.token(gql, world.teacher), world, lesson)
    assert kinds(await changes(gql, admin, school=school_gid(world), after=start)) == [("GRADE", "CREATED", grade_id)]
    assert kinds(await changes(gql, admin, school=gid("School", other.id), after=start)) == []


async def test_a_cursor_not_ours_is_refused(gql: GraphQLClient, world: World) -> None:
    admin = await world.token(gql, world.admin)
    body = await gql.post('query { changes(after: "nonsense") { cursor } }', token=admin)
    assert error_codes(body) == ["INVALID"]
    beyond = cursors.encode(10**12)  # another database's
    body = await gql.post("query($a: String) { changes(after: $a) { cursor } }", {"a": beyond}, token=admin)
    assert error_codes(body) == ["CURSOR_EXPIRED"]
    body = await gql.post("query { changes(first: 0) { cursor } }", token=admin)
    assert error_codes(body) == ["INVALID"]


async def test_changes_made_at_once_by_several_requests_are_each_listed_once(
    gql: GraphQLClient, app_services: AppServices, world: World, lesson: Lesson
) -> None:
    # given many changes made at once, by several requests
    admin = await world.token(gql, world.admin)
    start = (await changes(gql, admin))["cursor"]
    teacher = await world.token(gql, world.teacher)
    made = await asyncio.gather(*(create_lesson(gql, teacher, world, start=f"{10 + n:02d}:00") for n in range(8)))
    # then the feed has each once; a reader that follows page by page misses none
    seen: list[str] = []
    cursor = start
    for _ in range(20):
        page = await changes(gql, admin, after=cursor, first=1)
        seen += [c["recordId"] for c in page["changes"]]
        cursor = page["cursor"]
        if not page["hasMore"]:
            break
    assert sorted(seen) == sorted(made)
    assert len(seen) == len(set(seen))
