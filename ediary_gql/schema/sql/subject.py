"""Subject and ControlType (schema/types/subject.py) over SQL."""

from __future__ import annotations

from ediary_gql.db.json_shapes import SqlNested, SqlObject
from ediary_gql.schema.sql.common import entity, row_of
from ediary_gql.services.school_setup.subjects import DEFAULT_CONTROL_CODES


def subject(a: str) -> SqlObject:
    return entity("Subject", a, {"name": "name", "shortName": "short_name", "sourcedId": "external_id"})


def subject_by_id(column: str, a: str) -> SqlNested:
    return row_of("subjects", a, f"{a}.id = {column}", subject(a))


_DEFAULT_CODES = ", ".join(f"'{code}'" for code in sorted(DEFAULT_CONTROL_CODES))


def control_type(a: str) -> SqlObject:
    return entity(
        "ControlType",
        a,
        {"code": "code", "name": "name"},
        weight=f"{a}.weight::float8",
        isDefault=f"({a}.school_id IS NULL OR {a}.code IN ({_DEFAULT_CODES}))",
    )


def control_type_by_id(column: str, a: str) -> SqlNested:
    return row_of("control_types", a, f"{a}.id = {column}", control_type(a))
