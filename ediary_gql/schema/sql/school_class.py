"""SchoolClass (schema/types/school_class.py) over SQL; its roster, teachers and homeroom
teacher are the policy's and are completed the ordinary way."""

from __future__ import annotations

from ediary_gql.db.json_shapes import SqlNested, SqlObject
from ediary_gql.schema.sql.common import entity, row_of


def school_class(a: str) -> SqlObject:
    return entity(
        "SchoolClass",
        a,
        {"level": "level", "letter": "letter", "sourcedId": "external_id"},
        name=f"({a}.level::text || {a}.letter)",
    )


def school_class_by_id(column: str, a: str) -> SqlNested:
    return row_of("school_classes", a, f"{a}.id = {column}", school_class(a))
