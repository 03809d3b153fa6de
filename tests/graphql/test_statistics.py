"""attendanceStatistics and gradeStatistics over real HTTP: the figures against the marks and
grades entered through the API and the diary's own averages, each grouping, the threshold,
who may ask, bad arguments, and statement counts flat in the school's size."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from ediary_gql.db.models.enums import AttendanceStatus, LessonStatus, StaffRole
from ediary_gql.db.models.lessons import Lesson
from tests import diary_support
from tests.diary_writes_support import MONDAY, World, error_codes, gid
from tests.factories import (
    make_attendance,
    make_staff_membership,
    make_subject,
    make_teaching_assignment,
    make_user,
)
from tests.support import GraphQLClient, StatementCounter

COUNTS = "present absent late excused sick marked lessons attendanceRate"
ATTENDANCE = f"""
query($school: ID, $class: ID, $from: Date!, $to: Date!, $by: AttendanceGroupBy!, $t: Float) {{
  attendanceStatistics(schoolId: $school, classId: $class, from: $from, to: $to, groupBy: $by, threshold: $t) {{
    groupBy attendanceRate
    total {{ {COUNTS} }}
    groups {{ classId date childId subjectId label attendanceRate counts {{ {COUNTS} }} }}
    missingOver {{ childId fullName missed marked share }}
  }}
}}"""
GRADES = """
query($c: ID!, $p: ID!) {
  gradeStatistics(classId: $c, periodId: $p) {
    classId periodId
    subjects { subjectId subjectName distribution { value count } average weightedAverage count }
  }
}"""
AVERAGES = """
query($id: ID!, $p: ID!) {
  child(id: $id) { averages(periodId: $p) { subject { id } average weightedAverage count } }
}"""
MARK = """
mutation($i: MarkAttendanceInput!) { markAttendance(input: $i) { userErrors { field code message } } }"""
ENTER = """
mutation($i: EnterGradeInput!) { enterGrade(input: $i) { grade { id } userErrors { field code message } } }"""
WEEK = {"from": MONDAY.isoformat(), "to": (MONDAY + dt.timedelta(days=6)).isoformat()}


def _full_name(person: Any) -> str:
    return " ".join(p for p in (person.last_name, person.first_name, person.middle_name) if p)


async def _mark(gql: GraphQLClient, token: str, lesson: Lesson, **marks: str) -> None:
    """marks: gid of child → status, through markAttendance."""
    given = [
        {"childId": child, "status": status, **({"minutesLate": 5} if status == "LATE" else {})}
        for child, status in marks.items()
    ]
    data = await gql.data(MARK, {"i": {"lessonId": gid("Lesson", lesson.id), "marks": given}}, token=token)
    assert data["markAttendance"]["userErrors"] == []


async def _enter(gql: GraphQLClient, token: str, child: str, lesson: Lesson, value: str, control: str | None) -> None:
    given: dict[str, Any] = {"childId": child, "lessonId": gid("Lesson", lesson.id), "value": value}
    if control is not None:
        given["controlTypeId"] = control
    data = await gql.data(ENTER, {"i": given}, token=token)
    assert data["enterGrade"]["userErrors"] == []


async def _marked_week(gql: GraphQLClient, session: AsyncSession, world: World) -> dict[str, Any]:
    """Three held lessons marked through the API (maths Mon and Tue, Russian Tue), one held
    and unmarked (maths Wed), one cancelled with a mark (left out)."""
    russian = await make_subject(session, school_id=world.school.id, name="Русский язык")
    await make_teaching_assignment(
        session, teacher_id=world.teacher.id, class_id=world.school_class.id, subject_id=russian.id
    )
    tuesday, wednesday = MONDAY + dt.timedelta(days=1), MONDAY + dt.timedelta(days=2)
    maths_mon = await world.lesson(session)
    maths_tue = await world.lesson(session, date=tuesday)
    russian_tue = await world.lesson(session, date=tuesday, subject_id=russian.id, room="102")
    await world.lesson(session, date=wednesday)
    cancelled = await world.lesson(session, date=wednesday, room="103", status=LessonStatus.CANCELLED)
    await make_attendance(session, lesson_id=cancelled.id, child_id=world.child.id, status=AttendanceStatus.ABSENT)
    await session.commit()
    teacher = await world.token(gql, world.teacher)
    child, other = gid("Child", world.child.id), gid("Child", world.other_child.id)
    await _mark(gql, teacher, maths_mon, **{child: "PRESENT", other: "LATE"})
    await _mark(gql, teacher, maths_tue, **{child: "ABSENT", other: "PRESENT"})
    await _mark(gql, teacher, russian_tue, **{child: "SICK", other: "EXCUSED"})
    return {"russian": russian, "tuesday": tuesday, "wednesday": wednesday, "child": child, "other": other}


def _counts(present: int, absent: int, late: int, excused: int, sick: int, lessons: int) -> dict[str, Any]:
    marked = present + absent + late + excused + sick
    rate = (present + late) / marked if marked else None
    return {
        "present": present,
        "absent": absent,
        "late": late,
        "excused": excused,
        "sick": sick,
        "marked": marked,
        "lessons": lessons,
        "attendanceRate": rate,
    }


async def _stats(gql: GraphQLClient, token: str, **variables: Any) -> dict[str, Any]:
    data = await gql.data(ATTENDANCE, {**WEEK, **variables}, token=token)
    stats: dict[str, Any] = data["attendanceStatistics"]
    return stats


async def test_attendance_counts_the_marks_entered_in_every_grouping(
    gql: GraphQLClient, session: AsyncSession, world: World
) -> None:
    week = await _marked_week(gql, session, world)
    admin = await world.token(gql, world.admin)
    school = gid("School", world.school.id)

    by_class = await _stats(gql, admin, school=school, by="CLASS")
    # 6 marks at 4 held lessons; present + late over marked
    assert by_class["total"] == _counts(present=2, absent=1, late=1, excused=1, sick=1, lessons=4)
    assert by_class["attendanceRate"] == 0.5
    [group] = by_class["groups"]
    assert (group["classId"], group["label"]) == (gid("SchoolClass", world.school_class.id), world.school_class.name)
    assert group["counts"] == by_class["total"]
    assert group["date"] is group["childId"] is group["subjectId"] is None

    by_day = await _stats(gql, admin, school=school, by="DAY")
    assert [(g["date"], g["label"]) for g in by_day["groups"]] == [
        (d.isoformat(), d.isoformat()) for d in (MONDAY, week["tuesday"], week["wednesday"])
    ]
    assert [g["counts"] for g in by_day["groups"]] == [
        _counts(present=1, absent=0, late=1, excused=0, sick=0, lessons=1),
        _counts(present=1, absent=1, late=0, excused=1, sick=1, lessons=2),
        _counts(present=0, absent=0, late=0, excused=0, sick=0, lessons=1),
    ]

    by_child = await _stats(gql, admin, school=school, by="CHILD")
    groups = {g["childId"]: g for g in by_child["groups"]}
    assert groups[week["child"]]["label"] == _full_name(world.child)
    assert groups[week["child"]]["counts"] == _counts(present=1, absent=1, late=0, excused=0, sick=1, lessons=3)
    assert groups[week["other"]]["counts"] == _counts(present=1, absent=0, late=1, excused=1, sick=0, lessons=3)
    assert len(groups) == 2

    by_subject = await _stats(gql, admin, school=school, by="SUBJECT")
    assert [(g["subjectId"], g["label"]) for g in by_subject["groups"]] == [
        (gid("Subject", world.subject.id), "Математика"),
        (gid("Subject", week["russian"].id), "Русский язык"),
    ]
    assert [g["counts"] for g in by_subject["groups"]] == [
        _counts(present=2, absent=1, late=1, excused=0, sick=0, lessons=3),
        _counts(present=0, absent=0, late=0, excused=1, sick=1, lessons=1),
    ]
    # the class's own teacher reads the same figures for the class
    teacher = await world.token(gql, world.teacher)
    for_class = await _stats(gql, teacher, **{"class": gid("SchoolClass", world.school_class.id)}, by="SUBJECT")
    assert for_class["groups"] == by_subject["groups"]
    assert for_class["total"] == by_class["total"]


async def test_children_missing_more_than_the_threshold(
    gql: GraphQLClient, session: AsyncSession, world: World
) -> None:
    week = await _marked_week(gql, session, world)
    admin = await world.token(gql, world.admin)
    school = gid("School", world.school.id)

    default = await _stats(gql, admin, school=school, by="CLASS")
    # the child missed 2 of 3 (absent, sick), the classmate 1 of 3 (excused): largest share first
    assert default["missingOver"] == [
        {"childId": week["child"], "fullName": _full_name(world.child), "missed": 2, "marked": 3, "share": 2 / 3},
        {"childId": week["other"], "fullName": _full_name(world.other_child), "missed": 1, "marked": 3, "share": 1 / 3},
    ]
    half = await _stats(gql, admin, school=school, by="CLASS", t=0.5)
    assert [c["childId"] for c in half["missingOver"]] == [week["child"]]
    # "more than": a share equal to the threshold is not listed
    exactly = await _stats(gql, admin, school=school, by="CLASS", t=2 / 3)
    assert exactly["missingOver"] == []


async def test_grade_statistics_match_the_diary_averages(
    gql: GraphQLClient, session: AsyncSession, world: World
) -> None:
    russian = await make_subject(session, school_id=world.school.id, name="Русский язык")
    await make_teaching_assignment(
        session, teacher_id=world.teacher.id, class_id=world.school_class.id, subject_id=russian.id
    )
    maths = [await world.lesson(session, date=MONDAY + dt.timedelta(days=d)) for d in range(3)]
    russian_lesson = await world.lesson(session, subject_id=russian.id, room="102")
    await session.commit()
    teacher = await world.token(gql, world.teacher)
    child, other = gid("Child", world.child.id), gid("Child", world.other_child.id)
    test = gid("ControlType", world.control_type.id)  # weight 2
    await _enter(gql, teacher, child, maths[0], "5", test)
    await _enter(gql, teacher, child, maths[1], "3", None)
    await _enter(gql, teacher, other, maths[0], "4", test)
    await _enter(gql, teacher, other, maths[2], "2", None)
    await _enter(gql, teacher, other, russian_lesson, "4", test)

    admin = await world.token(gql, world.admin)
    period = gid("Period", world.period.id)
    variables = {"c": gid("SchoolClass", world.school_class.id), "p": period}
    stats = (await gql.data(GRADES, variables, token=admin))["gradeStatistics"]
    assert (stats["classId"], stats["periodId"]) == (variables["c"], period)
    by_subject = {s["subjectId"]: s for s in stats["subjects"]}
    maths_stats = by_subject[gid("Subject", world.subject.id)]
    russian_stats = by_subject[gid("Subject", russian.id)]
    assert [s["subjectName"] for s in stats["subjects"]] == ["Математика", "Русский язык"]
    assert {d["value"]: d["count"] for d in maths_stats["distribution"]} == {
        "1": 0, "2": 1, "3": 1, "4": 1, "5": 1, "PASS": 0, "FAIL": 0,
    }  # fmt: skip
    # pooled over the class: (5 + 3 + 4 + 2) / 4; (5·2 + 3 + 4·2 + 2) / 6 = 23 / 6
    assert (maths_stats["average"], maths_stats["weightedAverage"], maths_stats["count"]) == (3.5, 3.83, 4)

    # the diary's own figures: one child's grades alone give that child's averages
    diary = {}
    for who in (child, other):
        found = (await gql.data(AVERAGES, {"id": who, "p": period}, token=admin))["child"]["averages"]
        diary[who] = {a["subject"]["id"]: a for a in found}
    only_other = diary[other][gid("Subject", russian.id)]
    assert (russian_stats["average"], russian_stats["weightedAverage"], russian_stats["count"]) == (
        only_other["average"],
        only_other["weightedAverage"],
        only_other["count"],
    )
    maths_id = gid("Subject", world.subject.id)
    assert maths_stats["count"] == diary[child][maths_id]["count"] + diary[other][maths_id]["count"]

    # the class's teacher reads the same
    assert (await gql.data(GRADES, variables, token=teacher))["gradeStatistics"] == stats


async def test_others_are_refused_and_a_refusal_tells_nothing_of_the_class(
    gql: GraphQLClient, session: AsyncSession, world: World
) -> None:
    school, school_class = gid("School", world.school.id), gid("SchoolClass", world.school_class.id)
    missing_class = gid("SchoolClass", world.school_class.id + 1000)
    grades = {"c": school_class, "p": gid("Period", world.period.id)}

    async def refused(body: dict[str, Any]) -> str:
        assert body["data"] is None, body
        assert error_codes(body) == ["FORBIDDEN"], body
        message: str = body["errors"][0]["message"]
        return message

    for user in (world.parent, world.student, world.operator, world.other_teacher, world.foreign_admin):
        token = await world.token(gql, user)
        await refused(await gql.post(ATTENDANCE, {**WEEK, "class": school_class, "by": "CLASS"}, token=token))
        await refused(await gql.post(GRADES, grades, token=token))
    for user in (world.parent, world.operator, world.teacher, world.foreign_admin, world.foreign_teacher):
        token = await world.token(gql, user)
        await refused(await gql.post(ATTENDANCE, {**WEEK, "school": school, "by": "CLASS"}, token=token))
    # a class that does not exist is refused with the very same answer as another school's
    foreign = await world.token(gql, world.foreign_admin)
    existing = await refused(await gql.post(ATTENDANCE, {**WEEK, "class": school_class, "by": "DAY"}, token=foreign))
    absent = await refused(await gql.post(ATTENDANCE, {**WEEK, "class": missing_class, "by": "DAY"}, token=foreign))
    assert existing == absent
    assert await refused(await gql.post(GRADES, {**grades, "c": missing_class}, token=foreign)) == await refused(
        await gql.post(GRADES, grades, token=foreign)
    )
    # signed out: UNAUTHENTICATED
    body = await gql.post(GRADES, grades)
    assert error_codes(body) == ["UNAUTHENTICATED"]


@pytest.mark.parametrize(
    ("variables", "field"),
    [
        ({"by": "CLASS"}, "schoolId"),
        ({"school": "S", "class": "C", "by": "CLASS"}, "classId"),
        ({"school": "S", "by": "DAY", "from": "2026-09-10", "to": "2026-09-01"}, "to"),
        ({"school": "S", "by": "DAY", "from": "2026-01-01", "to": "2027-01-02"}, "to"),
        ({"school": "S", "by": "DAY", "t": 1.5}, "threshold"),
        ({"school": "C", "by": "DAY"}, "schoolId"),
    ],
)
async def test_bad_arguments_name_the_field(
    gql: GraphQLClient, world: World, variables: dict[str, Any], field: str
) -> None:
    ids = {"S": gid("School", world.school.id), "C": gid("SchoolClass", world.school_class.id)}
    given = {**WEEK, **{k: ids.get(v, v) if k in ("school", "class") else v for k, v in variables.items()}}
    body = await gql.post(ATTENDANCE, given, token=await world.token(gql, world.admin))
    assert body["data"] is None
    assert body["errors"][0]["extensions"] == {"code": "INVALID", "field": [field]}


async def test_an_unknown_period_is_not_found(gql: GraphQLClient, world: World) -> None:
    other_period = gid("Period", world.period.id + 1000)
    body = await gql.post(
        GRADES,
        {"c": gid("SchoolClass", world.school_class.id), "p": other_period},
        token=await world.token(gql, world.admin),
    )
    assert body["errors"][0]["extensions"] == {"code": "NOT_FOUND", "field": ["periodId"]}


async def test_statement_counts_do_not_grow_with_the_school(
    gql: GraphQLClient, session: AsyncSession, sql_counter: StatementCounter
) -> None:
    counts: list[dict[str, int]] = []
    for children, weeks in ((2, 1), (8, 3)):
        school = await diary_support.build_school(session, children=children, weeks=weeks)
        admin = await make_user(session, password=diary_support.PASSWORD)
        await make_staff_membership(session, user=admin, school=school.school, role=StaffRole.SCHOOL_ADMIN)
        await session.commit()
        token = await diary_support.token(gql, admin)
        span = {
            "from": diary_support.MONDAY.isoformat(),
            "to": (diary_support.MONDAY + dt.timedelta(days=30)).isoformat(),
        }
        seen: dict[str, int] = {}
        for by in ("CLASS", "DAY", "CHILD", "SUBJECT"):
            for scope in (
                {"school": gid("School", school.school.id)},
                {"class": gid("SchoolClass", school.school_class.id)},
            ):
                with sql_counter:
                    stats = (await gql.data(ATTENDANCE, {**span, **scope, "by": by, "t": 0.0}, token=token))[
                        "attendanceStatistics"
                    ]
                seen[f"{by} {next(iter(scope))}"] = sql_counter.count
                assert stats["total"]["marked"] == children * weeks * 5
                assert len(stats["missingOver"]) == 0  # all present or late
        with sql_counter:
            grades = await gql.data(
                GRADES,
                {"c": gid("SchoolClass", school.school_class.id), "p": gid("Period", school.period.id)},
                token=token,
            )
        seen["grades"] = sql_counter.count
        assert grades["gradeStatistics"]["subjects"][0]["count"] == children * weeks * 5 * 2
        counts.append(seen)
    assert counts[0] == counts[1]
    assert counts[0]["grades"] == counts[0]["CLASS class"] - 1 == counts[0]["CLASS school"]  # facts, one grouped
