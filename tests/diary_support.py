"""A small school for the diary-read tests: a class with a subject, its teacher,
a period, children with guardians, and lessons with homework, grades and
attendance over a number of weeks."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal

from sqlalchemy.ext.asyncio import AsyncSession
from strawberry.relay import to_base64

from ediary_gql.db.models.calendar import Period
from ediary_gql.db.models.children import Child
from ediary_gql.db.models.classes import SchoolClass, Subject
from ediary_gql.db.models.enums import AttendanceStatus, StaffRole
from ediary_gql.db.models.lessons import Lesson
from ediary_gql.db.models.schools import School
from ediary_gql.db.models.users import User
from tests.factories import (
    lesson_times,
    make_attendance,
    make_control_type,
    make_enrolled_child,
    make_grade,
    make_guardianship,
    make_homework,
    make_homework_completion,
    make_lesson,
    make_period,
    make_school,
    make_school_class,
    make_staff_membership,
    make_subject,
    make_teaching_assignment,
    make_user,
)
from tests.support import GraphQLClient

PASSWORD = "correct horse battery"
MONDAY = dt.date(2026, 9, 7)  # a school week in the first quarter


def gid(type_name: str, pk: int) -> str:
    return to_base64(type_name, pk)


@dataclass
class School1:
    school: School
    school_class: SchoolClass
    subject: Subject
    other_subject: Subject
    period: Period
    teacher: User
    children: list[Child]
    parent: User
    lessons: list[Lesson] = field(default_factory=list)


async def token(gql: GraphQLClient, user: User) -> str:
    assert user.email is not None
    return await gql.sign_in(user.email, PASSWORD)


async def build_school(session: AsyncSession, *, children: int = 2, weeks: int = 1) -> School1:
    """A 5А class with `children` children (the first with a signed-in-able parent)
    and, each school day of `weeks` weeks from MONDAY, a maths lesson (homework,
    a grade and an attendance mark for every child) and a Russian lesson."""
    school = await make_school(session)
    school_class = await make_school_class(session, school=school)
    subject = await make_subject(session, school=school, name="Математика", short_name="Мат.")
    other = await make_subject(session, school=school, name="Русский язык", short_name="Рус. яз.")
    period = await make_period(session, academic_year_id=school_class.academic_year_id, number=1)
    teacher = await make_user(
        session, password=PASSWORD, last_name="Петрова", first_name="Анна", middle_name="Ивановна"
    )
    await make_staff_membership(session, user=teacher, school=school, role=StaffRole.TEACHER)
    await make_teaching_assignment(session, teacher=teacher, school_class=school_class, subject=subject)
    kids = [await make_enrolled_child(session, class_id=school_class.id) for _ in range(children)]
    parent = await make_user(session, password=PASSWORD)
    await make_guardianship(session, parent=parent, child=kids[0])
    world = School1(school, school_class, subject, other, period, teacher, kids, parent)
    control = await make_control_type(session, school=school, code="TEST", name="Контрольная", weight=Decimal("2.00"))
    for day_no in range(weeks * 7):
        day = MONDAY + dt.timedelta(days=day_no)
        if day.isoweekday() > 5:
            continue
        start, end = lesson_times(1)
        maths = await make_lesson(
            session,
            school_class=school_class,
            subject=subject,
            teacher=teacher,
            date=day,
            start_time=start,
            end_time=end,
            lesson_number=1,
            room="101",
            topic=f"Тема {day_no}",
        )
        start2, end2 = lesson_times(2)
        russian = await make_lesson(
            session,
            school_class=school_class,
            subject=other,
            teacher=teacher,
            date=day,
            start_time=start2,
            end_time=end2,
            lesson_number=2,
            room="102",
        )
        world.lessons += [maths, russian]
        homework = await make_homework(session, lesson=maths, text=f"№ {day_no}")
        for k, child in enumerate(kids):
            await make_grade(session, lesson=maths, child=child, value="5" if k % 2 == 0 else "3")
            await make_grade(session, lesson=maths, child=child, value="4", control_type=control)
            await make_attendance(
                session, lesson=maths, child=child, status=AttendanceStatus.PRESENT if k else AttendanceStatus.LATE
            )
            if k == 0:
                await make_homework_completion(session, homework=homework, child=child, marked_by=parent)
    await session.commit()
    return world
