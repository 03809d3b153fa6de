"""The one codec of global IDs in inputs: an input field says which type it names
(`node_id("Lesson")`), and `decode` turns an input into plain values, every ID checked
and every wrong one reported at once with its input path (`["marks", "3", "childId"]`)."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

import strawberry
from strawberry import relay
from strawberry.types.base import has_object_definition
from strawberry.utils.str_converters import to_camel_case

from ediary_gql.db.ids import parse_id
from ediary_gql.errors import DomainError, ErrorCode, FieldError
from ediary_gql.text import is_digits

NODE_TYPE = "ediary.node_type"
AT_LIST = "ediary.node_list_path"


def node_id(
    type_name: str,
    *,
    description: str | None = None,
    default: Any = dataclasses.MISSING,
    default_factory: Any = dataclasses.MISSING,
    item_paths: bool = True,
) -> Any:
    """An input field holding the global ID (or a list of them) of a `type_name`. A wrong ID
    in a list is reported at its item's path (`["ids", "2"]`); with `item_paths=False`, once,
    at the list's own path (`["ids"]`)."""
    metadata: dict[str, Any] = {NODE_TYPE: type_name} if item_paths else {NODE_TYPE: type_name, AT_LIST: True}
    if description is None:  # what the field takes, when its input says no more
        many = default_factory is not dataclasses.MISSING
        description = f"Global ID{'s' if many else ''} of {'the ' if not many else ''}{type_name}{'s' if many else ''}"
    if default_factory is not dataclasses.MISSING:  # a list of IDs, empty unless given
        return strawberry.field(description=description, default_factory=default_factory, metadata=metadata)
    if default is dataclasses.MISSING:
        return strawberry.field(description=description, metadata=metadata)
    return strawberry.field(description=description, default=default, metadata=metadata)


def pk_or_none(global_id: relay.GlobalID, type_name: str) -> int | None:
    """The database id inside a global ID of `type_name`; None for another type, or for an
    id that is no row's (not digits, beyond the signed 64-bit range: db/ids.py). For reads
    that answer null for what does not exist."""
    return parse_id(global_id.node_id) if global_id.type_name == type_name else None


def pk(global_id: relay.GlobalID, type_name: str, *, field: str | tuple[str, ...]) -> int:
    """The database id inside one global ID (an argument rather than an input field)."""
    found = pk_or_none(global_id, type_name)
    if found is None:
        path = (field,) if isinstance(field, str) else field
        raise DomainError(ErrorCode.INVALID, f"Ожидается идентификатор типа {type_name}", field=path)
    return found


def optional_pk(global_id: relay.GlobalID | None, type_name: str, *, field: str) -> int | None:
    return None if global_id is None else pk(global_id, type_name, field=field)


def entity_filter_pk(entity: relay.GlobalID | None) -> int | None:
    """The id of a filter's entity, of whatever type it names (the audit trail's): None for
    the type alone (no digits), -1 (matches nothing) for an id beyond every row's."""
    if entity is None or not is_digits(entity.node_id):
        return None
    found = parse_id(entity.node_id)
    return -1 if found is None else found


class Fields(Mapping[str, Any]):
    """A nested input, decoded: its fields by Python name, as attributes too (`mark.child_id`)."""

    __slots__ = ("_values",)

    def __init__(self, values: dict[str, Any]) -> None:
        self._values = values

    def __getattr__(self, name: str) -> Any:
        try:
            return self._values[name]
        except KeyError:
            raise AttributeError(name) from None

    def __getitem__(self, key: str) -> Any:
        return self._values[key]

    def __iter__(self) -> Any:
        return iter(self._values)

    def __len__(self) -> int:
        return len(self._values)

    def __repr__(self) -> str:
        return f"Fields({self._values!r})"


def decode(value: Any) -> dict[str, Any]:
    """An input's fields by Python name: global IDs as database ids, nested inputs as
    `Fields`, anything else as given. DomainError with every malformed ID's path."""
    errors: list[FieldError] = []
    fields = _fields(value, (), errors)
    if errors:
        raise DomainError(errors=errors)
    return fields


def _fields(value: Any, path: tuple[str, ...], errors: list[FieldError]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for field in value.__strawberry_definition__.fields:
        name = field.python_name
        where = (*path, field.graphql_name or to_camel_case(name))
        found: list[FieldError] = []
        out[name] = _value(getattr(value, name), field.metadata.get(NODE_TYPE), where, found)
        if found and field.metadata.get(AT_LIST):  # reported once, at the list's own path
            found = [dataclasses.replace(found[0], field=where)]
        errors.extend(found)
    return out


def _value(value: Any, node_type: str | None, path: tuple[str, ...], errors: list[FieldError]) -> Any:
    if value is None or value is strawberry.UNSET:
        return value
    if isinstance(value, list):
        return [_value(item, node_type, (*path, str(i)), errors) for i, item in enumerate(value)]
    if node_type is not None:
        found = pk_or_none(value, node_type) if isinstance(value, relay.GlobalID) else None
        if found is None:
            errors.append(FieldError(ErrorCode.INVALID, f"Ожидается идентификатор типа {node_type}", path))
            return -1
        return found
    if has_object_definition(value):
        return Fields(_fields(value, path, errors))
    return value
