"""The cost of a query: counted before it runs, refused over the limit, reported on every
response, spent from a budget per viewer; and a wall-clock limit on execution."""

from __future__ import annotations

import ast
import asyncio
import itertools
import re
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
import strawberry
from graphql import get_introspection_query, parse, validate
from sqlalchemy.ext.asyncio import AsyncSession

from ediary_gql.db.models.enums import StaffRole
from ediary_gql.schema import cost
from ediary_gql.schema.cost import CostBudget, RequestBounds, operation_cost
from ediary_gql.schema.documents import PreparedDocuments
from ediary_gql.schema.root import build_schema
from ediary_gql.settings import Settings, load_settings
from tests.diary_support import PASSWORD, build_school, gid, token
from tests.factories import make_staff_membership, make_user
from tests.support import GraphQLClient, StatementCounter, server_process

ROOT = Path(__file__).resolve().parents[2]
SETTINGS = load_settings(secret_key="query-cost-secret-key-0123456789abc")


def _deep(levels: list[str], leaf: str = "id") -> str:
    inner = leaf
    for name in reversed(levels):
        inner = f"{name} {{ {inner} }}"
    return inner


# school { classes { children { enrollments { schoolClass { children { enrollments { schoolClass
#   { children { id } } } } } } } } }: depth 10, 43.6 MB in 37 s before costs were counted
CHAIN = ["classes", "children", "enrollments", "schoolClass", "children", "enrollments", "schoolClass", "children"]
COSTLY = "query($s: ID!) {" + " ".join(f"a{k}: school(id: $s) {{ {_deep(CHAIN)} }}" for k in range(29)) + "}"


def _cost(query: str, variables: dict[str, Any] | None = None) -> int:
    schema = build_schema(SETTINGS)._schema
    document = parse(query)
    assert validate(schema, document) == []
    return operation_cost(schema, document, None, variables, page_max=SETTINGS.page_max)


# --- refused before it runs ---------------------------------------------------------


async def test_the_costly_query_is_refused_fast_before_any_sql(
    gql: GraphQLClient, session: AsyncSession, sql_counter: StatementCounter
) -> None:
    world = await build_school(session, children=3, weeks=0)
    teacher = await token(gql, world.teacher)
    variables = {"s": gid("School", world.school.id)}
    await gql.post(COSTLY, variables, token=teacher)  # parsed and validated once: the cache is warm

    with sql_counter:
        await gql.post("{ __typename }", token=teacher)
    empty = sql_counter.count
    with sql_counter:
        started = time.perf_counter()
        body = await gql.post(COSTLY, variables, token=teacher)
        elapsed = time.perf_counter() - started

    assert body["data"] is None
    [error] = body["errors"]
    assert error["extensions"]["code"] == "QUERY_TOO_COSTLY"
    assert error["extensions"]["maximumCost"] == SETTINGS.query_max_cost
    assert error["extensions"]["cost"] > 1000 * SETTINGS.query_max_cost
    assert body["extensions"]["cost"]["requestedQueryCost"] == error["extensions"]["cost"]
    assert sql_counter.count == empty  # authentication only, as for an empty request
    assert elapsed < 0.5, elapsed


async def test_fragments_do_not_hide_the_cost(gql: GraphQLClient) -> None:
    named = (
        "query($s: ID!) { "
        + " ".join(f"a{k}: school(id: $s) {{ ...Deep }}" for k in range(29))
        + " } fragment Deep on School { "
        + _deep(CHAIN[:4], "...More")
        + " } fragment More on SchoolClass { "
        + _deep(CHAIN[4:])
        + " }"
    )
    inline = (
        "query($s: ID!) { "
        + " ".join(f"a{k}: node(id: $s) {{ ... on School {{ {_deep(CHAIN)} }} }}" for k in range(29))
        + " }"
    )
    costs = {_cost(COSTLY), _cost(named), _cost(inline)}
    assert len(costs) == 1  # the same work, however it is spelt
    for query in (named, inline):
        body = await gql.post(query, {"s": gid("School", 1)})
        assert body["errors"][0]["extensions"]["code"] == "QUERY_TOO_COSTLY"


