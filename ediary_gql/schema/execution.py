"""Completion of plain-data subtrees without per-field resolution.

graphql-core completes every field of a response on its own: a resolve info,
a path, a resolver call through Strawberry's wrappers, a completion. For the
diary's and the journal's lists that is about a thousand fields a response,
and it costs far more than the SQL behind them. Most of those fields are
plain data: attributes of objects a resolver has already built, with no
arguments, no resolver of their own and no field extension (permissions).

`LeanExecutionContext` compiles a plan for each value whose whole selection is
plain data (one generated function per object selection, kept across requests
when the document has no @skip/@include), and completes it by walking the
objects directly. A selection that reaches any field with a resolver,
arguments, an abstract type or a deferred fragment gets no plan and is
completed the ordinary way, field by field. So does any value the plan cannot
complete as such (a null where the schema says non-null, a value of another
type, a scalar that does not serialize): the ordinary completion then reports
it exactly where it happened. Either way the response is the same; the plan
only skips the work.

A resolver may also return `Prebuilt`: the service's rows and each type's
fields described over SQL (db/json_shapes.py, schema/sql/). The selection is
rendered into one statement whose JSON is the value itself. A selected field
with no SQL (or with arguments) is completed per field: the statement gives the
object's primary key under a private key, the object is loaded through the
request's loaders and built from its row, and only those fields are executed
the ordinary way (resolvers, permissions, errors as ever), then merged in.
With nothing to complete, the database's text goes into the response untouched.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
import re
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any, cast

import orjson
from graphql import (
    BREAK,
    DirectiveNode,
    FragmentDefinitionNode,
    GraphQLError,
    GraphQLLeafType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLOutputType,
    GraphQLResolveInfo,
    Node,
    OperationDefinitionNode,
    Undefined,
    Visitor,
    get_named_type,
    is_leaf_type,
    is_object_type,
    visit,
)
from graphql.execution.collect_fields import FieldDetailsList
from graphql.pyutils import Path
from strawberry import relay
from strawberry.relay.utils import to_base64
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext
from strawberry.types.field import StrawberryField

from ediary_gql.db.json_shapes import SqlNested
from ediary_gql.schema.sql import request

log = logging.getLogger(__name__)

DEFINITION = "strawberry-definition"  # where Strawberry keeps a GraphQL field's StrawberryField

Info = GraphQLResolveInfo[Any]
Plan = Callable[[Any], Any]


@dataclass
class Prebuilt:
    """What a resolver returns when its data can come two ways: as the response itself,
    JSON built by the database from SQL rendered for the selection (`root`; `document`
    runs it, with the rendering's own parameters (the request's values it binds), after
    its own checks and gives the JSON text), or as objects to complete as usual. SQL
    whenever the selection renders (fields without SQL are then completed per object);
    the objects when it cannot (middleware, @defer, a field of a type with no key and no SQL)."""

    root: SqlNested
    document: Callable[[str, Mapping[str, Any]], Awaitable[bytes]]
    objects: Callable[[], Awaitable[Any]]
    type_name: str | None = None  # the object type, where the field's is an interface (node)


@dataclass(frozen=True, slots=True)
class _Fill:
    """Where an object of the database's JSON needs fields completed the ordinary way:
    `missing` (by response key) from the row its private key names, built by `origin`;
    `nested`: the fills below it, with each field's output type."""

    type_: GraphQLObjectType
    origin: Any  # an EntityNode class, or None
    order: tuple[str, ...]
    missing: dict[str, FieldDetailsList]
    nested: dict[str, tuple[GraphQLOutputType, _Fill]]


@dataclass(frozen=True, slots=True)
class _Rendered:
    sql: str
    fill: _Fill | None
    parameters: tuple[str, ...] = ()  # the request's values the SQL binds (schema/sql/request.py)


_KEY = "__pk"  # where the SQL puts a row's primary key (a selection aliasing a field so is read the ordinary way)


_NAME = re.compile(r"[_A-Za-z][_0-9A-Za-z]*\Z")
_MAX_PAIRS = 50  # json_build_object takes at most 100 arguments


