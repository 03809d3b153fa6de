"""A school ready to be set up, with people of every role around it."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession
from strawberry.relay import to_base64

from ediary_gql.db.models.calendar import AcademicYear
from ediary_gql.db.models.enums import PeriodKind, StaffRole
from ediary_gql.db.models.schools import School
from ediary_gql.db.models.users import User
from tests.factories import make_academic_year, make_operator, make_school, make_staff_membership, make_user
from tests.support import GraphQLClient

PASSWORD = "correct horse battery"
YEAR_START = dt.date(2026, 9, 1)
YEAR_END = dt.date(2027, 5, 31)


def gid(type_name: str, pk: int) -> str:
    return to_base64(type_name, pk)


@dataclass
class World:
    school: School
    other_school: School
    year: AcademicYear
    admin: User
    other_admin: User
    teacher: User
    other_teacher: User
    parent: User
    operator: User
    integrator: User

    @property
    def school_gid(self) -> str:
        return gid("School", self.school.id)

    @property
    def year_gid(self) -> str:
        return gid("AcademicYear", self.year.id)


async def build_world(session: AsyncSession) -> World:
    school = await make_school(session)
    other = await make_school(session)
    year = await make_academic_year(
        session, school=school, name="2026/2027", starts_on=YEAR_START, ends_on=YEAR_END, period_kind=PeriodKind.QUARTER
    )
    people: dict[str, User] = {}
    for name, at, role in [
        ("admin", school, StaffRole.SCHOOL_ADMIN),
        ("other_admin", other, StaffRole.SCHOOL_ADMIN),
        ("teacher", school, StaffRole.TEACHER),
        ("other_teacher", other, StaffRole.TEACHER),
        ("integrator", school, StaffRole.INTEGRATOR),
    ]:
        user = await make_user(session, email=f"{name}@example.ru", password=PASSWORD)
        await make_staff_membership(session, user=user, school=at, role=role)
        people[name] = user
    parent = await make_user(session, email="parent@example.ru", password=PASSWORD)
    operator = await make_operator(session, email="operator@example.ru", password=PASSWORD)
    await session.commit()
    return World(
        school=school,
        other_school=other,
        year=year,
        admin=people["admin"],
        other_admin=people["other_admin"],
        teacher=people["teacher"],
        other_teacher=people["other_teacher"],
        parent=parent,
        operator=operator,
        integrator=people["integrator"],
    )


async def token(gql: GraphQLClient, user: User) -> str:
    assert user.email is not None
    return await gql.sign_in(user.email, PASSWORD)
