"""Child (schema/types/school_class.py) over SQL. Its documents (SNILS, birth
certificate) are the policy's and audited, its class and enrolments and averages are
read through their own rules: all completed the ordinary way."""

from __future__ import annotations

from ediary_gql.db.json_shapes import SqlNested, SqlObject
from ediary_gql.schema.sql.common import NAMES, entity, full_name, row_of


def child(a: str) -> SqlObject:
    columns = {**NAMES, "birthDate": "birth_date", "sex": "sex", "citizenship": "citizenship"}
    return entity("Child", a, {**columns, "sourcedId": "external_id"}, fullName=full_name(a))


def child_by_id(column: str, a: str) -> SqlNested:
    return row_of("children", a, f"{a}.id = {column}", child(a))
