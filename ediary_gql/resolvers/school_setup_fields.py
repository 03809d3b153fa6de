"""Related rows and policy facts for the school-setup types, through per-request loaders.

Kept apart from `resolvers/school_setup.py` (the mutations) so that the types
can import it without a cycle.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from sqlalchemy import ColumnElement, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from ediary_gql.auth import policy
from ediary_gql.db.models.calendar import AcademicYear, Holiday, Period
from ediary_gql.db.models.children import Child, Enrollment
from ediary_gql.db.models.classes import SchoolClass, Subject, TeachingAssignment
from ediary_gql.db.models.grades import ControlType
from ediary_gql.db.models.schools import School
from ediary_gql.services.school_setup.teachers import invited_binding_ids
from ediary_gql.services.school_time import today_in

if TYPE_CHECKING:
    from ediary_gql.context import Context


def _maybe_open() -> ColumnElement[bool]:
    """Enrolments that may still be open at their school (no zone is behind UTC's yesterday);
    `_open_at_school` then decides by the school's own today."""
    earliest = dt.datetime.now(dt.UTC).date() - dt.timedelta(days=1)
    return or_(Enrollment.ends_on.is_(None), Enrollment.ends_on >= earliest)


def _open_at_school(ends_on: dt.date | None, zone: str | None) -> bool:
    return ends_on is None or ends_on >= today_in(zone)


# --- who a child is and where they study --------------------------------------


async def _child_schools(session: AsyncSession, child_ids: list[int]) -> list[tuple[int, int]]:
    rows = await session.execute(
        select(Enrollment.child_id, SchoolClass.school_id, Enrollment.ends_on, School.timezone)
        .join(SchoolClass, SchoolClass.id == Enrollment.class_id)
        .join(School, School.id == SchoolClass.school_id)
        .where(Enrollment.child_id.in_(child_ids), _maybe_open())
    )
    return [(c, s) for c, s, ends, zone in rows.all() if _open_at_school(ends, zone)]


async def child_school_ids(context: Context, child_id: int) -> frozenset[int]:
    """Schools where the child is enrolled now (or from a date ahead)."""
    return frozenset(await context.loaders.grouped("child.schools", _child_schools).load(child_id))


async def family_school_ids(context: Context) -> frozenset[int]:
    """Schools where the viewer's wards (or their own child record) are enrolled."""
    actor = context.actor
    if actor is None:
        return frozenset()
    children = set(actor.guardian_of)
    if actor.student_child_id is not None:
        children.add(actor.student_child_id)
    if not children:
        return frozenset()
    loader = context.loaders.grouped("child.schools", _child_schools)
    groups = await loader.load_many(sorted(children))
    return frozenset(s for group in groups for s in group)


async def may_view_child(context: Context, child_id: int) -> bool:
    return policy.can_view_child(context.actor, child_id, school_ids=await child_school_ids(context, child_id))


async def may_view_child_documents(context: Context, child_id: int) -> bool:
    return policy.can_view_child_documents(
        context.actor, child_id, school_ids=await child_school_ids(context, child_id)
    )


async def may_view_school_structure(context: Context, school_id: int) -> bool:
    actor = context.actor
    if policy.can_view_school_structure(actor, school_id):
        return True
    return policy.can_view_school_structure(actor, school_id, family_school_ids=await family_school_ids(context))


async def _current_enrollments(session: AsyncSession, child_ids: list[int]) -> list[tuple[int, Enrollment]]:
    rows = await session.execute(
        select(Enrollment, School.timezone)
        .join(SchoolClass, SchoolClass.id == Enrollment.class_id)
        .join(School, School.id == SchoolClass.school_id)
        .where(Enrollment.child_id.in_(child_ids), _maybe_open())
        .order_by(Enrollment.child_id, Enrollment.starts_on)
    )
    return [(row.child_id, row) for row, zone in rows.all() if _open_at_school(row.ends_on, zone)]


async def current_enrollment(context: Context, child_id: int) -> Enrollment | None:
    """The enrolment in force: the earliest one not yet ended (a move ahead keeps the old one until then)."""
    rows = await context.loaders.grouped("child.current_enrollment", _current_enrollments).load(child_id)
    return rows[0] if rows else None


# --- what a school and a class hold ---------------------------------------------


async def _years(session: AsyncSession, school_ids: list[int]) -> list[tuple[int, AcademicYear]]:
    rows = await session.scalars(
        select(AcademicYear).where(AcademicYear.school_id.in_(school_ids)).order_by(AcademicYear.starts_on.desc())
    )
    return [(r.school_id, r) for r in rows]


async def academic_years(context: Context, school_id: int) -> list[AcademicYear]:
    return await context.loaders.grouped("school.academic_years", _years).load(school_id)


async def _periods(session: AsyncSession, year_ids: list[int]) -> list[tuple[int, Period]]:
    rows = await session.scalars(select(Period).where(Period.academic_year_id.in_(year_ids)).order_by(Period.number))
    return [(r.academic_year_id, r) for r in rows]


async def periods(context: Context, year_id: int) -> list[Period]:
    return await context.loaders.grouped("year.periods", _periods).load(year_id)


async def _holidays(session: AsyncSession, year_ids: list[int]) -> list[tuple[int, Holiday]]:
    rows = await session.execute(
        select(AcademicYear.id, Holiday)
        .join(Holiday, Holiday.school_id == AcademicYear.school_id)
        .where(
            AcademicYear.id.in_(year_ids),
            Holiday.starts_on >= AcademicYear.starts_on,
            Holiday.ends_on <= AcademicYear.ends_on,
        )
        .order_by(Holiday.starts_on)
    )
    return [(y, h) for y, h in rows.all()]


async def holidays(context: Context, year_id: int) -> list[Holiday]:
    """The school's holidays that fall inside the year."""
    return await context.loaders.grouped("year.holidays", _holidays).load(year_id)


async def _subjects(session: AsyncSession, school_ids: list[int]) -> list[tuple[int, Subject]]:
    rows = await session.scalars(
        select(Subject).where(Subject.school_id.in_(school_ids)).order_by(Subject.name, Subject.id)
    )
    return [(r.school_id, r) for r in rows]


async def subjects(context: Context, school_id: int) -> list[Subject]:
    return await context.loaders.grouped("school.subjects", _subjects).load(school_id)


async def _control_types(session: AsyncSession, school_ids: list[int]) -> list[tuple[int, ControlType]]:
    rows = list(
        await session.scalars(
            select(ControlType)
            .where(or_(ControlType.school_id.in_(school_ids), ControlType.school_id.is_(None)))
            .order_by(ControlType.code)
        )
    )
    pairs: list[tuple[int, ControlType]] = []
    for school_id in school_ids:
        own = {r.code: r for r in rows if r.school_id == school_id}
        defaults = [r for r in rows if r.school_id is None and r.code not in own]
        pairs.extend((school_id, r) for r in sorted([*own.values(), *defaults], key=lambda r: r.code))
    return pairs


async def control_types(context: Context, school_id: int) -> list[ControlType]:
    """The school's own control types, and the defaults it has not redefined."""
    return await context.loaders.grouped("school.control_types", _control_types).load(school_id)


async def _classes(session: AsyncSession, school_ids: list[int]) -> list[tuple[int, SchoolClass]]:
    rows = await session.scalars(
        select(SchoolClass)
        .join(AcademicYear, AcademicYear.id == SchoolClass.academic_year_id)
        .where(SchoolClass.school_id.in_(school_ids))
        .order_by(AcademicYear.starts_on.desc(), SchoolClass.level, SchoolClass.letter)
    )
    return [(r.school_id, r) for r in rows]


async def classes(context: Context, school_id: int) -> list[SchoolClass]:
    return await context.loaders.grouped("school.classes", _classes).load(school_id)


async def _class_children(session: AsyncSession, class_ids: list[int]) -> list[tuple[int, Child]]:
    latest = dt.datetime.now(dt.UTC).date() + dt.timedelta(days=1)  # no zone is past UTC's tomorrow
    rows = await session.execute(
        select(Enrollment.class_id, Child, Enrollment.starts_on, Enrollment.ends_on, School.timezone)
        .join(Child, Child.id == Enrollment.child_id)
        .join(SchoolClass, SchoolClass.id == Enrollment.class_id)
        .join(School, School.id == SchoolClass.school_id)
        .where(Enrollment.class_id.in_(class_ids), _maybe_open(), Enrollment.starts_on <= latest)
        .order_by(Child.last_name, Child.first_name, Child.middle_name, Child.id)
    )
    return [
        (c, ch) for c, ch, starts, ends, zone in rows.all() if starts <= today_in(zone) and _open_at_school(ends, zone)
    ]


async def class_children(context: Context, class_id: int) -> list[Child]:
    """Children enrolled in the class today, by name."""
    return await context.loaders.grouped("class.children", _class_children).load(class_id)


async def _class_assignments(session: AsyncSession, class_ids: list[int]) -> list[tuple[int, TeachingAssignment]]:
    rows = await session.scalars(
        select(TeachingAssignment).where(TeachingAssignment.class_id.in_(class_ids)).order_by(TeachingAssignment.id)
    )
    return [(r.class_id, r) for r in rows]


async def class_assignments(context: Context, class_id: int) -> list[TeachingAssignment]:
    return await context.loaders.grouped("class.assignments", _class_assignments).load(class_id)


async def _child_enrollments(session: AsyncSession, child_ids: list[int]) -> list[tuple[int, tuple[Enrollment, int]]]:
    rows = await session.execute(
        select(Enrollment, SchoolClass.school_id)
        .join(SchoolClass, SchoolClass.id == Enrollment.class_id)
        .where(Enrollment.child_id.in_(child_ids))
        .order_by(Enrollment.starts_on, Enrollment.id)
    )
    return [(r.child_id, (r, school_id)) for r, school_id in rows.all()]


async def child_enrollments(context: Context, child_id: int) -> list[Enrollment]:
    """The child's enrolments: all of them for the family, those at the viewer's own
    schools for staff (policy.reads_whole_diary)."""
    rows = await context.loaders.grouped("child.enrollments", _child_enrollments).load(child_id)
    actor = context.actor
    if actor is None:
        return []
    if policy.reads_whole_diary(actor, child_id=child_id) or actor.is_operator:
        return [row for row, _ in rows]
    own = {school for school, _ in actor.memberships}
    return [row for row, school_id in rows if school_id in own]


async def _invited(session: AsyncSession, binding_ids: list[int]) -> list[tuple[int, bool]]:
    return [(i, True) for i in await invited_binding_ids(session, binding_ids)]


async def binding_invited(context: Context, binding_id: int) -> bool:
    """Was the requester of this staff binding invited to teach at its school?"""
    return bool(await context.loaders.grouped("staff_binding.invited", _invited).load(binding_id))
