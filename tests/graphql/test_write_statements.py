"""The diary's writes cost a fixed number of SQL statements, whatever their size: counted
over HTTP for the whole request (the request's sign-in check, then the mutation's reads
of what it checks, then its writes). Selections are kept to `id`s so that nothing but
the mutation reads."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from ediary_gql.context import AppServices
from ediary_gql.db.models.children import Child
from ediary_gql.db.models.enums import NotificationKind
from ediary_gql.db.models.lessons import Lesson
from ediary_gql.db.models.notifications import Notification, NotificationDelivery
from tests.diary_writes_support import World, gid
from tests.factories import make_enrolled_child, make_guardianship, make_user
from tests.support import GraphQLClient, StatementCounter

SIGN_IN = 1  # the token's session and the actor's roles, read once by every signed-in request
WRITES = ("INSERT", "UPDATE", "DELETE")

MARK = """
mutation($i: MarkAttendanceInput!) {
  markAttendance(input: $i) { lesson { id } userErrors { field code message } }
}"""
GRADE = "mutation($i: EnterGradeInput!) { enterGrade(input: $i) { grade { id } userErrors { field code } } }"
TEMPLATE = """
mutation($i: CreateTimetableTemplateInput!) {
  createTimetableTemplate(input: $i) { template { id } userErrors { field code message } }
}"""
GENERATE = """
mutation($i: GenerateLessonsInput!) {
  generateLessons(input: $i) { lessons { id } alreadyPresentCount skipped { code } userErrors { field code } }
}"""


def _writes(counter: StatementCounter) -> list[str]:
    return [s for s in counter.statements if s.lstrip().split(None, 1)[0].upper() in WRITES]


def _shown(counter: StatementCounter) -> list[str]:
    return [" ".join(s.split())[:120] for s in counter.statements]


async def _class_of(session: AsyncSession, world: World, size: int) -> list[Child]:
    """The world's two children and more of the class, `size` in all, each with a guardian."""
    children = [world.child, world.other_child]
    for _ in range(size - 2):
        child = await make_enrolled_child(session, class_id=world.school_class.id)
        await make_guardianship(session, parent_id=(await make_user(session)).id, child_id=child.id)
        children.append(child)
    await session.commit()
    return children


async def _post(
    gql: GraphQLClient, counter: StatementCounter, token: str, query: str, variables: dict[str, Any]
) -> dict[str, Any]:
    with counter:
        data = await gql.data(query, variables, token=token)
    (payload,) = data.values()
    assert payload["userErrors"] == [], payload["userErrors"]
    result: dict[str, Any] = payload
    return result


# markAttendance: the lesson locked with its class, the school's zone, the subject, the
# actor's assignment, the marked children's enrolment and the absent ones' guardians (1),
# the lesson's marks read after the lock (1); then one upsert of all the marks, the audit
# entry (the lesson's history of marks), the notices, their deliveries and the events.
MARK_READS = 2
MARK_WRITES = 5


async def test_mark_attendance_costs_the_same_for_5_children_and_for_30(
    gql: GraphQLClient, session: AsyncSession, world: World, lesson: Lesson, sql_counter: StatementCounter
) -> None:
    children = await _class_of(session, world, 30)
    second = await world.lesson(session, start_time=lesson.end_time.replace(minute=59), room="102")
    await session.commit()
    token = await world.token(gql, world.teacher)

    async def mark(target: Lesson, kids: list[Child], status: str) -> int:
        marks = [
            {"childId": gid("Child", c.id), "status": status if n % 3 == 0 else "PRESENT"} for n, c in enumerate(kids)
        ]
        await _post(gql, sql_counter, token, MARK, {"i": {"lessonId": gid("Lesson", target.id), "marks": marks}})
        assert len(_writes(sql_counter)) == MARK_WRITES, _shown(sql_counter)
        return sql_counter.count

    # new marks, a third of them absences told to the guardians: 5 children, then 30
    assert await mark(lesson, children[:5], "ABSENT") == SIGN_IN + MARK_READS + MARK_WRITES, _shown(sql_counter)
    assert await mark(second, children, "ABSENT") == SIGN_IN + MARK_READS + MARK_WRITES, _shown(sql_counter)
    # every guardian of an absent child told, each notice delivered to its own addressee
    assert await _attendance_notices(session) == (2 + 10, [])
    # the same 30 marks changed (all late now: every guardian told), then all 30 at the first
    # lesson, where 5 were marked (5 changed and 25 new in the one upsert)
    late = [{"childId": gid("Child", c.id), "status": "LATE", "minutesLate": 5} for c in children]
    await _post(gql, sql_counter, token, MARK, {"i": {"lessonId": gid("Lesson", second.id), "marks": late}})
    assert sql_counter.count == SIGN_IN + MARK_READS + MARK_WRITES, _shown(sql_counter)
    assert len(_writes(sql_counter)) == MARK_WRITES
    await _post(gql, sql_counter, token, MARK, {"i": {"lessonId": gid("Lesson", lesson.id), "marks": late}})
    assert sql_counter.count == SIGN_IN + MARK_READS + MARK_WRITES, _shown(sql_counter)
    assert await _attendance_notices(session) == (12 + 30 + 30, [])


async def _attendance_notices(session: AsyncSession) -> tuple[int, list[tuple[int, str | None]]]:
    """How many attendance notices there are, and the deliveries not addressed to their
    notice's user (by push, the kind's default)."""
    rows = (
        await session.execute(
            select(Notification.id, Notification.user_id, NotificationDelivery.address)
            .outerjoin(NotificationDelivery, NotificationDelivery.notification_id == Notification.id)
            .where(Notification.kind == NotificationKind.ATTENDANCE)
        )
    ).all()
    return len(rows), [(note_id, address) for note_id, user_id, address in rows if address != f"user:{user_id}"]


