"""Lesson (schema/types/lesson.py) over SQL; startsAt and endsAt (in the school's time
zone) are completed the ordinary way."""

from __future__ import annotations

from ediary_gql.db.json_shapes import SqlNested, SqlObject
from ediary_gql.schema.sql.common import TIME, entity, row_of
from ediary_gql.schema.sql.school_class import school_class_by_id
from ediary_gql.schema.sql.subject import subject_by_id
from ediary_gql.schema.sql.user import user_by_id


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
        subject=subject_by_id(f"{a}.subject_id", f"{a}_s"),
        schoolClass=school_class_by_id(f"{a}.class_id", f"{a}_k"),
        teacher=user_by_id(f"{a}.teacher_id", f"{a}_t"),
        substituteTeacher=user_by_id(f"{a}.substitute_teacher_id", f"{a}_st"),
    )


def lesson_by_id(column: str, a: str) -> SqlNested:
    return row_of("lessons", a, f"{a}.id = {column}", lesson(a))
