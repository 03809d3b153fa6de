"""The compiled completion of plain-data subtrees answers exactly as graphql-core's own.

A small schema of its own, executed twice: with LeanExecutionContext and with
Strawberry's ordinary one; every answer (data and errors) must be the same.
"""

from __future__ import annotations

import datetime as dt
import enum
from decimal import Decimal
from typing import Any

import pytest
import strawberry
from strawberry import relay

from ediary_gql.schema import execution
from ediary_gql.schema.execution import LeanExecutionContext


@strawberry.enum
class Mood(enum.Enum):
    GOOD = "good"
    BAD = "bad"


@strawberry.type
class Mark(relay.Node):
    id: relay.NodeID[int]
    value: str
    weight: Decimal
    on: dt.date
    mood: Mood
    note: str | None = None

    @strawberry.field
    def shout(self) -> str:
        return self.value.upper()

    @strawberry.field
    async def later(self) -> str:
        return f"later {self.value}"


@strawberry.type
class Row:
    name: str
    count: int
    marks: list[Mark]
    best: Mark | None
    must: str  # declared non-null; a row may break that promise


def _rows() -> list[Row]:
    marks = [
        Mark(id=1, value="5", weight=Decimal("1.50"), on=dt.date(2026, 11, 2), mood=Mood.GOOD, note="молодец"),
        Mark(id=2, value="3", weight=Decimal("1"), on=dt.date(2026, 11, 3), mood=Mood.BAD),
    ]
    return [
        Row(name="Иванов", count=2, marks=marks, best=marks[0], must="x"),
        Row(name="Петров", count=0, marks=[], best=None, must="y"),
    ]


def _broken() -> list[Row]:
    rows = _rows()
    rows[1].must = None  # type: ignore[assignment]
    return rows


def _too_big() -> list[Row]:
    rows = _rows()
    rows[0].count = 2**40
    return rows


@strawberry.type
class Query:
    @strawberry.field
    async def rows(self) -> list[Row]:
        return _rows()

    @strawberry.field
    def broken(self) -> list[Row]:
        return _broken()

    @strawberry.field
    def too_big(self) -> list[Row]:
        return _too_big()


LEAN = strawberry.Schema(query=Query, execution_context_class=LeanExecutionContext)
ORDINARY = strawberry.Schema(query=Query)

QUERIES = [
    "{ rows { name count marks { id value weight on mood note } best { id } } }",
    "{ rows { __typename n: name marks { __typename v: value w: weight } } }",
    "{ rows { ...R } } fragment R on Row { name best { ...M } marks { ...M } } fragment M on Mark { id shout }",
    "{ rows { name ... on Row { count } marks { value } marks { mood } } }",
    "{ rows { name marks { value later } } }",  # a resolver inside: the ordinary way
    "query($yes: Boolean!) { rows { name @include(if: $yes) count @skip(if: $yes) } }",
    "{ broken { name must } }",  # null for a non-null field: the ordinary error
    "{ tooBig { count } }",  # an Int out of range: the ordinary error
    "{ rows { must } broken { must } }",
]


def _answer(result: Any) -> dict[str, Any]:
    return {
        "data": result.data,
        "errors": [(e.message, e.path) for e in result.errors or []],
    }


@pytest.mark.parametrize("query", QUERIES)
@pytest.mark.parametrize("yes", [True, False])
async def test_lean_answers_as_the_ordinary_executor(query: str, yes: bool) -> None:
    variables = {"yes": yes} if "$yes" in query else None
    for _ in range(2):  # the second time from the plans kept across requests
        lean = await LEAN.execute(query, variable_values=variables)
        ordinary = await ORDINARY.execute(query, variable_values=variables)
        assert _answer(lean) == _answer(ordinary)


async def test_plain_selections_are_compiled_and_others_are_not() -> None:
    execution._SHARED_PLANS.clear()
    await LEAN.execute("{ rows { name marks { id value } } }")
    compiled = [plan for _, plan in execution._SHARED_PLANS.values() if plan is not None]
    assert compiled, "a selection of plain fields has a plan"

    execution._SHARED_PLANS.clear()
    await LEAN.execute("{ rows { name marks { later } } }")
    assert all(plan is None for _, plan in execution._SHARED_PLANS.values()), "a resolver field has none"


async def test_variables_that_change_the_selection_get_no_shared_plan() -> None:
    query = "query($yes: Boolean!) { rows { name @include(if: $yes) count } }"
    execution._SHARED_PLANS.clear()
    with_name = await LEAN.execute(query, variable_values={"yes": True})
    without = await LEAN.execute(query, variable_values={"yes": False})
    assert with_name.data == {"rows": [{"name": "Иванов", "count": 2}, {"name": "Петров", "count": 0}]}
    assert without.data == {"rows": [{"count": 2}, {"count": 0}]}
    assert not execution._SHARED_PLANS
