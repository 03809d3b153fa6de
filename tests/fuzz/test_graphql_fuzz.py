"""Fuzzing: schemathesis generates queries and mutations for every root field of the
live schema and sends them to the live test server, anonymously and as a parent.

Whatever it sends, the server must answer below HTTP 500 and must never hide an
unexpected exception behind the masked internal error (schema/root.py's MaskErrors):
a bad input is the client's fault and is said so, with a code.

The run is bounded and repeatable: a fixed number of cases per root field, each
field with its own fixed seed, no example database (FUZZ_CASES_PER_RUN=5000 for a
deeper run by hand). A failing field is shrunk to a small query, and the test
reports every failing field with its query and response.

Mutations are fuzzed too: they run against the test database, which the next
test's clean_db empties. Subscriptions are not: schemathesis generates queries and
mutations only, and subscriptions travel over a WebSocket (tests/graphql/test_*_events.py).
"""

from __future__ import annotations

import asyncio
import json
import logging
import math
import os
import time
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field

import graphql
import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, seed, settings
from hypothesis import strategies as st
from hypothesis.errors import FlakyFailure
from schemathesis.config import SchemathesisConfig
from schemathesis.graphql import nodes
from schemathesis.schemas import APIOperation
from schemathesis.specs.graphql.schemas import GraphQLSchema
from sqlalchemy.ext.asyncio import AsyncSession
from strawberry.relay import from_base64, to_base64

from ediary_gql.context import AppServices
from ediary_gql.db.models.users import User
from ediary_gql.services.sessions import open_session
from tests.diary_support import School1, build_school
from tests.support import GraphQLClient

# Cases per run (anonymous, parent), spread evenly over the root fields (at least 2 each).
CASES_PER_RUN = int(os.environ.get("FUZZ_CASES_PER_RUN", "150"))
MASKED = "Внутренняя ошибка сервера"

# Scalars schemathesis has no strategy of its own for. Besides well-formed values,
# each also gets wrong ones of other kinds: the server must refuse them with a message.
_decimals = st.decimals(allow_nan=False, allow_infinity=False, places=2).map(str)
schemathesis.graphql.scalar(
    "Decimal",
    st.one_of(_decimals.map(nodes.String), st.integers().map(nodes.Int), st.text(max_size=8).map(nodes.String)),
)
schemathesis.graphql.scalar("JSON", st.text(max_size=8).map(nodes.String))
# A JSON request cannot carry a file (that takes a multipart request, tests/graphql/test_attachments.py);
# what it can put in an Upload's place is a literal, which must be refused, not crash.
schemathesis.graphql.scalar(
    "Upload", st.one_of(st.text(max_size=8).map(nodes.String), st.integers(0, 9).map(nodes.Int))
)


# Keys at the edges of what a database id column holds, and digits int() does not read.
_EDGE_KEYS = ["0", "-1", "2147483648", "9223372036854775807", "9223372036854775808", "1" * 30, "²", "١", " 1", "1_0"]


def _id_strategy(node_types: list[str], known: list[str]) -> st.SearchStrategy[graphql.ValueNode]:
    """IDs. Random strings rarely decode as global IDs, so most are real ones: the test's
    own rows (so cases reach real objects), their types with edge keys, and "<Type>:<key>"
    of every node type (and of one that is none) with numbers of any size or text as keys."""
    keys = st.one_of(
        st.integers(0, 99),
        st.integers().map(str),
        st.sampled_from(_EDGE_KEYS),
        st.text(max_size=6),
    )
    global_ids = st.builds(to_base64, st.sampled_from([*node_types, "Nope"]), keys)
    known_types = sorted({from_base64(gid)[0] for gid in known})
    edges = st.builds(to_base64, st.sampled_from(known_types), st.sampled_from(_EDGE_KEYS))
    return st.one_of(
        st.sampled_from(known).map(nodes.String),
        edges.map(nodes.String),
        global_ids.map(nodes.String),
        st.text(max_size=8).map(nodes.String),
        st.integers().map(nodes.Int),
    )


@dataclass
class Run:
    """One fuzzing pass over every root field, with the headers a field's cases are sent with."""

    name: str
    base_url: str
    headers_for: Callable[[], dict[str, str]]
    cases: int = 0
    failures: list[str] = field(default_factory=list)


def _problem(response: schemathesis.Response) -> str | None:
    """Why a response is a failure, or None."""
    if response.status_code >= 500:
        return f"HTTP {response.status_code}"
    try:
        body = json.loads(response.content)
    except ValueError:
        return None  # not GraphQL's answer (e.g. a 4xx of the HTTP layer): nothing masked in it
    errors = body.get("errors") if isinstance(body, dict) else None
    if isinstance(errors, list) and any(isinstance(e, dict) and e.get("message") == MASKED for e in errors):
        return "masked internal error"
    return None


