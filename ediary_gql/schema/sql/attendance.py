"""Attendance (schema/types/attendance.py) over SQL, with who marked it; its sync ID is
completed the ordinary way."""

from __future__ import annotations

from ediary_gql.db.json_shapes import SqlObject
from ediary_gql.schema.sql.child import child_by_id
from ediary_gql.schema.sql.common import DATETIME, entity
from ediary_gql.schema.sql.lesson import lesson_by_id
from ediary_gql.schema.sql.user import user_by_id


def attendance(a: str) -> SqlObject:
    return entity(
        "Attendance",
        a,
        {"status": "status", "minutesLate": "minutes_late", "reason": "reason"},
        markedAt=DATETIME.format(f"{a}.marked_at"),
        markedBy=user_by_id(f"{a}.marked_by_id", f"{a}_u"),
        child=child_by_id(f"{a}.child_id", f"{a}_c"),
        lesson=lesson_by_id(f"{a}.lesson_id", f"{a}_l"),
    )