class _NotPlain(Exception):
    """The value cannot be completed by the plan; the ordinary completion takes over."""


class LeanExecutionContext(StrawberryGraphQLCoreExecutionContext):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # middleware wraps every resolver call: with any, every field is resolved
        self._lean = not (self.middleware_manager and self.middleware_manager.middlewares)
        # plans outlive the request when nothing in the document depends on variables
        self._shared = self._lean and _document_is_static(self.operation, self.fragment_definitions)
        self._plans: dict[tuple[int, ...], tuple[tuple[Any, ...], Plan | None]] = {}
        # while planning: each object selection's own function, for the parent to call inline
        self._objects: dict[tuple[int, int], Plan] = {}

    def complete_value(
        self,
        return_type: GraphQLOutputType,
        field_details_list: FieldDetailsList,
        info: Info,
        path: Path,
        result: Any,
        position_context: Any,
    ) -> Any:
        if result.__class__ is Prebuilt:
            return self._complete_prebuilt(return_type, field_details_list, info, path, result, position_context)
        if self._lean and not isinstance(result, Exception):
            plan = self._plan_for(return_type, field_details_list)
            if plan is not None:
                try:
                    return plan(result)
                except (_NotPlain, GraphQLError, TypeError, ValueError, AttributeError, KeyError):
                    pass  # completed the ordinary way below, which locates the problem
        return super().complete_value(return_type, field_details_list, info, path, result, position_context)

    async def _complete_prebuilt(
        self,
        return_type: GraphQLOutputType,
        fields: FieldDetailsList,
        info: Info,
        path: Path,
        result: Prebuilt,
        position_context: Any,
    ) -> Any:
        """The database's JSON when the selection renders as SQL; else the objects, completed."""
        rendered = None
        if result.type_name is not None:  # an interface's field: rendered as the object's type
            return_type = cast("GraphQLOutputType", self.schema.get_type(result.type_name))
        if self._lean:  # middleware would see none of the fields the SQL answers
            rendered = cast(
                "_Rendered | None",
                self._cached(
                    result.root, return_type, fields, lambda: self._rendered(result.root, return_type, fields, info)
                ),
            )
        if rendered is not None:
            arguments = request.values(rendered.parameters, self.context_value) if rendered.parameters else {}
            document = await result.document(rendered.sql, arguments)
            if rendered.fill is None:
                return orjson.Fragment(document)
            return await self._complete_fill(orjson.loads(document), return_type, rendered.fill, path, position_context)
        completed = self.complete_value(return_type, fields, info, path, await result.objects(), position_context)
        return await completed if self.is_awaitable(completed) else completed

    def _plan_for(self, return_type: GraphQLOutputType, fields: FieldDetailsList) -> Plan | None:
        return self._cached(None, return_type, fields, lambda: self._plan_value(return_type, fields, top=True))

    def _cached(
        self, kind: Any, return_type: GraphQLOutputType, fields: FieldDetailsList, make: Callable[[], Plan | None]
    ) -> Plan | None:
        # The key holds ids; the entry keeps the objects themselves alive, so no id is reused
        # while its entry exists, and `is` confirms the hit.
        if self._shared and all(f.fragment_variable_values is None and f.defer_usage is None for f in fields):
            nodes: tuple[Any, ...] = (kind, return_type, *(f.node for f in fields))
            cache = _SHARED_PLANS
        else:
            nodes = (kind, return_type, fields)
            cache = self._plans
        key = tuple(map(id, nodes))
        found = cache.get(key)
        if found is not None and all(a is b for a, b in zip(found[0], nodes, strict=True)):
            return found[1]
        plan = make()
        if cache is _SHARED_PLANS and len(cache) >= SHARED_PLANS_MAX:
            cache.pop(next(iter(cache)))
        cache[key] = (nodes, plan)
        return plan

    # -- SQL rendered for a selection ---------------------------------------------------------

    def _rendered(self, root: SqlNested, type_: GraphQLOutputType, fields: FieldDetailsList, info: Info) -> Any:
        fell_back: list[str] = []
        found = self._render(root, type_, fields, fell_back)
        if found is None:
            log.info("compiled read %s: the selection is read the ordinary way", info.field_name)
            return None
        if fell_back:
            log.info(
                "compiled read %s: completed the ordinary way: %s", info.field_name, ", ".join(sorted(set(fell_back)))
            )
        return _Rendered(*found, request.named_in(found[0]))

    def _render(
        self, nested: SqlNested, type_: GraphQLOutputType, fields: FieldDetailsList, fell_back: list[str]
    ) -> tuple[str, _Fill | None] | None:
        """`nested` with the selection's json_build_object in place (response keys: aliases
        and __typename included) and what is left to complete; None if the selection
        cannot be rendered at all (a field without SQL in an object without a key)."""
        named = get_named_type(type_)
        if not is_object_type(named):
            return None
        collected = self.collect_subfields(named, fields)
        grouped = collected.grouped_field_set
        if collected.new_defer_usages or len(grouped) >= _MAX_PAIRS:
            return None
        origin = getattr(named.extensions.get(DEFINITION), "origin", None)
        keyed = nested.of.key is not None and hasattr(origin, "model") and hasattr(origin, "from_row")
        pairs: list[str] = []
        missing: dict[str, FieldDetailsList] = {}
        below: dict[str, tuple[GraphQLOutputType, _Fill]] = {}
        for key, sub in grouped.items():
            name = sub[0].node.name.value
            if not _NAME.match(key) or key == _KEY:  # GraphQL names only: they go into SQL as string literals
                return None
            if name == "__typename":
                pairs.append(f"'{key}', '{named.name}'")
                continue
            field = named.fields[name]
            spec = None if field.args or _has_extensions(field) else nested.of.fields.get(name)
            inner = spec if isinstance(spec, str) or spec is None else self._render(spec, field.type, sub, fell_back)
            if inner is None:
                if not keyed:
                    return None
                missing[key] = sub
                fell_back.append(f"{named.name}.{name}")
            elif isinstance(inner, str):
                pairs.append(f"'{key}', {inner}")
            else:
                pairs.append(f"'{key}', {inner[0]}")
                if inner[1] is not None:
                    below[key] = (field.type, inner[1])
        if missing:
            pairs.append(f"'{_KEY}', {nested.of.key}")
        fill = None
        if missing or below:
            fill = _Fill(named, origin if keyed else None, tuple(grouped), missing, below)
        return nested.template.replace("{object}", f"json_build_object({', '.join(pairs)})"), fill

    async def _complete_fill(
        self, data: Any, type_: GraphQLOutputType, fill: _Fill, path: Path, position_context: Any
    ) -> Any:
        """The database's JSON with the fields it does not give completed the ordinary way."""
        pending: list[tuple[dict[str, Any], _Fill, Path]] = []
        _pending(data, fill, path, pending)
        loaders = self.context_value.loaders
        rows = await asyncio.gather(*(loaders.by_id(f.origin.model).load(obj[_KEY]) for obj, f, _ in pending))
        failed: dict[int, GraphQLError] = {}
        waiting: list[tuple[dict[str, Any], Any]] = []
        for (obj, f, at), row in zip(pending, rows, strict=True):
            origin = f.origin
            del obj[_KEY]
            if row is None:  # gone since the statement read it
                failed[id(obj)] = GraphQLError(f"{f.type_.name} not found", path=at.as_list())
                continue
            try:
                done = self.execute_fields(f.type_, origin.from_row(row), at, f.missing, position_context)
            except GraphQLError as error:
                failed[id(obj)] = error
                continue
            if self.is_awaitable(done):
                waiting.append((obj, done))
            else:
                obj.update(cast("dict[str, Any]", done))
        if waiting:
            results = await asyncio.gather(*(done for _, done in waiting), return_exceptions=True)
            for (obj, _), outcome in zip(waiting, results, strict=True):
                if isinstance(outcome, GraphQLError):
                    failed[id(obj)] = outcome
                elif isinstance(outcome, BaseException):
                    raise outcome
                else:
                    obj.update(outcome)
        return self._assemble(data, type_, fill, path, failed)

    def _assemble(self, value: Any, type_: GraphQLOutputType, fill: _Fill, path: Path, failed: dict[int, Any]) -> Any:
        """The completed value in the selection's key order; an object whose completion
        failed on a non-null field is null where its type allows, as graphql-core does."""
        if value is None:
            return None
        non_null = isinstance(type_, GraphQLNonNull)
        inner = type_.of_type if isinstance(type_, GraphQLNonNull) else type_
        try:
            if isinstance(inner, GraphQLList):
                return [
                    self._assemble(item, inner.of_type, fill, path.add_key(i), failed) for i, item in enumerate(value)
                ]
            error = failed.get(id(value))
            if error is not None:
                raise error
            completed: dict[str, Any] = {}
            for key in fill.order:
                if key in fill.nested:
                    output, sub = fill.nested[key]
                    completed[key] = self._assemble(value[key], output, sub, path.add_key(key, fill.type_.name), failed)
                elif key in value:
                    completed[key] = value[key]
            return completed
        except GraphQLError as error:
            if non_null and self.error_propagation:
                raise
            self.collected_errors.add(error, path)
            return None

    # -- plans ---------------------------------------------------------------------------------

    def _plan_value(self, type_: GraphQLOutputType, fields: FieldDetailsList, *, top: bool = False) -> Plan | None:
        non_null = isinstance(type_, GraphQLNonNull)
        if isinstance(type_, GraphQLNonNull):
            type_ = type_.of_type
        plan: Plan | None
        if isinstance(type_, GraphQLList):
            item = self._plan_value(type_.of_type, fields)
            plan = None if item is None else _list_of(item)
        elif is_leaf_type(type_):
            # a lone scalar gains nothing from a plan: the ordinary completion is as short
            return None if top else _leaf(type_, non_null=non_null)
        elif is_object_type(type_):
            plan = self._plan_object(type_, fields)
        else:
            return None  # interfaces and unions: the runtime type is resolved the ordinary way
        if plan is None:
            return None
        return _non_null(plan) if non_null else _nullable(plan)

    def _plan_object(self, type_: GraphQLObjectType, fields: FieldDetailsList) -> Plan | None:
        definition = type_.extensions.get(DEFINITION)
        origin = getattr(definition, "origin", None)
        if not isinstance(origin, type):
            return None
        collected = self.collect_subfields(type_, fields)
        if collected.new_defer_usages:
            return None
        compiler = _ObjectCompiler(type_.name, origin)
        for key, sub in collected.grouped_field_set.items():
            name = sub[0].node.name.value
            if name == "__typename":
                compiler.constant(key, type_.name)
                continue
            field = type_.fields.get(name)
            if field is None or field.args or not compiler.add(key, field.extensions.get(DEFINITION), field.type):
                return None
            if not compiler.is_leaf(key):
                plan = self._plan_value(field.type, sub)
                if plan is None:
                    return None
                named = get_named_type(field.type)
                compiler.nest(key, plan, field.type, self._objects.get((id(named), id(sub))))
        complete = compiler.compile()
        self._objects[(id(type_), id(fields))] = complete
        return complete