def _report(case: schemathesis.Case, response: schemathesis.Response, problem: str) -> str:
    text = response.content.decode("utf-8", "replace")
    if len(text) > 2000:
        text = text[:2000] + " …"
    request_id = response.headers.get("x-request-id", ["?"])[0]
    return (
        f"{case.operation.label}: {problem} (request {request_id}: the server's log has the traceback)\n"
        f"  query:    {case.body!s}\n"
        f"  response: HTTP {response.status_code} {text}"
    )


def _fuzz_operation(operation: APIOperation, run: Run, examples: int) -> None:
    """`examples` cases of one root field; a failing one, shrunk, goes to run.failures."""

    @seed(zlib.crc32(f"{run.name}:{operation.label}".encode()))
    @settings(
        max_examples=examples,
        database=None,
        deadline=None,  # the run is bounded by its number of cases, not by the time of one
        # a case is a real HTTP round trip: slow by Hypothesis's standards, and that is all
        suppress_health_check=[HealthCheck.too_slow],
        phases=[Phase.explicit, Phase.generate, Phase.shrink],
        print_blob=False,
    )
    @given(case=operation.as_strategy())
    def check(case: schemathesis.Case) -> None:
        run.cases += 1
        response = case.call(base_url=run.base_url, headers=headers, timeout=30)
        problem = _problem(response)
        if problem is not None:
            raise AssertionError(_report(case, response, problem))

    headers = run.headers_for()
    try:
        check()
    except AssertionError as exc:
        run.failures.append(str(exc))
    except FlakyFailure as exc:  # failed once, then passed when Hypothesis tried it again
        run.failures.extend(f"{e} (flaky)" for e in exc.exceptions)


def _fuzz(schema: GraphQLSchema, run: Run) -> None:
    operations = [result.ok() for result in schema.get_all_operations()]
    examples = max(2, math.ceil(CASES_PER_RUN / len(operations)))
    for operation in operations:
        _fuzz_operation(operation, run, examples)


async def _schema(gql: GraphQLClient, server: str) -> GraphQLSchema:
    """The live server's schema, by introspection."""
    body = await gql.post(graphql.get_introspection_query())
    assert "errors" not in body, body
    schema = schemathesis.graphql.from_dict(body, config=SchemathesisConfig())
    schema.location = f"{server}/graphql"
    return schema


def _known_ids(world: School1) -> list[str]:
    rows = [
        ("School", world.school.id),
        ("SchoolClass", world.school_class.id),
        ("Subject", world.subject.id),
        ("Subject", world.other_subject.id),
        ("Period", world.period.id),
        ("User", world.teacher.id),
        ("User", world.parent.id),
        *(("Child", child.id) for child in world.children),
        *(("Lesson", lesson.id) for lesson in world.lessons[:4]),
    ]
    return [to_base64(type_name, pk) for type_name, pk in rows]


async def _run(gql: GraphQLClient, server: str, world: School1, run: Run, caplog: pytest.LogCaptureFixture) -> None:
    # Strawberry logs every error it answers with: thousands of expected refusals here.
    # Masked ones are logged apart, with their tracebacks (schema/errors.py).
    caplog.set_level(logging.CRITICAL, logger="strawberry.execution")
    schema = await _schema(gql, server)
    node_types = sorted(t.name for t in schema.client_schema.get_possible_types(schema.client_schema.get_type("Node")))
    schemathesis.graphql.scalar("ID", _id_strategy(node_types, _known_ids(world)))
    started = time.monotonic()
    await asyncio.to_thread(_fuzz, schema, run)
    elapsed = time.monotonic() - started
    print(f"fuzz {run.name}: {run.cases} cases in {elapsed:.1f} s, {len(run.failures)} failing fields")
    if run.failures:
        pytest.fail(f"{len(run.failures)} root field(s) fail:\n\n" + "\n\n".join(run.failures), pytrace=False)


async def test_fuzz_anonymous(
    gql: GraphQLClient, server: str, session: AsyncSession, caplog: pytest.LogCaptureFixture
) -> None:
    world = await build_school(session, weeks=1)
    await _run(gql, server, world, Run("anonymous", server, dict), caplog)


async def test_fuzz_as_parent(
    gql: GraphQLClient,
    server: str,
    session: AsyncSession,
    app_services: AppServices,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """As the parent of a child with a diary (a class, lessons, homework, grades)."""
    world = await build_school(session, weeks=1)
    loop = asyncio.get_running_loop()

    async def new_token() -> str:
        async with app_services.session_factory() as s, s.begin():
            parent = await s.get(User, world.parent.id)
            assert parent is not None
            pair = await open_session(s, settings=app_services.settings, user=parent, action="signIn")
        return pair.access_token

    def headers() -> dict[str, str]:
        # A new session for each root field: signOut, a password reset or a lockout the
        # fuzzer causes in one field does not turn the others' cases anonymous.
        token = asyncio.run_coroutine_threadsafe(new_token(), loop).result(timeout=30)
        return {"Authorization": f"Bearer {token}"}

    await _run(gql, server, world, Run("parent", server, headers), caplog)
