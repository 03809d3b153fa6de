"""Completion of plain-data subtrees without per-field resolution.

graphql-core completes every field of a response on its own: a resolve info,
a path, a resolver call through Strawberry's wrappers, a completion. For the
diary's and the journal's lists that is about a thousand fields a response,
and it costs far more than the SQL behind them. Most of those fields are
plain data: attributes of objects a resolver has already built, with no
arguments, no resolver of their own and no field extension (permissions).

`LeanExecutionContext` compiles, once per request and selection, a plan for
each value whose whole selection is plain data, and completes it by walking
the objects directly. A selection that reaches any field with a resolver,
arguments, an abstract type or a deferred fragment gets no plan and is
completed the ordinary way, field by field. So does any value the plan cannot
complete as such (a null where the schema says non-null, a value of another
type, a scalar that does not serialize): the ordinary completion then reports
it exactly where it happened. Either way the response is the same; the plan
only skips the work.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

from graphql import (
    GraphQLError,
    GraphQLLeafType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLOutputType,
    GraphQLResolveInfo,
    is_leaf_type,
    is_object_type,
)
from graphql.execution.collect_fields import FieldDetailsList
from graphql.pyutils import Path
from strawberry import relay
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext
from strawberry.types.field import StrawberryField

DEFINITION = "strawberry-definition"  # where Strawberry keeps a GraphQL field's StrawberryField

Info = GraphQLResolveInfo[Any]
Plan = Callable[[Any], Any]
Getter = Callable[[Any], Any]


class _NotPlain(Exception):
    """The value cannot be completed by the plan; the ordinary completion takes over."""


class LeanExecutionContext(StrawberryGraphQLCoreExecutionContext):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # (return type, id of the field list) → (the field list, kept alive; the plan or None)
        self._plans: dict[tuple[int, int], tuple[FieldDetailsList, Plan | None]] = {}
        # middleware wraps every resolver call: with any, every field is resolved
        self._has_middleware = bool(self.middleware_manager and self.middleware_manager.middlewares)

    def complete_value(
        self,
        return_type: GraphQLOutputType,
        field_details_list: FieldDetailsList,
        info: Info,
        path: Path,
        result: Any,
        position_context: Any,
    ) -> Any:
        if not isinstance(result, Exception) and not self._has_middleware:
            key = (id(return_type), id(field_details_list))
            cached = self._plans.get(key)
            if cached is None:
                cached = (field_details_list, self._plan_value(return_type, field_details_list, info, top=True))
                self._plans[key] = cached
            plan = cached[1]
            if plan is not None:
                try:
                    return plan(result)
                except (_NotPlain, GraphQLError, TypeError, ValueError, AttributeError, KeyError):
                    pass  # completed the ordinary way below, which locates the problem
        return super().complete_value(return_type, field_details_list, info, path, result, position_context)

    # -- plans ---------------------------------------------------------------------------------

    def _plan_value(
        self, type_: GraphQLOutputType, fields: FieldDetailsList, info: Info, *, top: bool = False
    ) -> Plan | None:
        if isinstance(type_, GraphQLNonNull):
            inner = self._plan_value(type_.of_type, fields, info, top=top)
            return None if inner is None else _non_null(inner)
        if isinstance(type_, GraphQLList):
            item = self._plan_value(type_.of_type, fields, info)
            return None if item is None else _nullable(_list_of(item))
        if is_leaf_type(type_):
            # a lone scalar gains nothing from a plan: the ordinary completion is as short
            return None if top else _nullable(_leaf(type_))
        if is_object_type(type_):
            obj = self._plan_object(type_, fields, info)
            return None if obj is None else _nullable(obj)
        return None  # interfaces and unions: the runtime type is resolved the ordinary way

    def _plan_object(self, type_: GraphQLObjectType, fields: FieldDetailsList, info: Info) -> Plan | None:
        collected = self.collect_subfields(type_, fields)
        if collected.new_defer_usages:
            return None
        entries: list[tuple[str, Getter, Plan]] = []
        for key, sub in collected.grouped_field_set.items():
            name = sub[0].node.name.value
            if name == "__typename":
                entries.append((key, _constant(type_.name), _same))
                continue
            field = type_.fields.get(name)
            if field is None or field.args:
                return None
            getter = _getter(type_, field.extensions.get(DEFINITION))
            if getter is None:
                return None
            plan = self._plan_value(field.type, sub, info)
            if plan is None:
                return None
            entries.append((key, getter, plan))
        is_type_of = type_.is_type_of

        def complete(value: Any) -> dict[str, Any]:
            if is_type_of is not None and not is_type_of(value, info):
                raise _NotPlain
            return {key: plan(get(value)) for key, get, plan in entries}

        return complete


def _getter(type_: GraphQLObjectType, field: StrawberryField | None) -> Getter | None:
    """How to read a plain field off an object, or None if it is not plain data."""
    if field is None or field.extensions:
        return None
    if field.base_resolver is None:
        if field.default_resolver is not getattr:
            return None
        name = field.python_name
        return lambda value: getattr(value, name)
    resolver = field.base_resolver
    if field.python_name == "_id" and resolver.wrapped_func.__qualname__ == "Node._id":
        return _node_id(type_.name)
    # a synchronous method of the object itself, with no arguments: computed from its data
    method = resolver.wrapped_func
    if not callable(method) or resolver.is_async or resolver.arguments:
        return None
    if list(inspect.signature(method).parameters) != ["self"]:
        return None
    return lambda value: method(value)


def _node_id(type_name: str) -> Getter:
    """Relay's `id` of a node that keeps the default resolve_id/resolve_typename."""

    def read(value: Any) -> relay.GlobalID:
        origin = type(value)
        if (
            not isinstance(value, relay.Node)
            or origin.resolve_id.__func__ is not relay.Node.resolve_id.__func__  # type: ignore[attr-defined]
            or origin.resolve_typename.__func__ is not relay.Node.resolve_typename.__func__  # type: ignore[attr-defined]
        ):
            raise _NotPlain
        return relay.GlobalID(type_name, str(getattr(value, origin.resolve_id_attr())))

    return read


def _same(value: Any) -> Any:
    return value


def _constant(value: str) -> Getter:
    return lambda _: value


def _non_null(inner: Plan) -> Plan:
    def complete(value: Any) -> Any:
        completed = inner(value)
        if completed is None:
            raise _NotPlain
        return completed

    return complete


def _nullable(inner: Plan) -> Plan:
    return lambda value: None if value is None else inner(value)


def _list_of(item: Plan) -> Plan:
    def complete(value: Any) -> list[Any]:
        if isinstance(value, str | bytes | dict):
            raise _NotPlain
        return [item(v) for v in value]

    return complete


def _leaf(type_: GraphQLLeafType) -> Plan:
    complete_leaf = StrawberryGraphQLCoreExecutionContext.complete_leaf_value
    return lambda value: complete_leaf(type_, value)
