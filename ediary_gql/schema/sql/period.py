"""Period (schema/types/academic_year.py) over SQL."""

from __future__ import annotations

from ediary_gql.db.json_shapes import SqlNested, SqlObject
from ediary_gql.schema.sql.common import entity, row_of


def period(a: str) -> SqlObject:
    return entity("Period", a, {"number": "number", "name": "name", "startsOn": "starts_on", "endsOn": "ends_on"})


def period_by_id(column: str, a: str) -> SqlNested:
    return row_of("periods", a, f"{a}.id = {column}", period(a))