class _ObjectCompiler:
    """Writes one function completing an object's selection: an exact class check, then a
    dict display reading each field straight off the object. A built-in scalar that
    already has its output type passes as it is; anything else goes through its plan."""

    def __init__(self, type_name: str, origin: type) -> None:
        self.type_name = type_name
        self.origin = origin
        self.names: dict[str, Any] = {"NotPlain": _NotPlain, "ORIGIN": origin, "to_base64": to_base64}
        self.items: list[str] = []
        self.reads: dict[str, str] = {}  # key → expression reading the raw value
        self.leaves: dict[str, GraphQLOutputType] = {}

    def _bind(self, value: Any) -> str:
        name = f"_{len(self.names)}"
        self.names[name] = value
        return name

    def constant(self, key: str, value: str) -> None:
        self.items.append(f"{key!r}: {value!r}")

    def add(self, key: str, field: StrawberryField | None, output: GraphQLOutputType) -> bool:
        """Read `field` for `key`; False if it is not plain data."""
        read = self._read(field, output)
        if read is None:
            return False
        if read.startswith("to_base64("):
            self.items.append(f"{key!r}: {read}")  # the node's ID, already its output
            return True
        self.reads[key] = read
        inner = output.of_type if isinstance(output, GraphQLNonNull) else output
        if is_leaf_type(inner):
            self.leaves[key] = output
            exact = {"String": "str", "Boolean": "bool"}.get(inner.name)
            leaf = self._bind(_leaf(inner, non_null=isinstance(output, GraphQLNonNull)))
            if exact is None:
                self.items.append(f"{key!r}: {leaf}({read})")
            else:  # the common case inline: no call at all
                self.items.append(f"{key!r}: (_v if (_v := {read}).__class__ is {exact} else {leaf}(_v))")
        return True

    def is_leaf(self, key: str) -> bool:
        return key in self.leaves or key not in self.reads

    def nest(self, key: str, plan: Plan, output: GraphQLOutputType, obj: Plan | None) -> None:
        """A nested object or list: the common shapes (an object, a list of non-null objects)
        inline, calling the object's function directly; any other value through its plan."""
        read, whole = self.reads[key], self._bind(plan)
        inner = output.of_type if isinstance(output, GraphQLNonNull) else output
        expression = f"{whole}({read})"
        if obj is not None and is_object_type(inner):
            one = self._bind(obj)  # it refuses None itself: not its class
            if isinstance(output, GraphQLNonNull):
                expression = f"{one}({read})"
            else:
                expression = f"(None if (_v := {read}) is None else {one}(_v))"
        elif obj is not None and isinstance(inner, GraphQLList) and isinstance(inner.of_type, GraphQLNonNull):
            one = self._bind(obj)
            expression = f"([{one}(_x) for _x in _v] if (_v := {read}).__class__ is list else {whole}(_v))"
        self.items.append(f"{key!r}: {expression}")

    def _read(self, field: StrawberryField | None, output: GraphQLOutputType) -> str | None:
        if field is None or field.extensions:
            return None
        if field.base_resolver is None:
            if field.default_resolver is not getattr or not field.python_name.isidentifier():
                return None
            return f"value.{field.python_name}"
        resolver = field.base_resolver
        method = resolver.wrapped_func
        if field.python_name == "_id" and getattr(method, "__qualname__", "") == "Node._id":
            return self._node_id(output)
        # a synchronous method of the object itself, with no arguments: computed from its data
        if not callable(method) or resolver.is_async or resolver.arguments:
            return None
        if list(inspect.signature(method).parameters) != ["self"]:
            return None
        return f"{self._bind(method)}(value)"

    def _node_id(self, output: GraphQLOutputType) -> str | None:
        """Relay's `id`, for a node class that keeps the default resolve_id and resolve_typename."""
        origin = self.origin
        if (
            not issubclass(origin, relay.Node)
            or not isinstance(output, GraphQLNonNull)
            or getattr(output.of_type, "name", None) != "ID"
            or origin.resolve_id.__func__ is not relay.Node.resolve_id.__func__  # type: ignore[attr-defined]
            or origin.resolve_typename.__func__ is not relay.Node.resolve_typename.__func__  # type: ignore[attr-defined]
        ):
            return None
        attr = origin.resolve_id_attr()
        if not attr.isidentifier():
            return None
        return f"to_base64({self.type_name!r}, value.{attr})"

    def compile(self) -> Plan:
        body = ",\n        ".join(self.items)
        source = (
            "def complete(value):\n"
            "    if value.__class__ is not ORIGIN:\n"
            "        raise NotPlain\n"
            f"    return {{\n        {body}\n    }}\n"
        )
        namespace = dict(self.names)
        exec(compile(source, f"<plan of {self.type_name}>", "exec"), namespace)  # noqa: S102 - our own source
        return cast("Plan", namespace["complete"])


