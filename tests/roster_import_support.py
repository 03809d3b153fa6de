"""The example roster files, a school ready for them, and reading back what is there."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from ediary_gql.db.models.calendar import AcademicYear
from ediary_gql.db.models.children import Child, Enrollment, Guardianship
from ediary_gql.db.models.classes import SchoolClass, Subject
from ediary_gql.db.models.lessons import TimetableSlot, TimetableTemplate
from ediary_gql.db.models.school_setup import RosterLink
from ediary_gql.db.models.schools import StaffMembership
from ediary_gql.db.models.users import User
from ediary_gql.services.roster_import.run import ImportFile
from tests.factories import make_period

EXAMPLES = Path(__file__).resolve().parent.parent / "examples" / "import"
ORDER = ("subjects", "teachers", "classes", "children", "guardians", "timetable")


def example_files() -> list[ImportFile]:
    return [ImportFile(f"{name}.csv", (EXAMPLES / f"{name}.csv").read_bytes()) for name in ORDER]


async def add_quarter(session: AsyncSession, year: AcademicYear) -> None:
    """The examples' timetable is for the first period of 2026/2027."""
    await make_period(session, academic_year_id=year.id, number=1)


async def snapshot(session: AsyncSession) -> dict[str, Any]:
    """Everything an import touches, as plain values (ids included: a re-import keeps them)."""
    await session.commit()

    async def rows(stmt: Any) -> list[tuple[Any, ...]]:
        return sorted(tuple(r) for r in (await session.execute(stmt)).all())

    return {
        "subjects": await rows(select(Subject.id, Subject.name, Subject.short_name, Subject.external_id)),
        "classes": await rows(
            select(
                SchoolClass.id,
                SchoolClass.level,
                SchoolClass.letter,
                SchoolClass.homeroom_teacher_id,
                SchoolClass.external_id,
            )
        ),
        "children": await rows(
            select(Child.id, Child.last_name, Child.first_name, Child.snils, Child.birth_cert_number, Child.external_id)
        ),
        "enrollments": await rows(
            select(Enrollment.id, Enrollment.child_id, Enrollment.class_id, Enrollment.starts_on, Enrollment.ends_on)
        ),
        "users": await rows(select(User.id, User.email, User.phone, User.last_name, User.status)),
        "memberships": await rows(select(StaffMembership.user_id, StaffMembership.school_id, StaffMembership.role)),
        "guardianships": await rows(select(Guardianship.parent_id, Guardianship.child_id)),
        "templates": await rows(select(TimetableTemplate.id, TimetableTemplate.class_id, TimetableTemplate.period_id)),
        "slots": await rows(
            select(
                TimetableSlot.id,
                TimetableSlot.template_id,
                TimetableSlot.weekday,
                TimetableSlot.start_time,
                TimetableSlot.teacher_id,
            )
        ),
        "links": await rows(select(RosterLink.kind, RosterLink.external_id, RosterLink.target_id)),
    }
