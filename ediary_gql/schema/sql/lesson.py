"""Lesson (schema/types/lesson.py) over SQL; startsAt and endsAt in its school's time zone."""

from __future__ import annotations

from ediary_gql.db.json_shapes import SqlNested, SqlObject
from ediary_gql.schema.sql.common import TIME, entity, row_of, zoned
from ediary_gql.schema.sql.school_class import school_class_by_id
from ediary_gql.schema.sql.subject import subject_by_id
from ediary_gql.schema.sql.user import user_by_id


def _zone(a: str) -> str:
    """The lesson's school's time zone, as schema/types/lesson.py reads it (its DEFAULT_ZONE
    for a school that is gone: that module imports this package, so it is not imported here)."""
    return f"coalesce((SELECT {a}_z.timezone FROM schools {a}_z WHERE {a}_z.id = {a}.school_id), 'Europe/Moscow')"


def lesson(a: str) -> SqlObject:
    return entity(
        "Lesson",
        a,
        {
            "date": "date",
            "lessonNumber": "lesson_number",
            "room": "room",
            "topic": "topic",
            "status": "status",
            "sourcedId": "external_id",
        },
        startTime=TIME.format(f"{a}.start_time"),
        endTime=TIME.format(f"{a}.end_time"),
        startsAt=zoned(f"{a}.date", f"{a}.start_time", _zone(a), f"{a}_start"),
        endsAt=zoned(f"{a}.date", f"{a}.end_time", _zone(a), f"{a}_end"),
        subject=subject_by_id(f"{a}.subject_id", f"{a}_s"),
        schoolClass=school_class_by_id(f"{a}.class_id", f"{a}_k"),
        teacher=user_by_id(f"{a}.teacher_id", f"{a}_t"),
        substituteTeacher=user_by_id(f"{a}.substitute_teacher_id", f"{a}_st"),
    )


def lesson_by_id(column: str, a: str) -> SqlNested:
    return row_of("lessons", a, f"{a}.id = {column}", lesson(a))
