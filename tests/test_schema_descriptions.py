"""Every type, field, argument, enum value and input field of the schema has a description
(walked through graphql-core's introspection of the built schema; built-in scalars and the
introspection types are graphql-core's own)."""

from __future__ import annotations

from typing import Any

from graphql import get_introspection_query, graphql_sync

from ediary_gql.schema.root import build_schema
from ediary_gql.settings import load_settings

BUILT_IN = {"String", "Int", "Float", "Boolean", "ID"}


def undescribed() -> list[str]:
    schema = build_schema(load_settings(secret_key="x" * 32))._schema
    result = graphql_sync(schema, get_introspection_query(descriptions=True, input_value_deprecation=True))
    assert result.errors is None, result.errors
    assert result.data is not None
    missing: list[str] = []

    def check(element: dict[str, Any], path: str) -> None:
        if not (element.get("description") or "").strip():
            missing.append(path)

    for t in result.data["__schema"]["types"]:
        name = t["name"]
        if name.startswith("__") or name in BUILT_IN:
            continue
        check(t, name)
        for field in t.get("fields") or []:
            check(field, f"{name}.{field['name']}")
            for arg in field["args"]:
                check(arg, f"{name}.{field['name']}({arg['name']}:)")
        for field in t.get("inputFields") or []:
            check(field, f"{name}.{field['name']}")
        for value in t.get("enumValues") or []:
            check(value, f"{name}.{value['name']}")
    return sorted(missing)


def test_every_schema_element_has_a_description() -> None:
    missing = undescribed()
    assert missing == [], "describe these (description=... on the type, field, argument or enum value):\n" + "\n".join(
        missing
    )
