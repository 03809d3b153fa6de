"""The cost of an operation, counted on its document before it runs, and a budget of cost
per viewer.

The cost estimates the objects a response can hold (the work behind it), from the
document alone, multiplied through the nesting:

    cost(selection on an object type) = Σ cost(field), fields merged by response key
                                        (named and inline fragments followed) as execution does
    cost(field) = size × (own + cost(its selection))
        own:  1 for an object; 0 for a scalar or enum read off its object, 1 for one with
              an asynchronous resolver of its own (`totalCount`); +10 for a mutation's root field
        size: 1 for a single value; for a list: `first`/`last` of the connection (else its
              default page), capped by PAGE_MAX, for its `edges` and `nodes`; the number of
              `ids` of `nodes`; the days asked of `diary`; else LIST_SIZES, else 25
    an interface or a union costs as its costliest object type
    __typename 0; __type 1,000; __schema 5,000 flat (their size is the schema's, not the
    query's; graphql-core's introspection depth rule bounds the nesting under them)
    @skip/@include count as included unless their `if` is a literal

An operation costlier than QUERY_MAX_COST is refused (QUERY_TOO_COSTLY) before anything
runs. Costs are kept per document, with the values of the variables they depend on.
"""

from __future__ import annotations

import datetime as dt
import math
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from graphql import (
    BooleanValueNode,
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLField,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLOutputType,
    GraphQLSchema,
    InlineFragmentNode,
    NamedTypeNode,
    OperationDefinitionNode,
    SelectionNode,
    SelectionSetNode,
    ValueNode,
    VariableNode,
    get_named_type,
    get_operation_ast,
    is_abstract_type,
    is_leaf_type,
    value_from_ast_untyped,
)

from ediary_gql.db.pagination import DEFAULT_PAGE

TOO_COSTLY = "QUERY_TOO_COSTLY"
THROTTLED = "THROTTLED"
TIMEOUT = "TIMEOUT"
INVALID = "INVALID"

DEFAULT_LIST_SIZE = 25  # a plain list the table does not know
MUTATION_COST = 10  # a mutation's root field, on top of what it selects
SCHEMA_COST = 5000  # __schema: a whole introspection (about 60 kB of JSON, 0.1 s)
TYPE_COST = 1000  # __type(name:): nested as deep as allowed, about 20 kB of JSON and 13 ms
DIARY_MAX_DAYS = 31

# Assumed sizes of plain lists (connections are sized by their arguments): what a big
# school holds, so ordinary reads count what they really cost.
LIST_SIZES: dict[str, int] = {
    "Query.regions": 89,
    "Query.myChildren": 3,
    "School.academicYears": 3,
    "School.subjects": 20,
    "School.controlTypes": 10,
    "School.classes": 50,
    "SchoolClass.children": 30,
    "SchoolClass.teachers": 15,
    "Child.enrollments": 3,
    "Child.averages": 15,
    "AcademicYear.periods": 4,
    "AcademicYear.holidays": 6,
    "ClassJournal.lessons": 60,
    "ClassJournal.rows": 30,
    "ClassJournal.children": 30,
    "JournalRow.cells": 60,
    "JournalCell.grades": 2,
    "DiaryDay.lessons": 8,
    "DiaryLesson.homework": 2,
    "DiaryLesson.grades": 3,
    "Grade.history": 3,
    "Homework.attachments": 3,
    "Application.history": 10,
    "Application.attachments": 5,
    "LessonAttendance.marks": 30,
    # analytics: a school's classes, days or children (plain figures); a class's subjects
    "AttendanceStatistics.groups": 100,
    "AttendanceStatistics.missingOver": 30,
    "GradeStatistics.subjects": 20,
    "SubjectGradeStatistics.distribution": 7,
    "EventPage.events": 50,
    "TimetableTemplate.slots": 40,
    "User.memberships": 3,
    "User.notificationPreferences": 10,
    # a sync's items: up to 1,000 (services/sync)
    "SyncLessonsPayload.items": 1000,
    "SyncGradesPayload.items": 1000,
    "SyncAttendancePayload.items": 1000,
    # the change feed's page (up to 200); a school's webhooks (up to 20)
    "ChangePage.changes": 100,
    "School.webhooks": 20,
    "Webhook.events": 5,
}


def refusal(message: str, code: str, **extensions: Any) -> GraphQLError:
    return GraphQLError(message, extensions={"code": code, **extensions})


# --- the static cost -----------------------------------------------------------------