async def test_aliased_introspection_is_refused_one_is_not(gql: GraphQLClient) -> None:
    many = "{ " + " ".join(f"s{k}: __schema {{ types {{ name fields {{ name }} }} }}" for k in range(30)) + " }"
    started = time.perf_counter()
    body = await gql.post(many)
    assert time.perf_counter() - started < 0.5
    assert body["data"] is None
    assert body["errors"][0]["extensions"]["code"] == "QUERY_TOO_COSTLY"

    graphiql = await gql.post(get_introspection_query(descriptions=True))  # what GraphiQL sends
    assert "errors" not in graphiql
    assert graphiql["data"]["__schema"]["queryType"]["name"] == "Query"
    assert graphiql["extensions"]["cost"]["requestedQueryCost"] == cost.SCHEMA_COST


async def test_nodes_takes_at_most_a_page_of_ids(gql: GraphQLClient) -> None:
    query = "query($ids: [ID!]!) { nodes(ids: $ids) { id } }"
    page = [gid("Child", k) for k in range(1, SETTINGS.page_max + 1)]
    assert len((await gql.data(query, {"ids": page}))["nodes"]) == SETTINGS.page_max

    body = await gql.post(query, {"ids": [*page, gid("Child", 0)]})
    assert body["data"] is None
    [error] = body["errors"]
    assert error["extensions"] == {"code": "INVALID", "field": ["ids"], "maximum": SETTINGS.page_max}
    assert "ids" in error["message"]

    # 200,000 IDs: refused at once (the body alone is over REQUEST_MAX_BYTES)
    started = time.perf_counter()
    response = await gql.http.post("/graphql", json={"query": query, "variables": {"ids": page * 2000}})
    assert time.perf_counter() - started < 1.0
    assert response.status_code == 413
    # and as many as fit in a body are refused naming the argument
    short = ["Q2hpbGQ6MQ=="] * 60_000
    response = await gql.http.post("/graphql", json={"query": query, "variables": {"ids": short}})
    assert response.status_code == 200
    assert response.json()["errors"][0]["extensions"]["field"] == ["ids"]


# --- what ordinary clients send ---------------------------------------------------------


