"""Facts the diary policy decides on that live in rows, not on the Actor: who
teaches what where, which children are in a class on a date. Each helper is one
statement for many keys, shared by the services and the per-request loaders."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TypeVarTuple

from sqlalchemy import ColumnElement, Row, Select, and_, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute

from ediary_gql.auth import policy
from ediary_gql.auth.actor import Actor
from ediary_gql.db.models.children import Enrollment
from ediary_gql.db.models.classes import SchoolClass, TeachingAssignment
from ediary_gql.db.models.enums import IntegrationScope, StaffRole
from ediary_gql.db.models.lessons import Lesson
from ediary_gql.db.models.schools import School, StaffMembership
from ediary_gql.errors import not_found
from ediary_gql.services import public_ids
from ediary_gql.services.school_time import today_in


async def assignments_of(session: AsyncSession, teacher_ids: Iterable[int]) -> list[tuple[int, tuple[int, int]]]:
    """(teacher id, (class id, subject id)) for every assignment of the teachers."""
    rows = await session.execute(
        select(TeachingAssignment.teacher_id, TeachingAssignment.class_id, TeachingAssignment.subject_id).where(
            TeachingAssignment.teacher_id.in_(list(teacher_ids))
        )
    )
    return [(teacher, (class_id, subject_id)) for teacher, class_id, subject_id in rows.all()]


@dataclass(frozen=True, slots=True)
class ClassStaff:
    school_id: int
    teacher_ids: frozenset[int]  # assigned to any subject of the class


async def class_staff(session: AsyncSession, class_ids: Iterable[int]) -> dict[int, ClassStaff]:
    """The school and the teachers of each class that exists, in one statement."""
    rows = await session.execute(
        select(SchoolClass.id, SchoolClass.school_id, TeachingAssignment.teacher_id)
        .outerjoin(TeachingAssignment, TeachingAssignment.class_id == SchoolClass.id)
        .where(SchoolClass.id.in_(list(class_ids)))
    )
    schools: dict[int, int] = {}
    teachers: dict[int, set[int]] = {}
    for class_id, school_id, teacher_id in rows.all():
        schools[class_id] = school_id
        found = teachers.setdefault(class_id, set())
        if teacher_id is not None:
            found.add(teacher_id)
    return {c: ClassStaff(school_id=schools[c], teacher_ids=frozenset(teachers[c])) for c in schools}


async def existing_schools(session: AsyncSession, school_ids: Iterable[int]) -> set[int]:
    return set(await session.scalars(select(School.id).where(School.id.in_(list(school_ids)))))


async def is_assigned(session: AsyncSession, *, teacher_id: int, class_id: int, subject_id: int) -> bool:
    found = await session.scalar(
        select(TeachingAssignment.id).where(
            TeachingAssignment.teacher_id == teacher_id,
            TeachingAssignment.class_id == class_id,
            TeachingAssignment.subject_id == subject_id,
        )
    )
    return found is not None


def enrolled_on(date: dt.date) -> list[ColumnElement[bool]]:
    """Conditions: an enrolment covers `date`."""
    return [Enrollment.starts_on <= date, or_(Enrollment.ends_on.is_(None), Enrollment.ends_on >= date)]


async def children_on(
    session: AsyncSession, keys: Iterable[tuple[int, dt.date]]
) -> list[tuple[tuple[int, dt.date], int]]:
    """((class id, date), child id) for the children enrolled in each class on each date."""
    keys = list(keys)
    if not keys:
        return []
    conditions = [and_(Enrollment.class_id == class_id, *enrolled_on(date)) for class_id, date in keys]
    rows = await session.execute(
        select(Enrollment.class_id, Enrollment.starts_on, Enrollment.ends_on, Enrollment.child_id).where(
            or_(*conditions)
        )
    )
    result: list[tuple[tuple[int, dt.date], int]] = []
    found = rows.all()
    for class_id, date in keys:
        for row_class, starts, ends, child in found:
            if row_class == class_id and starts <= date and (ends is None or ends >= date):
                result.append(((class_id, date), child))
    return result


async def require_may_write(
    session: AsyncSession,
    *,
    actor: Actor,
    school_class: SchoolClass,
    subject_id: int,
    substitute_id: int | None = None,
    scope: IntegrationScope | None = None,
) -> None:
    """FORBIDDEN unless the actor is the teacher of that class × subject (or the lesson's
    substitute, `substitute_id`) or an admin of the school (or an integration holding
    `scope` there: the kind of record written)."""
    assigned = actor.user_id == substitute_id or await is_assigned(
        session, teacher_id=actor.user_id, class_id=school_class.id, subject_id=subject_id
    )
    ensure_may_write(actor, school_id=school_class.school_id, assigned=assigned, scope=scope)


def ensure_may_write(actor: Actor, *, school_id: int, assigned: bool, scope: IntegrationScope | None) -> None:
    """`require_may_write` once whether the actor teaches the class × subject (or
    substitutes at the lesson) is known: `assigned`."""
    policy.ensure(
        policy.can_write_diary(actor, school_id=school_id, assigned=assigned, scope=scope),
        "Вносить записи в дневник могут учитель, назначенный на этот предмет в этом классе, "
        "и ответственный за дневник школы",
    )


def assigned_to(
    teacher_id: int,
    class_id: ColumnElement[int] | InstrumentedAttribute[int],
    subject_id: ColumnElement[int] | InstrumentedAttribute[int],
) -> ColumnElement[bool]:
    """Whether the teacher is assigned to the class × subject in these columns: `is_assigned`
    as a column, for a statement that reads it beside the row it concerns."""
    return (
        select(TeachingAssignment.id)
        .where(
            TeachingAssignment.teacher_id == teacher_id,
            TeachingAssignment.class_id == class_id,
            TeachingAssignment.subject_id == subject_id,
        )
        .exists()
    )


async def lesson_to_write(
    session: AsyncSession, *, actor: Actor, lesson_id: int, substitute_may_write: bool
) -> tuple[Lesson, SchoolClass]:
    """The lesson and its class, once the actor may write the diary for it (NOT_FOUND on
    `lessonId`, else as `require_may_write`); `substitute_may_write` lets the lesson's
    substitute teacher write too."""
    lesson = await session.get(Lesson, lesson_id)
    if lesson is None:
        raise not_found("lessonId", "Урок не найден")
    school_class = await session.get(SchoolClass, lesson.class_id)
    assert school_class is not None  # noqa: S101 - a foreign key
    await require_may_write(
        session,
        actor=actor,
        school_class=school_class,
        subject_id=lesson.subject_id,
        substitute_id=lesson.substitute_teacher_id if substitute_may_write else None,
    )
    return lesson, school_class


async def lock_school(session: AsyncSession, school_id: int) -> None:
    """Serialize the school's schedule writes: on PostgreSQL a row lock on the school,
    held to the end of the transaction, so a check-then-insert cannot interleave with
    another's. SQLite's write transactions already start with BEGIN IMMEDIATE."""
    connection = await session.connection()
    if connection.dialect.name == "postgresql":
        await session.execute(select(School.id).where(School.id == school_id).with_for_update())


async def staff_of(session: AsyncSession, *, school_id: int, user_ids: Iterable[int]) -> frozenset[int]:
    """Which of the users are active teachers or admins of the school."""
    ids = list(user_ids)
    if not ids:
        return frozenset()
    rows = await session.scalars(
        select(StaffMembership.user_id).where(
            StaffMembership.school_id == school_id,
            StaffMembership.user_id.in_(ids),
            StaffMembership.active.is_(True),
            StaffMembership.role.in_([StaffRole.TEACHER, StaffRole.SCHOOL_ADMIN]),
        )
    )
    return frozenset(rows.all())


async def enrolled(session: AsyncSession, *, class_id: int, date: dt.date, child_ids: Iterable[int]) -> frozenset[int]:
    """Which of the children are enrolled in the class on the date."""
    ids = list(child_ids)
    if not ids:
        return frozenset()
    rows = await session.scalars(
        select(Enrollment.child_id).where(
            Enrollment.class_id == class_id, Enrollment.child_id.in_(ids), *enrolled_on(date)
        )
    )
    return frozenset(rows.all())


async def enrolled_many(
    session: AsyncSession, keys: Iterable[tuple[int, int, dt.date]]
) -> frozenset[tuple[int, int, dt.date]]:
    """Which (child id, class id, date) hold: the child is enrolled in the class on the
    date. `enrolled` for many classes and dates, in one statement."""
    keys = list(keys)
    if not keys:
        return frozenset()
    rows = await session.execute(
        select(Enrollment.child_id, Enrollment.class_id, Enrollment.starts_on, Enrollment.ends_on).where(
            Enrollment.child_id.in_({child for child, _, _ in keys}),
            Enrollment.class_id.in_({class_id for _, class_id, _ in keys}),
        )
    )
    spans: dict[tuple[int, int], list[tuple[dt.date, dt.date | None]]] = {}
    for child, class_id, starts, ends in rows.all():
        spans.setdefault((child, class_id), []).append((starts, ends))
    return frozenset(
        (child, class_id, date)
        for child, class_id, date in keys
        if any(starts <= date and (ends is None or ends >= date) for starts, ends in spans.get((child, class_id), []))
    )


async def roster(session: AsyncSession, *, class_id: int, date: dt.date) -> frozenset[int]:
    rows = await session.scalars(select(Enrollment.child_id).where(Enrollment.class_id == class_id, *enrolled_on(date)))
    return frozenset(rows.all())


def global_id(type_name: str, pk: int) -> str:
    """The Relay global ID of a row, for messages that name it (the one encoder: public_ids)."""
    return public_ids.global_id(type_name, pk)


def enrolled_on_column(date: ColumnElement[dt.date] | InstrumentedAttribute[dt.date]) -> list[ColumnElement[bool]]:
    """Conditions: an enrolment covers the date in `date` (a column)."""
    return [Enrollment.starts_on <= date, or_(Enrollment.ends_on.is_(None), Enrollment.ends_on >= date)]


async def current_classes_of_children(
    session: AsyncSession, child_ids: Iterable[int]
) -> list[tuple[int, tuple[int, int]]]:
    """(child id, (class id, school id)) for the enrolments open today, each judged by
    its school's own today (its time zone), not the server's: between midnight in
    Moscow and midnight in UTC the two dates differ."""
    ids = list(child_ids)
    if not ids:
        return []
    earliest = dt.datetime.now(dt.UTC).date() - dt.timedelta(days=1)  # no zone is a day behind UTC's yesterday
    rows = await session.execute(
        select(
            Enrollment.child_id,
            Enrollment.starts_on,
            Enrollment.ends_on,
            SchoolClass.id,
            SchoolClass.school_id,
            School.timezone,
        )
        .join(SchoolClass, SchoolClass.id == Enrollment.class_id)
        .join(School, School.id == SchoolClass.school_id)
        .where(Enrollment.child_id.in_(ids), or_(Enrollment.ends_on.is_(None), Enrollment.ends_on >= earliest))
    )
    found = []
    for child, starts, ends, class_id, school_id, zone in rows.all():
        today = today_in(zone)
        if starts <= today and (ends is None or ends >= today):
            found.append((child, (class_id, school_id)))
    return found


Ts = TypeVarTuple("Ts")


async def rows_in_writable_schools(
    session: AsyncSession,
    stmt: Select[*Ts],
    school: InstrumentedAttribute[int],
    *,
    actor: Actor,
    scope: IntegrationScope,
) -> Sequence[Row[*Ts]]:
    """The rows of a write's look-up by id, looked for first in the schools the actor may
    write the diary at (`policy.diary_write_schools`; on PostgreSQL their partitions only)
    and anywhere else only when none is there: a row of another school is then found, to
    be refused by the caller as before. The second statement is on the refusal path only."""
    schools = policy.diary_write_schools(actor, scope)
    if schools:
        found = (await session.execute(stmt.where(school.in_(sorted(schools))))).all()
        if found:
            return found
    return (await session.execute(stmt)).all()