class _Walk:
    """One computation of an operation's cost under given variables."""

    def __init__(
        self,
        schema: GraphQLSchema,
        document: DocumentNode,
        operation: OperationDefinitionNode,
        variables: Mapping[str, Any],
        page_max: int,
    ) -> None:
        self.schema = schema
        self.fragments = {d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)}
        self.variables = dict(variables)
        self.defaults = {
            v.variable.name.value: v.default_value for v in operation.variable_definitions or () if v.default_value
        }
        self.page_max = page_max
        self.mutation = schema.mutation_type
        self.used: dict[str, None] = {}  # the variables the cost depends on, in order
        self._memo: dict[tuple[int, int | None, tuple[int, ...]], int] = {}

    # -- values --

    def value(self, node: ValueNode) -> Any:
        if isinstance(node, VariableNode):
            name = node.name.value
            self.used[name] = None
            if name in self.variables:
                return self.variables[name]
            default = self.defaults.get(name)
            return None if default is None else value_from_ast_untyped(default)
        return value_from_ast_untyped(node, self.variables)

    def argument(self, node: FieldNode, name: str) -> Any:
        for argument in node.arguments or ():
            if argument.name.value == name:
                return self.value(argument.value)
        return None

    # -- selections --

    def _included(self, selection: SelectionNode) -> bool:
        for directive in selection.directives or ():
            name = directive.name.value
            if name not in ("skip", "include"):
                continue
            for argument in directive.arguments or ():
                literal = argument.value
                if (
                    argument.name.value == "if"
                    and isinstance(literal, BooleanValueNode)
                    and literal.value is (name == "skip")
                ):
                    return False
        return True

    def _applies(self, condition: NamedTypeNode | None, type_: GraphQLObjectType) -> bool:
        if condition is None:
            return True
        named = self.schema.get_type(condition.name.value)
        if named is type_:
            return True
        return named is not None and is_abstract_type(named) and self.schema.is_sub_type(named, type_)

    def _collect(
        self,
        type_: GraphQLObjectType,
        selection_set: SelectionSetNode,
        fields: dict[str, list[FieldNode]],
        visited: set[str],
    ) -> None:
        for selection in selection_set.selections:
            if not self._included(selection):
                continue
            if isinstance(selection, FieldNode):
                key = selection.alias.value if selection.alias else selection.name.value
                fields.setdefault(key, []).append(selection)
            elif isinstance(selection, InlineFragmentNode):
                if self._applies(selection.type_condition, type_):
                    self._collect(type_, selection.selection_set, fields, visited)
            elif isinstance(selection, FragmentSpreadNode):
                name = selection.name.value
                if name in visited:
                    continue
                visited.add(name)
                fragment = self.fragments.get(name)
                if fragment is not None and self._applies(fragment.type_condition, type_):
                    self._collect(type_, fragment.selection_set, fields, visited)

    def object_cost(self, type_: GraphQLObjectType, sets: Sequence[SelectionSetNode], page: int | None) -> int:
        key = (id(type_), page, tuple(map(id, sets)))
        found = self._memo.get(key)
        if found is not None:
            return found
        fields: dict[str, list[FieldNode]] = {}
        visited: set[str] = set()
        for selection_set in sets:
            self._collect(type_, selection_set, fields, visited)
        total = sum(self.field_cost(type_, nodes, page) for nodes in fields.values())
        self._memo[key] = total
        return total

    def selection_cost(self, type_: GraphQLOutputType, nodes: Sequence[FieldNode], page: int | None) -> int:
        named = get_named_type(type_)
        if is_leaf_type(named):
            return 0
        sets = [node.selection_set for node in nodes if node.selection_set is not None]
        if is_abstract_type(named):
            possible = self.schema.get_possible_types(named)
            return max((self.object_cost(t, sets, None) for t in possible), default=0)
        return self.object_cost(named, sets, page)  # type: ignore[arg-type]

    def field_cost(self, parent: GraphQLObjectType, nodes: Sequence[FieldNode], page: int | None) -> int:
        node = nodes[0]
        name = node.name.value
        if name == "__typename":
            return 0
        if name == "__schema":
            return SCHEMA_COST
        if name == "__type":
            return TYPE_COST
        field = parent.fields.get(name)
        if field is None:  # validation refuses it first
            return 0
        child_page = self.page_size(node) if "first" in field.args or "last" in field.args else None
        inner = self.selection_cost(field.type, nodes, child_page)
        own = (1 if _resolves(field) else 0) if is_leaf_type(get_named_type(field.type)) else 1
        if parent is self.mutation:
            own += MUTATION_COST
        return self.list_size(parent, name, node, field.type, page) * (own + inner)

    # -- sizes --

    def page_size(self, node: FieldNode) -> int:
        # both read, always: the cost is kept by the values of the variables it read
        given = [_whole(self.argument(node, "first")), _whole(self.argument(node, "last"))]
        sizes = [v for v in given if v is not None]
        if not sizes:
            return min(DEFAULT_PAGE, self.page_max)
        return max(0, min(max(sizes), self.page_max))

    def list_size(
        self, parent: GraphQLObjectType, name: str, node: FieldNode, type_: GraphQLOutputType, page: int | None
    ) -> int:
        size = 1
        first = True
        while True:
            if isinstance(type_, GraphQLNonNull):
                type_ = type_.of_type
            if not isinstance(type_, GraphQLList):
                return size
            if not first:
                size *= DEFAULT_LIST_SIZE  # a list of lists: rare, counted generously
            elif page is not None and name in ("edges", "nodes"):
                size *= page
            else:
                special = _SPECIAL_SIZES.get(f"{parent.name}.{name}")
                size *= special(self, node) if special else LIST_SIZES.get(f"{parent.name}.{name}", DEFAULT_LIST_SIZE)
            first = False
            type_ = type_.of_type

    def nodes_size(self, node: FieldNode) -> int:
        ids = self.argument(node, "ids")
        if not isinstance(ids, list):
            return self.page_max
        if len(ids) > self.page_max:
            raise _Refused(
                f"nodes(ids:): не больше {self.page_max} идентификаторов за запрос, передано {len(ids)}",
                INVALID,
                {"field": ["ids"], "maximum": self.page_max},
            )
        return len(ids)

    def diary_size(self, node: FieldNode) -> int:
        start, end = self.argument(node, "from"), self.argument(node, "to")
        try:
            days = (dt.date.fromisoformat(end) - dt.date.fromisoformat(start)).days + 1
        except (TypeError, ValueError):
            return DIARY_MAX_DAYS
        return max(1, min(days, DIARY_MAX_DAYS))  # a longer range is refused by the resolver

    def total(self, operation: OperationDefinitionNode) -> int:
        root = self.schema.get_root_type(operation.operation)
        if root is None:
            return 0
        return self.object_cost(root, [operation.selection_set], None)


