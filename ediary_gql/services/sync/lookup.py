"""Records by the school's sourcedIds: one found by its type and sourcedId
(nodeBySourcedId), and the sourcedIds of the records that keep theirs in roster links
(teachers, guardians, grades, marks)."""

from __future__ import annotations

import enum
from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from ediary_gql.db.base import Base
from ediary_gql.db.models.attendance import Attendance
from ediary_gql.db.models.children import Child
from ediary_gql.db.models.classes import SchoolClass, Subject
from ediary_gql.db.models.grades import Grade
from ediary_gql.db.models.lessons import Lesson
from ediary_gql.db.models.school_setup import RosterLink
from ediary_gql.db.models.users import User
from ediary_gql.services.roster_import.lookup import chunks


class SourcedType(enum.StrEnum):
    """What a sourcedId names; a person is named as a teacher or as a guardian."""

    CHILD = "CHILD"
    TEACHER = "TEACHER"
    GUARDIAN = "GUARDIAN"
    SCHOOL_CLASS = "SCHOOL_CLASS"
    SUBJECT = "SUBJECT"
    LESSON = "LESSON"
    GRADE = "GRADE"
    ATTENDANCE = "ATTENDANCE"


# rows with a sourcedId column of their own
_OWN: dict[SourcedType, type[Child] | type[SchoolClass] | type[Subject] | type[Lesson]] = {
    SourcedType.CHILD: Child,
    SourcedType.SCHOOL_CLASS: SchoolClass,
    SourcedType.SUBJECT: Subject,
    SourcedType.LESSON: Lesson,
}
# rows whose sourcedId is a roster link of this kind
_LINKED: dict[SourcedType, type[User] | type[Grade] | type[Attendance]] = {
    SourcedType.TEACHER: User,
    SourcedType.GUARDIAN: User,
    SourcedType.GRADE: Grade,
    SourcedType.ATTENDANCE: Attendance,
}


async def find(session: AsyncSession, *, school_id: int, type: SourcedType, sourced_id: str) -> Base | None:
    """The school's record of that type under that sourcedId, or None. Whether the
    viewer may see it is asked by the caller, as for any node."""
    own = _OWN.get(type)
    if own is not None:
        return await session.scalar(select(own).where(own.school_id == school_id, own.external_id == sourced_id))
    target = await session.scalar(
        select(RosterLink.target_id).where(
            RosterLink.school_id == school_id, RosterLink.kind == type.value, RosterLink.external_id == sourced_id
        )
    )
    return None if target is None else await session.get(_LINKED[type], target)


async def people_sourced_ids(session: AsyncSession, user_ids: Sequence[int]) -> list[tuple[int, tuple[int, str, str]]]:
    """(user id, (school id, TEACHER or GUARDIAN, sourcedId)) of the people's roster links."""
    rows = await session.execute(
        select(RosterLink.target_id, RosterLink.school_id, RosterLink.kind, RosterLink.external_id)
        .where(RosterLink.kind.in_(("TEACHER", "GUARDIAN")), RosterLink.target_id.in_(list(user_ids)))
        .order_by(RosterLink.kind.desc(), RosterLink.id)  # a teacher's before a guardian's
    )
    return [(user_id, (school_id, kind, sid)) for user_id, school_id, kind, sid in rows.all()]


async def grade_sourced_ids(session: AsyncSession, grade_ids: Sequence[int]) -> list[tuple[int, str]]:
    return await _linked(session, "GRADE", grade_ids)


async def attendance_sourced_ids(session: AsyncSession, mark_ids: Sequence[int]) -> list[tuple[int, str]]:
    return await _linked(session, "ATTENDANCE", mark_ids)


async def _linked(session: AsyncSession, kind: str, ids: Sequence[int]) -> list[tuple[int, str]]:
    found: list[tuple[int, str]] = []
    for chunk in chunks(list(ids)):  # within the database's limit of bound parameters
        rows = await session.execute(
            select(RosterLink.target_id, RosterLink.external_id).where(
                RosterLink.kind == kind, RosterLink.target_id.in_(chunk)
            )
        )
        found.extend((target, sid) for target, sid in rows.all())
    return found
