"""Grade and GradeRevision (schema/types/grade.py) over SQL, with the grade's control
type, teacher and history; its sync ID is completed the ordinary way."""

from __future__ import annotations

from ediary_gql.db.json_shapes import SqlNested, SqlObject
from ediary_gql.schema.sql.child import child_by_id
from ediary_gql.schema.sql.common import DATETIME, entity, rows_of
from ediary_gql.schema.sql.lesson import lesson_by_id
from ediary_gql.schema.sql.period import period_by_id
from ediary_gql.schema.sql.subject import control_type_by_id, subject_by_id
from ediary_gql.schema.sql.user import user_by_id
from ediary_gql.services.public_ids import camel


def grade_revision(a: str) -> SqlObject:
    columns = ("action", "old_value", "new_value", "old_comment", "new_comment", "reason")
    fields: dict[str, str | SqlNested] = {camel(c): f"{a}.{c}" for c in columns}
    fields["changedAt"] = DATETIME.format(f"{a}.changed_at")
    fields["changedBy"] = user_by_id(f"{a}.changed_by_id", f"{a}_u")
    return SqlObject(fields)


def grade(a: str) -> SqlObject:
    return entity(
        "Grade",
        a,
        {"value": "value", "numericValue": "numeric_value", "kind": "kind", "comment": "comment"},
        weight=f"{a}.weight::text",
        gradedOn=f"{a}.graded_on",
        isDeleted=f"({a}.deleted_at IS NOT NULL)",
        controlType=control_type_by_id(f"{a}.control_type_id", f"{a}_ct"),
        teacher=user_by_id(f"{a}.teacher_id", f"{a}_t"),
        subject=subject_by_id(f"{a}.subject_id", f"{a}_s"),
        lesson=lesson_by_id(f"{a}.lesson_id", f"{a}_l"),
        period=period_by_id(f"{a}.period_id", f"{a}_p"),
        child=child_by_id(f"{a}.child_id", f"{a}_c"),
        history=rows_of("grade_revisions", f"{a}_h", f"{a}_h.grade_id = {a}.id", f"{a}_h.id", grade_revision(f"{a}_h")),
    )
