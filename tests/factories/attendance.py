"""Attendance marks."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from ediary_gql.db.models.attendance import Attendance
from ediary_gql.db.models.enums import AttendanceStatus
from ediary_gql.db.models.lessons import Lesson
from tests.factories._base import now, persist, take_parents
from tests.factories.children import make_enrolled_child
from tests.factories.lessons import make_lesson


async def make_attendance(session: AsyncSession, **overrides: Any) -> Attendance:
    """PRESENT at the lesson (made if not given), marked by its teacher; a LATE
    mark gets 10 minutes unless told otherwise."""
    o = take_parents(overrides)
    if "lesson_id" not in o:
        o["lesson_id"] = (await make_lesson(session)).id
    lesson = await session.get(Lesson, o["lesson_id"])
    assert lesson is not None
    if "child_id" not in o:
        o["child_id"] = (await make_enrolled_child(session, class_id=lesson.class_id)).id
    status = o.get("status", AttendanceStatus.PRESENT)
    fields: dict[str, Any] = {
        "school_id": lesson.school_id,
        "status": status,
        "minutes_late": 10 if status is AttendanceStatus.LATE else None,
        "reason": "По болезни" if status is AttendanceStatus.SICK else None,
        "marked_by_id": lesson.teacher_id,
        "marked_at": now(),
    }
    fields.update(o)
    return await persist(session, Attendance(**fields))
