"""The HTTP surface: health, GraphiQL, GET queries, bounds and masked faults."""

from __future__ import annotations

from graphql import GraphQLError

from ediary_gql.errors import DomainError, ErrorCode
from ediary_gql.schema.errors import should_mask_error
from tests.support import GraphQLClient


async def test_healthz_checks_database_and_event_bus(gql: GraphQLClient) -> None:
    response = await gql.http.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok", "eventBus": "ok", "subscribers": 0}
    assert response.headers["x-request-id"]


async def test_request_id_is_echoed(gql: GraphQLClient) -> None:
    response = await gql.http.get("/healthz", headers={"X-Request-ID": "abc-123"})
    assert response.headers["x-request-id"] == "abc-123"


async def test_graphiql_in_the_browser(gql: GraphQLClient) -> None:
    response = await gql.http.get("/graphql", headers={"Accept": "text/html"})
    assert response.status_code == 200
    assert "graphiql" in response.text.lower()


async def test_query_over_get(gql: GraphQLClient) -> None:
    response = await gql.http.get("/graphql", params={"query": "{ me { id } }"})
    assert response.json()["data"] == {"me": None}


async def test_mutation_over_get_is_refused(gql: GraphQLClient) -> None:
    response = await gql.http.get("/graphql", params={"query": "mutation { signOut { revokedSessions } }"})
    assert response.status_code in (400, 405)
    assert "mutation" in response.text.lower()


async def test_depth_is_bounded(gql: GraphQLClient) -> None:
    query = "{ me { " + "memberships { " * 13 + "role" + " }" * 13 + " } }"
    body = await gql.post(query)
    assert any("exceeds maximum operation depth" in e["message"] for e in body["errors"])


async def test_aliases_are_bounded(gql: GraphQLClient) -> None:
    query = "{ " + " ".join(f"a{i}: me {{ id }}" for i in range(40)) + " }"
    body = await gql.post(query)
    assert "aliases" in body["errors"][0]["message"]


async def test_syntax_errors_are_shown_not_masked(gql: GraphQLClient) -> None:
    body = await gql.post("{ me { id }")
    assert "Syntax Error" in body["errors"][0]["message"]


def test_unexpected_faults_are_masked_and_coded_errors_pass() -> None:
    fault = GraphQLError("boom", original_error=RuntimeError("SELECT secret FROM users"))
    coded = GraphQLError("нет", original_error=DomainError(ErrorCode.FORBIDDEN, "нет"))
    validation = GraphQLError("Cannot query field 'x' on type 'Query'.")
    assert should_mask_error(fault) is True
    assert should_mask_error(coded) is False
    assert should_mask_error(validation) is False
