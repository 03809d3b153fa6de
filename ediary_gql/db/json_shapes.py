"""Objects described field by field as SQL, for JSON the database builds in a response's shape.

A read that PostgreSQL can answer as JSON describes each GraphQL object type
it returns as a `SqlObject` (an expression per field) and each object or list
it nests as a `SqlNested` (SQL around the object's json_build_object). The
GraphQL layer renders a selection with them (schema/execution.py). An object
with a `key` (its row's primary key) may leave fields out: those are completed
the ordinary way, from the row that key names.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class SqlObject:
    """An object type's fields as SQL: a leaf's expression (its value as the response
    carries it), or a SqlNested for an object or a list of objects. `key`: the
    expression of the row's primary key, for the fields described nowhere here."""

    fields: Mapping[str, str | SqlNested]
    key: str | None = None


@dataclass(frozen=True, slots=True)
class SqlNested:
    """SQL giving a value built from an object: `template` holds `{object}` where that
    object's json_build_object goes (inline for one object, inside json_agg for a list)."""

    template: str
    of: SqlObject
