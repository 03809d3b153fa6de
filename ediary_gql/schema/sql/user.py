"""User (schema/types/user.py) and DiaryTeacher (schema/types/diary.py) over SQL.

A user's contacts, birth date, memberships and the rest are the policy's to
mask or refuse at run time: they are not described, so they are completed the
ordinary way."""

from __future__ import annotations

from ediary_gql.db.json_shapes import SqlNested, SqlObject
from ediary_gql.schema.sql.common import NAMES, entity, full_name, row_of


def user(a: str) -> SqlObject:
    return entity("User", a, {**NAMES, "status": "status", "isOperator": "is_operator"}, fullName=full_name(a))


def user_by_id(column: str, a: str) -> SqlNested:
    return row_of("users", a, f"{a}.id = {column}", user(a))


def diary_teacher(a: str) -> SqlObject:
    return entity("DiaryTeacher", a, NAMES, fullName=full_name(a))
