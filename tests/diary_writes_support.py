"""A small school for the diary-writes tests: one class with its maths teacher, an
admin, a child with a parent and a login, and the outsiders each refusal needs."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession
from strawberry import relay

from ediary_gql.db.models.calendar import AcademicYear, Period
from ediary_gql.db.models.children import Child
from ediary_gql.db.models.classes import SchoolClass, Subject
from ediary_gql.db.models.grades import ControlType
from ediary_gql.db.models.lessons import Lesson
from ediary_gql.db.models.schools import School
from ediary_gql.db.models.users import User
from tests.factories import (
    make_academic_year,
    make_child,
    make_control_type,
    make_enrollment,
    make_guardianship,
    make_lesson,
    make_operator,
    make_period,
    make_school,
    make_school_admin,
    make_school_class,
    make_subject,
    make_teacher,
    make_teaching_assignment,
    make_user,
)
from tests.support import GraphQLClient

PASSWORD = "correct horse battery"
MONDAY = dt.date(2026, 9, 7)  # a working Monday of the first quarter


def gid(type_name: str, pk: int) -> str:
    return relay.to_base64(type_name, pk)


@dataclass
class World:
    school: School
    year: AcademicYear
    period: Period
    school_class: SchoolClass
    subject: Subject
    teacher: User  # teaches `subject` in `school_class`
    other_teacher: User  # same school, not assigned to this class × subject
    admin: User
    child: Child
    parent: User
    student: User  # the child's own login
    other_child: Child  # a classmate with a parent of their own
    other_parent: User
    foreign_teacher: User  # teaches at another school
    foreign_admin: User
    operator: User
    control_type: ControlType  # weight 2
    tokens: dict[int, str] = field(default_factory=dict)

    async def token(self, gql: GraphQLClient, user: User) -> str:
        if user.id not in self.tokens:
            self.tokens[user.id] = await gql.sign_in(user.email or "", PASSWORD)
        return self.tokens[user.id]

    async def lesson(self, session: AsyncSession, **overrides: Any) -> Lesson:
        fields: dict[str, Any] = {
            "school_class": self.school_class,
            "subject_id": self.subject.id,
            "teacher_id": self.teacher.id,
            "date": MONDAY,
            "room": "101",
        }
        fields.update(overrides)
        return await make_lesson(session, **fields)


async def make_world(session: AsyncSession) -> World:
    school = await make_school(session)
    year = await make_academic_year(session, school=school)
    period = await make_period(session, academic_year_id=year.id, number=1)
    school_class = await make_school_class(session, school_id=school.id, academic_year_id=year.id)
    subject = await make_subject(session, school_id=school.id, name="Математика")
    teacher = await make_teacher(session, password=PASSWORD, school_id=school.id)
    await make_teaching_assignment(session, teacher_id=teacher.id, class_id=school_class.id, subject_id=subject.id)
    other_teacher = await make_teacher(session, password=PASSWORD, school_id=school.id)
    admin = await make_school_admin(session, password=PASSWORD, school_id=school.id)
    student = await make_user(session, password=PASSWORD)
    child = await make_child(session, user_id=student.id)
    await make_enrollment(session, child_id=child.id, class_id=school_class.id)
    parent = await make_user(session, password=PASSWORD)
    await make_guardianship(session, parent_id=parent.id, child_id=child.id)
    other_child = await make_child(session)
    await make_enrollment(session, child_id=other_child.id, class_id=school_class.id)
    other_parent = await make_user(session, password=PASSWORD)
    await make_guardianship(session, parent_id=other_parent.id, child_id=other_child.id)
    other_school = await make_school(session)
    foreign_teacher = await make_teacher(session, password=PASSWORD, school_id=other_school.id)
    foreign_admin = await make_school_admin(session, password=PASSWORD, school_id=other_school.id)
    operator = await make_operator(session, password=PASSWORD)
    control_type = await make_control_type(session, school_id=school.id, code="TEST", name="Контрольная", weight=2)
    await session.commit()
    return World(
        school=school,
        year=year,
        period=period,
        school_class=school_class,
        subject=subject,
        teacher=teacher,
        other_teacher=other_teacher,
        admin=admin,
        child=child,
        parent=parent,
        student=student,
        other_child=other_child,
        other_parent=other_parent,
        foreign_teacher=foreign_teacher,
        foreign_admin=foreign_admin,
        operator=operator,
        control_type=control_type,
    )


ENTER_GRADE = "mutation($i: EnterGradeInput!) { enterGrade(input: $i) { grade { id } userErrors { code } } }"


async def enter_grade(gql: GraphQLClient, token: str, world: World, lesson: Lesson, value: str) -> str:
    """A grade of the world's child at `lesson`, entered over HTTP by `token`; its global ID."""
    data = await gql.data(
        ENTER_GRADE,
        {"i": {"childId": gid("Child", world.child.id), "lessonId": gid("Lesson", lesson.id), "value": value}},
        token=token,
    )
    assert data["enterGrade"]["userErrors"] == []
    grade_id: str = data["enterGrade"]["grade"]["id"]
    return grade_id


def codes(payload: dict[str, Any]) -> list[tuple[str, list[str] | None]]:
    return [(e["code"], e["field"]) for e in payload["userErrors"]]


def error_codes(body: dict[str, Any]) -> list[str]:
    return [e.get("extensions", {}).get("code") for e in body.get("errors") or []]


def wall_clock(zone: str, shift: dt.timedelta) -> tuple[dt.date, dt.time]:
    """The date and minute on the clocks of `zone` `shift` from now, kept before 23:00 (so
    a 45-minute lesson starting then ends the same day): a past shift never lands later than now."""
    at = (dt.datetime.now(dt.UTC) + shift).astimezone(ZoneInfo(zone)).replace(second=0, microsecond=0, tzinfo=None)
    if at.time() > dt.time(23, 0):
        at = (
            at.replace(hour=23, minute=0)
            if shift < dt.timedelta(0)
            else at.replace(hour=8, minute=0) + dt.timedelta(days=1)
        )
    return at.date(), at.time()