def _whole(value: Any) -> int | None:
    """A page size as execution will take it: an int, or a float with no fraction (a JSON
    variable 100.0 is an Int to graphql-core)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return None


_SPECIAL_SIZES: dict[str, Callable[[_Walk, FieldNode], int]] = {
    "Query.nodes": _Walk.nodes_size,
    "Query.diary": _Walk.diary_size,
}


def _resolves(field: GraphQLField) -> bool:
    """Whether a scalar field has an asynchronous resolver of its own (reads something)."""
    definition = field.extensions.get("strawberry-definition")
    resolver = getattr(definition, "base_resolver", None)
    return resolver is not None and bool(getattr(resolver, "is_async", False))


class _Refused(Exception):
    """A document refused while its cost is counted (an argument out of bounds)."""

    def __init__(self, message: str, code: str, extensions: dict[str, Any]) -> None:
        super().__init__(message)
        self.message, self.code, self.extensions = message, code, extensions

    def error(self) -> GraphQLError:
        return refusal(self.message, self.code, **self.extensions)


# --- kept per document ---------------------------------------------------------------

CACHE_SIZE = 512
_VALUES_PER_DOCUMENT = 64
_MISSING = object()


@dataclass(slots=True)
class _Entry:
    schema: GraphQLSchema
    document: DocumentNode
    used: tuple[str, ...]
    results: dict[tuple[Any, ...], int | _Refused]


_COSTS: dict[tuple[int, int, str | None, int], _Entry] = {}


def _frozen(value: Any) -> Any:
    if value is None or isinstance(value, int | str | float | bool):
        return (type(value).__name__, value)
    if isinstance(value, list):
        return ("list", len(value))  # only a list's length counts (ids)
    return ("other", type(value).__name__)


def operation_cost(
    schema: GraphQLSchema,
    document: DocumentNode,
    operation_name: str | None,
    variables: Mapping[str, Any] | None,
    *,
    page_max: int,
) -> int:
    """The static cost of the operation; a GraphQLError if an argument is out of bounds.

    Kept by the document's identity (the parse cache hands out the same document for the
    same text) and the values of the variables the cost depends on."""
    variables = variables or {}
    key = (id(schema), id(document), operation_name, page_max)
    entry = _COSTS.get(key)
    if entry is not None and entry.schema is schema and entry.document is document:
        values = tuple(_frozen(variables.get(name, _MISSING)) for name in entry.used)
        found = entry.results.get(values)
        if found is None:
            found = _compute(schema, document, operation_name, variables, page_max)[0]
            if len(entry.results) >= _VALUES_PER_DOCUMENT:
                entry.results.clear()
            entry.results[values] = found
    else:
        found, used = _compute(schema, document, operation_name, variables, page_max)
        if isinstance(found, _Refused):  # the walk stopped there: `used` may lack variables
            raise found.error()
        values = tuple(_frozen(variables.get(name, _MISSING)) for name in used)
        if len(_COSTS) >= CACHE_SIZE:
            del _COSTS[next(iter(_COSTS))]
        _COSTS[key] = _Entry(schema, document, used, {values: found})  # holding both keeps their ids unused
    if isinstance(found, _Refused):
        raise found.error()
    return found


def _compute(
    schema: GraphQLSchema,
    document: DocumentNode,
    operation_name: str | None,
    variables: Mapping[str, Any],
    page_max: int,
) -> tuple[int | _Refused, tuple[str, ...]]:
    operation = get_operation_ast(document, operation_name)
    if operation is None:  # execution reports it
        return 0, ()
    walk = _Walk(schema, document, operation, variables, page_max)
    try:
        return walk.total(operation), tuple(walk.used)
    except _Refused as refused:
        return refused, tuple(walk.used)


def too_costly(cost: int, maximum: int) -> GraphQLError:
    return refusal(
        f"Запрос слишком дорогой: его стоимость {cost} при пределе {maximum}. "
        "Запросите меньше за раз: меньше вложенности, псевдонимов и меньшие страницы (first/last)",
        TOO_COSTLY,
        cost=cost,
        maximumCost=maximum,
    )


# --- the budget per viewer -----------------------------------------------------------


def viewer_key(context: object) -> str:
    """Whom a budget counts: the signed-in user, else the client's address."""
    user_id = getattr(context, "signed_in_user_id", None)
    if user_id is not None:
        return f"user:{user_id}"
    return f"address:{getattr(context, 'client_ip', None) or 'unknown'}"