def _documents() -> list[tuple[str, str]]:
    """Every GraphQL operation in the README and in the test suite."""
    found = [("README.md", m) for m in re.findall(r"```graphql\n(.*?)```", (ROOT / "README.md").read_text(), re.S)]
    for path in sorted((ROOT / "tests").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            text = node.value if isinstance(node, ast.Constant) else None
            if isinstance(text, str) and re.match(r"\s*(query|mutation|subscription)\b|\s*\{\s*\w", text):
                found.append((f"{path.relative_to(ROOT)}:{node.lineno}", text))
    return found


def test_ordinary_queries_stay_well_under_the_limit() -> None:
    schema = build_schema(SETTINGS)._schema
    costs: dict[str, int] = {}
    for where, text in _documents():
        try:
            document = parse(text)
        except Exception:  # noqa: S112 - not GraphQL, or a deliberately broken document
            continue
        if validate(schema, document) or where.startswith(f"tests/graphql/{Path(__file__).name}"):
            continue
        try:
            costs[where] = operation_cost(schema, document, None, {}, page_max=SETTINGS.page_max)
        except Exception:  # noqa: S112 - nodes(ids:) literals beyond a page: refused on purpose
            continue
    assert len(costs) > 100
    worst = max(costs, key=costs.__getitem__)
    assert costs[worst] < SETTINGS.query_max_cost / 3, (worst, costs[worst])


def test_a_weeks_diary_and_a_class_journal() -> None:
    readme_diary = next(m for w, m in _documents() if w == "README.md" and "diary(" in m)
    assert 500 < _cost(readme_diary) < 1500
    journal = """query($c: ID!, $s: ID!, $p: ID!) { classJournal(classId: $c, subjectId: $s, periodId: $p) {
      lessons { id date topic } children { id }
      rows { child { id fullName } cells { lessonId grades { value weight } attendance { status } }
             average { subject { name } average weightedAverage count } } } }"""
    assert 5000 < _cost(journal) < SETTINGS.query_max_cost / 3
    # a connection counts its page: first, else the default page, never beyond PAGE_MAX
    assert _cost("{ schools(first: 10) { nodes { id } } }") == 1 + 10
    assert _cost("{ schools { nodes { id } } }") == 1 + 20
    assert _cost("query($n: Int) { schools(first: $n) { nodes { id } } }", {"n": 5000}) == 1 + SETTINGS.page_max
    assert _cost("{ schools(first: 10) { totalCount edges { node { id } } } }") == 1 + 1 + 10 * 2
    # the diary counts the days asked for: 7 from the 23rd to the 29th, 30 to the 22nd
    week = _cost(readme_diary)
    month = _cost(readme_diary.replace('to: "2026-11-29"', 'to: "2026-12-22"'))
    assert month * 7 == week * 30


def test_the_list_sizes_name_fields_of_the_schema() -> None:
    schema = build_schema(SETTINGS)._schema
    for coordinate in cost.LIST_SIZES:
        type_name, field_name = coordinate.split(".")
        type_ = schema.get_type(type_name)
        assert type_ is not None, coordinate
        assert field_name in type_.fields, coordinate  # type: ignore[attr-defined]


def test_costs_are_kept_per_document_and_variable_values() -> None:
    query = "query($n: Int) { schools(first: $n) { nodes { id } } }"
    assert _cost(query, {"n": 3}) == 4
    assert _cost(query, {"n": 7}) == 8  # the same text, other values: not the first answer
    assert _cost(query, {"n": 3}) == 4


# --- the budget per viewer --------------------------------------------------------------

REGIONS = "{ regions { code } }"  # 89 points


@pytest.fixture
async def small_budget(settings: Settings, app_services: Any) -> Any:
    """A server process of its own, sharing the database: a budget of three region lists
    an hour (nothing restores during the test)."""
    async with server_process(
        settings, QUERY_MAX_COST="300", QUERY_COST_BUDGET="300", QUERY_COST_WINDOW_SECONDS="3600"
    ) as url:
        yield url


async def test_a_budget_runs_out_and_says_what_is_left(small_budget: str, session: AsyncSession) -> None:
    user = await make_user(session, password=PASSWORD)
    await session.commit()
    async with httpx.AsyncClient(base_url=small_budget, timeout=10) as http:
        gql = GraphQLClient(http)
        assert user.email is not None
        signed_in = await gql.sign_in(user.email, "correct horse battery")  # spends the address's budget too

        left = []
        while True:
            response = await http.post("/graphql", json={"query": REGIONS})
            body = response.json()
            if "errors" in body:
                break
            status = body["extensions"]["cost"]["throttleStatus"]
            assert status["maximumAvailable"] == 300
            assert status["restoreRate"] == round(300 / 3600, 3)
            assert body["extensions"]["cost"]["requestedQueryCost"] == 89
            left.append(status["currentlyAvailable"])
        assert len(left) >= 2
        assert [a - b for a, b in itertools.pairwise(left)] == [89] * (len(left) - 1)

        assert body["data"] is None
        [error] = body["errors"]
        assert error["extensions"]["code"] == "THROTTLED"
        assert error["extensions"]["cost"] == 89
        available = error["extensions"]["throttleStatus"]["currentlyAvailable"]
        assert available == left[-1] < 89  # the refused request spent nothing
        # what is missing, at 300 points an hour
        assert error["extensions"]["retryAfterSeconds"] == pytest.approx((89 - available) * 12, abs=13)
        assert response.headers["retry-after"] == str(error["extensions"]["retryAfterSeconds"])
        cheap = await gql.post("{ me { id } }")
        assert "errors" not in cheap
        assert cheap["extensions"]["cost"]["throttleStatus"]["currentlyAvailable"] == available - 1

        # a signed-in user has a budget of their own, not the address's
        body = await gql.post(REGIONS, token=signed_in)
        assert "errors" not in body
        assert body["extensions"]["cost"]["throttleStatus"]["currentlyAvailable"] == 300 - 89


def test_a_budget_restores_evenly() -> None:
    now = [0.0]
    budget = CostBudget(100, 10, clock=lambda: now[0])  # 10 points a second
    assert budget.take("a", 100).allowed
    refused = budget.take("a", 30)
    assert not refused.allowed
    assert refused.retry_after == pytest.approx(3.0)
    assert budget.take("b", 60).allowed  # another viewer's own
    now[0] = 3.0
    taken = budget.take("a", 30)
    assert taken.allowed
    assert taken.available == pytest.approx(0.0)
    now[0] = 1000.0
    assert budget.take("a", 0).available == 100  # never more than full


# --- the wall-clock limit -----------------------------------------------------------------


@strawberry.type
class SlowQuery:
    @strawberry.field
    async def slow(self, seconds: float) -> str:
        await asyncio.sleep(seconds)
        return "done"


@strawberry.type
class SlowMutation:
    @strawberry.field
    async def slow_write(self, seconds: float) -> str:
        await asyncio.sleep(seconds)
        return "written"


def _slow_schema(timeout: float) -> strawberry.Schema:
    bounds = RequestBounds(max_cost=1000, page_max=100, timeout_seconds=timeout, budget=None)
    return strawberry.Schema(
        query=SlowQuery,
        mutation=SlowMutation,
        extensions=[lambda: PreparedDocuments(max_depth=10, max_aliases=10, max_tokens=1000, bounds=bounds)],
    )


async def test_a_query_running_too_long_is_cancelled_with_a_code() -> None:
    schema = _slow_schema(timeout=0.2)
    started = time.perf_counter()
    result = await schema.execute("{ slow(seconds: 30) }")
    assert time.perf_counter() - started < 2
    assert result.data is None
    assert result.errors is not None
    [error] = result.errors
    assert error.extensions == {"code": "TIMEOUT", "timeoutSeconds": 0.2}
    assert error.original_error is None  # not a fault: nothing to mask or log with a traceback
    assert (await schema.execute("{ slow(seconds: 0.01) }")).data == {"slow": "done"}
    # a mutation is not cut off mid-way
    assert (await schema.execute("mutation { slowWrite(seconds: 0.4) }")).data == {"slowWrite": "written"}


async def test_a_real_query_over_the_time_limit_answers_timeout_not_500(settings: Settings, app_services: Any) -> None:
    # 30 pages of settlements with their regions: real SQL, far longer than a millisecond
    query = (
        "{ "
        + " ".join(
            f'p{k}: settlements(regionCode: "50", first: 100) {{ nodes {{ name region {{ name }} }} }}'
            for k in range(30)
        )
        + " }"
    )
    async with server_process(settings, QUERY_TIMEOUT_SECONDS="0.001") as url, httpx.AsyncClient(base_url=url) as http:
        response = await http.post("/graphql", json={"query": query})
        assert response.status_code == 200
        body = response.json()
        assert body["data"] is None
        assert body["errors"] == [
            {
                "message": "Запрос выполнялся дольше 0.001 с и был прерван: запросите меньше за раз",
                "extensions": {"code": "TIMEOUT", "timeoutSeconds": 0.001},
            }
        ]
        # the process serves on
        assert (await http.post("/graphql", json={"query": "{ __typename }"})).json()["data"] == {"__typename": "Query"}


async def test_staff_read_the_school_in_one_ordinary_query(gql: GraphQLClient, session: AsyncSession) -> None:
    # the nesting a school's dashboard asks for is well within the limit
    world = await build_school(session, children=2, weeks=0)
    admin = await make_user(session, password=PASSWORD)
    await make_staff_membership(session, user=admin, school=world.school, role=StaffRole.SCHOOL_ADMIN)
    await session.commit()
    query = "query($s: ID!) { school(id: $s) { classes { name children { id enrollments { startsOn } } } } }"
    body = await gql.post(query, {"s": gid("School", world.school.id)}, token=await token(gql, admin))
    assert "errors" not in body, body
    assert body["extensions"]["cost"]["requestedQueryCost"] == 1 + 50 * (1 + 30 * (1 + 3))
