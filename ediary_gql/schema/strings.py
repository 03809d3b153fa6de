"""String input that SQL cannot take: NUL (U+0000).

PostgreSQL refuses NUL in text and jsonb (SQLite stores it); no name, search text or
code has one. So every string a request sends — literals in the document, variables,
at any depth of an input object or a JSON value — is checked here, once, before
execution, and a NUL refuses the operation with `extensions.code = "INVALID"` and
`extensions.field`, the path of the argument (e.g. `["query"]`, `["input", "lastName"]`):
the same for searches and for writes, and no resolver has to think of it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from graphql import (
    DocumentNode,
    ExecutableDefinitionNode,
    FieldNode,
    GraphQLError,
    InlineFragmentNode,
    ListValueNode,
    ObjectValueNode,
    SelectionSetNode,
    StringValueNode,
    ValueNode,
    VariableNode,
)

NUL = "\x00"
CACHE_SIZE = 512


class _Facts:
    """What a document says about its strings: the path of a literal with a NUL, and the
    argument path each variable is used at."""

    def __init__(self, document: DocumentNode) -> None:
        self.document = document
        self.literal: list[str] | None = None
        self.variables: dict[str, list[str]] = {}
        for definition in document.definitions:
            if isinstance(definition, ExecutableDefinitionNode):
                for variable in getattr(definition, "variable_definitions", None) or ():
                    if variable.default_value is not None:
                        self._value(variable.default_value, [f"${variable.variable.name.value}"])
                self._selections(definition.selection_set)

    def _selections(self, selection_set: SelectionSetNode | None) -> None:
        for selection in selection_set.selections if selection_set else ():
            if isinstance(selection, FieldNode):
                for argument in selection.arguments or ():
                    self._value(argument.value, [argument.name.value])
                self._selections(selection.selection_set)
            elif isinstance(selection, InlineFragmentNode):
                self._selections(selection.selection_set)

    def _value(self, node: ValueNode, path: list[str]) -> None:
        if isinstance(node, StringValueNode):
            if NUL in node.value and self.literal is None:
                self.literal = path
        elif isinstance(node, VariableNode):
            self.variables.setdefault(node.name.value, path)
        elif isinstance(node, ListValueNode):
            for index, item in enumerate(node.values):
                self._value(item, [*path, str(index)])
        elif isinstance(node, ObjectValueNode):
            for field in node.fields:
                self._value(field.value, [*path, field.name.value])


_FACTS: dict[int, _Facts] = {}


def _facts(document: DocumentNode) -> _Facts:
    found = _FACTS.get(id(document))
    if found is not None and found.document is document:
        return found
    facts = _Facts(document)
    if len(_FACTS) >= CACHE_SIZE:
        del _FACTS[next(iter(_FACTS))]
    _FACTS[id(document)] = facts  # holding the document keeps its id unused meanwhile
    return facts


def _nul_in(value: Any) -> list[str] | None:
    """The path to a string with a NUL inside a variable's value; None if there is none."""
    if isinstance(value, str):
        return [] if NUL in value else None
    if isinstance(value, Mapping):
        for key, item in value.items():
            if isinstance(key, str) and NUL in key:
                return [key.replace(NUL, "\\u0000")]
            found = _nul_in(item)
            if found is not None:
                return [str(key), *found]
    elif isinstance(value, list | tuple):
        for index, item in enumerate(value):
            found = _nul_in(item)
            if found is not None:
                return [str(index), *found]
    return None


def nul_refusal(document: DocumentNode, variables: Mapping[str, Any] | None) -> GraphQLError | None:
    """The refusal of a request sending a NUL in any string; None for the others."""
    facts = _facts(document)
    field = facts.literal
    for name, value in (variables or {}).items():
        if field is not None:
            break
        inner = _nul_in(value)
        if inner is not None:
            field = [*facts.variables.get(name, [f"${name}"]), *inner]
    if field is None:
        return None
    return GraphQLError(
        f"Аргумент «{'.'.join(field)}» содержит недопустимый символ NUL (U+0000)",
        extensions={"code": "INVALID", "field": field},
    )