@dataclass(frozen=True, slots=True)
class Throttle:
    """The state of a viewer's budget after a request, as reported in `extensions.cost`."""

    allowed: bool
    maximum: int
    available: float
    restore_rate: float  # points per second
    retry_after: float  # seconds until the refused request would fit; 0 if allowed

    def status(self) -> dict[str, Any]:
        return {
            "maximumAvailable": self.maximum,
            "currentlyAvailable": math.floor(self.available),
            "restoreRate": round(self.restore_rate, 3),
        }


class CostBudget:
    """A leaky bucket of cost points per viewer, in this process: full at `capacity`,
    restored at capacity/window points a second, and spent by each request's cost up
    front. A request costlier than what is left is refused and spends nothing."""

    MAX_KEYS = 100_000  # viewers remembered; full buckets are forgotten first

    def __init__(self, capacity: int, window_seconds: float, *, clock: Callable[[], float] = time.monotonic) -> None:
        self.capacity = capacity
        self.rate = capacity / window_seconds
        self.clock = clock
        self._levels: dict[str, tuple[float, float]] = {}  # key → (points left, when)
        self._lock = threading.Lock()  # one event loop per process, but cheap insurance

    def _level(self, key: str, now: float) -> float:
        found = self._levels.get(key)
        if found is None:
            return float(self.capacity)
        left, when = found
        return min(float(self.capacity), left + (now - when) * self.rate)

    def take(self, key: str, cost: int) -> Throttle:
        with self._lock:
            now = self.clock()
            level = self._level(key, now)
            allowed = cost <= level
            if allowed:
                level -= cost
                self._levels.pop(key, None)  # re-inserted last: the dict keeps recent use order
                self._levels[key] = (level, now)
                if len(self._levels) > self.MAX_KEYS:
                    self._forget(now)
            retry = 0.0 if allowed else (cost - level) / self.rate
            return Throttle(allowed, self.capacity, level, self.rate, retry)

    def _forget(self, now: float) -> None:
        full = [k for k in self._levels if self._level(k, now) >= self.capacity]
        for k in full:
            del self._levels[k]
        while len(self._levels) > self.MAX_KEYS:  # all in use: forget the longest unused
            del self._levels[next(iter(self._levels))]


def throttled(cost: int, throttle: Throttle) -> GraphQLError:
    seconds = max(1, math.ceil(throttle.retry_after))
    return refusal(
        f"Слишком много запросов: бюджет стоимости исчерпан (запрос стоит {cost}, "
        f"осталось {math.floor(throttle.available)}). Повторите через {seconds} с",
        THROTTLED,
        cost=cost,
        retryAfterSeconds=seconds,
        throttleStatus=throttle.status(),
    )


def timed_out(seconds: float) -> GraphQLError:
    return refusal(
        f"Запрос выполнялся дольше {seconds:g} с и был прерван: запросите меньше за раз",
        TIMEOUT,
        timeoutSeconds=seconds,
    )


@dataclass(frozen=True, slots=True)
class RequestBounds:
    """The bounds of a request beside its shape: cost, budget, execution time."""

    max_cost: int
    page_max: int
    timeout_seconds: float
    budget: CostBudget | None