SHARED_PLANS_MAX = 1000
_SHARED_PLANS: dict[tuple[int, ...], tuple[tuple[Any, ...], Plan | None]] = {}
_STATIC_DOCUMENTS: dict[int, tuple[Any, bool]] = {}


def _pending(value: Any, fill: _Fill, path: Path, into: list[tuple[dict[str, Any], _Fill, Path]]) -> None:
    """The objects of `value` (at `fill`) with fields to complete, each with its path."""
    if value is None:
        return
    if isinstance(value, list):
        for i, item in enumerate(value):
            _pending(item, fill, path.add_key(i), into)
        return
    if fill.missing:
        into.append((value, fill, path))
    for key, (_, sub) in fill.nested.items():
        _pending(value[key], sub, path.add_key(key, fill.type_.name), into)


def _has_extensions(field: Any) -> bool:
    """A field with extensions (permissions, …) is always resolved, so they run."""
    definition = field.extensions.get(DEFINITION)
    return bool(definition is not None and definition.extensions)


def _document_is_static(operation: OperationDefinitionNode, fragments: dict[str, FragmentDefinitionNode]) -> bool:
    """Whether the operation's selections are the same whatever its variables: no @skip
    or @include anywhere (the only directives that make them depend on variables)."""
    found = _STATIC_DOCUMENTS.get(id(operation))
    if found is not None and found[0] is operation:
        return found[1]
    static = not any(_has_conditions(node) for node in (operation, *fragments.values()))
    if len(_STATIC_DOCUMENTS) >= SHARED_PLANS_MAX:
        _STATIC_DOCUMENTS.pop(next(iter(_STATIC_DOCUMENTS)))
    _STATIC_DOCUMENTS[id(operation)] = (operation, static)
    return static