# enterGrade at a lesson: the lesson with its class, subject, the school's zone, the
# period, the actor's assignment, the child's enrolment and the control type (1), the
# families to tell with their users (1); then the grade, its first step of history, the
# audit entry, the notices, their deliveries and the events.
GRADE_READS = 2
GRADE_WRITES = 6


async def test_enter_grade_costs_a_fixed_number_of_statements(
    gql: GraphQLClient, session: AsyncSession, world: World, lesson: Lesson, sql_counter: StatementCounter
) -> None:
    token = await world.token(gql, world.teacher)
    for child, control in ((world.child, world.control_type), (world.other_child, None)):
        grade = {"childId": gid("Child", child.id), "lessonId": gid("Lesson", lesson.id), "value": "5"}
        if control is not None:
            grade["controlTypeId"] = gid("ControlType", control.id)
        await _post(gql, sql_counter, token, GRADE, {"i": grade})
        assert sql_counter.count == SIGN_IN + GRADE_READS + GRADE_WRITES, _shown(sql_counter)
        assert len(_writes(sql_counter)) == GRADE_WRITES, _shown(sql_counter)


# generateLessons: the template with its class and period (1), its slots (1), the actor's
# assignments (1), the school's holidays and the calendar's days off (2), the school
# locked (1, PostgreSQL only: SQLite's write transaction holds the database), the lessons
# already booked on those dates (1; the names of those in the way too, only when some
# are), the children enrolled on those dates, their families and the subject names for
# the notices (3); then one INSERT of all the lessons, the notices, their deliveries, the
# events and the audit entry: as many for two weeks as for a quarter.
GENERATE_READS = 9
GENERATE_WRITES = 5


def _slots(world: World, per_day: int) -> list[dict[str, Any]]:
    times = [("08:30:00", "09:15:00"), ("09:25:00", "10:10:00"), ("10:30:00", "11:15:00")][:per_day]
    return [
        {
            "weekday": weekday,
            "startTime": start,
            "endTime": end,
            "lessonNumber": number,
            "subjectId": gid("Subject", world.subject.id),
            "teacherId": gid("User", world.teacher.id),
            "room": "101",
        }
        for weekday in (1, 2, 3, 4, 5)
        for number, (start, end) in enumerate(times, start=1)
    ]


async def _template(
    gql: GraphQLClient, counter: StatementCounter, token: str, world: World, slots: list[dict[str, Any]]
) -> str:
    made = await _post(
        gql,
        counter,
        token,
        TEMPLATE,
        {
            "i": {
                "classId": gid("SchoolClass", world.school_class.id),
                "periodId": gid("Period", world.period.id),
                "name": f"Расписание на {len(slots)} уроков",
                "slots": slots,
            }
        },
    )
    template_id: str = made["template"]["id"]
    return template_id


async def test_generate_lessons_costs_as_much_for_a_quarter_as_for_two_weeks(
    gql: GraphQLClient,
    session: AsyncSession,
    world: World,
    sql_counter: StatementCounter,
    app_services: AppServices,
) -> None:
    lock = 0 if app_services.settings.is_sqlite else 1
    await _class_of(session, world, 5)
    token = await world.token(gql, world.admin)
    template = await _template(gql, sql_counter, token, world, _slots(world, 2))
    start, end = world.period.starts_on, world.period.ends_on
    two_weeks = start + dt.timedelta(days=13)

    async def generate(first: dt.date, last: dt.date) -> dict[str, Any]:
        variables = {"i": {"templateId": template, "from": first.isoformat(), "to": last.isoformat()}}
        return await _post(gql, sql_counter, token, GENERATE, variables)

    made = await generate(start, two_weeks)
    assert len(made["lessons"]) == 20
    for_two_weeks = sql_counter.count
    assert for_two_weeks == SIGN_IN + GENERATE_READS + lock + GENERATE_WRITES, _shown(sql_counter)
    assert len(_writes(sql_counter)) == GENERATE_WRITES, _shown(sql_counter)
    made = await generate(two_weeks + dt.timedelta(days=1), end)
    rest = len(made["lessons"])
    assert rest > 50
    assert sql_counter.count == for_two_weeks, _shown(sql_counter)
    assert len(_writes(sql_counter)) == GENERATE_WRITES
    # the whole quarter again: nothing new, fewer statements still
    made = await generate(start, end)
    assert (made["lessons"], made["alreadyPresentCount"]) == ([], 20 + rest)
    assert sql_counter.count < for_two_weeks


async def test_generate_lessons_does_not_grow_with_the_slots_either(
    gql: GraphQLClient, session: AsyncSession, world: World, sql_counter: StatementCounter
) -> None:
    await _class_of(session, world, 5)
    token = await world.token(gql, world.admin)
    counts = []
    for per_day, period_start in ((1, world.period.starts_on), (3, world.period.starts_on + dt.timedelta(days=28))):
        template = await _template(gql, sql_counter, token, world, _slots(world, per_day))
        last = period_start + dt.timedelta(days=13)
        variables = {"i": {"templateId": template, "from": period_start.isoformat(), "to": last.isoformat()}}
        made = await _post(gql, sql_counter, token, GENERATE, variables)
        assert len(made["lessons"]) == 10 * per_day
        counts.append(sql_counter.count)
    assert counts[0] == counts[1], _shown(sql_counter)