class _ConditionFinder(Visitor):
    def __init__(self) -> None:
        super().__init__()
        self.found = False

    def enter_directive(self, node: DirectiveNode, *_: Any) -> Any:
        if node.name.value in ("skip", "include", "defer", "stream"):
            self.found = True
            return BREAK
        return None


def _has_conditions(node: Node) -> bool:
    finder = _ConditionFinder()
    visit(node, finder)
    return finder.found


def _non_null(inner: Plan) -> Plan:
    def complete(value: Any) -> Any:
        if value is None:
            raise _NotPlain
        return inner(value)

    return complete


def _nullable(inner: Plan) -> Plan:
    return lambda value: None if value is None else inner(value)


def _list_of(item: Plan) -> Plan:
    def complete(value: Any) -> list[Any]:
        if isinstance(value, str | bytes | dict):
            raise _NotPlain
        return [item(v) for v in value]

    return complete


_INT_MIN, _INT_MAX = -(2**31), 2**31 - 1


def _leaf(type_: GraphQLLeafType, *, non_null: bool) -> Plan:
    """A scalar or enum, serialized as the ordinary completion does; the common built-in
    cases (a str for String, an int in range for Int, a bool for Boolean) pass as they are."""
    coerce = type_.coerce_output_value
    exact: type | None = {"String": str, "Boolean": bool, "Int": int}.get(type_.name)

    def complete(value: Any) -> Any:
        if value is None:
            if non_null:
                raise _NotPlain
            return None
        if type(value) is exact and (exact is not int or _INT_MIN <= cast("int", value) <= _INT_MAX):
            return value
        if value.__class__ is relay.GlobalID:  # a journal repeats each lesson's ID once per child
            found = _GLOBAL_IDS.get(value)
            if found is not None:
                return found
        coerced = coerce(value)
        if coerced is None or coerced is Undefined:
            raise _NotPlain
        if value.__class__ is relay.GlobalID:
            if len(_GLOBAL_IDS) >= _GLOBAL_IDS_MAX:
                _GLOBAL_IDS.clear()
            _GLOBAL_IDS[value] = coerced
        return coerced

    return complete


# Serialized global IDs by value (GlobalID is frozen: equal IDs serialize equally)
_GLOBAL_IDS_MAX = 10_000
_GLOBAL_IDS: dict[relay.GlobalID, Any] = {}
