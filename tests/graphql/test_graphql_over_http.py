"""GraphQL over HTTP: application/graphql-response+json and its status codes, the client's
mistakes coded BAD_USER_INPUT, the database down answered 503, a refused WebSocket's close
reason, and /metrics."""

from __future__ import annotations

import asyncio
import json
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import websockets
from prometheus_client.parser import text_string_to_metric_families

from ediary_gql.settings import Settings
from tests.diary_writes_support import World
from tests.ops_support import running
from tests.support import GraphQLClient, free_port, server_process

GRAPHQL_RESPONSE = "application/graphql-response+json"


@pytest.fixture
async def http(server: str) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=server, timeout=30) as client:
        yield client


async def _post(http: httpx.AsyncClient, body: dict[str, Any], accept: str, token: str | None = None) -> httpx.Response:
    headers = {"accept": accept}
    if token:
        headers["authorization"] = f"Bearer {token}"
    return await http.post("/graphql", json=body, headers=headers)


async def test_graphql_response_json_is_answered_with_its_status_codes(http: httpx.AsyncClient) -> None:
    accept = f"{GRAPHQL_RESPONSE}, application/json;q=0.9"
    ok = await _post(http, {"query": "{ __typename }"}, accept)
    assert ok.status_code == 200
    assert ok.headers["content-type"].startswith(GRAPHQL_RESPONSE)
    assert ok.json()["data"] == {"__typename": "Query"}

    for body, code in (
        ({"query": "{"}, "GRAPHQL_PARSE_FAILED"),
        ({"query": "{ noSuchField }"}, "GRAPHQL_VALIDATION_FAILED"),
        ({"query": "query($id: ID!) { node(id: $id) { id } }", "variables": {}}, "BAD_USER_INPUT"),
    ):
        refused = await _post(http, body, accept)
        assert refused.status_code == 400, refused.text
        assert refused.headers["content-type"].startswith(GRAPHQL_RESPONSE)
        answer = refused.json()
        assert "data" not in answer  # the request never ran
        assert answer["errors"][0]["extensions"]["code"] == code

    # application/json keeps today's answers: 200, data null
    legacy = await _post(http, {"query": "{"}, "application/json")
    assert legacy.status_code == 200
    assert legacy.headers["content-type"].startswith("application/json")
    assert legacy.json()["data"] is None


async def test_bad_variable_values_are_the_clients_mistake(gql: GraphQLClient) -> None:
    query = 'query($d: Date!) { diary(childId: "x", from: $d, to: "2026-01-01") { date } }'
    for value in ("not-a-date", 5, None):
        body = await gql.post(query, {"d": value})
        error = body["errors"][0]
        assert error["extensions"]["code"] == "BAD_USER_INPUT", body
        assert error["message"].startswith("Variable '$d'")  # graphql-core's message, not «Внутренняя ошибка»
        assert "Внутренняя" not in error["message"]
    # an input object's field of the wrong type, nested
    body = await gql.post(
        "mutation($i: SignInInput!) { signIn(input: $i) { accessToken } }", {"i": {"login": 5, "password": []}}
    )
    assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"


async def test_a_refused_socket_closes_with_the_tokens_code(ws_url: str, gql: GraphQLClient, world: World) -> None:
    token = await world.token(gql, world.admin)
    await gql.data("mutation { signOut { revokedSessions } }", token=token)
    for protocol in ("graphql-transport-ws", "graphql-ws"):
        for value, code in ((f"Bearer {token}", "TOKEN_REVOKED"), ("Bearer not-a-token", "TOKEN_INVALID")):
            async with websockets.connect(f"{ws_url}/graphql", subprotocols=[protocol]) as conn:  # type: ignore[list-item]
                await conn.send(json.dumps({"type": "connection_init", "payload": {"authorization": value}}))
                with pytest.raises(websockets.ConnectionClosed):
                    await _until_closed(conn)
                assert conn.close_code == 4403
                assert conn.close_reason == code, (protocol, conn.close_reason)


async def _until_closed(conn: websockets.ClientConnection) -> None:
    while True:
        await asyncio.wait_for(conn.recv(), 10)


def _samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


async def test_metrics_count_requests_latency_and_sockets(
    http: httpx.AsyncClient, ws_url: str, gql: GraphQLClient, world: World
) -> None:
    ok = (("operation", "OpsProbe"), ("outcome", "ok"))
    bad = (("operation", "OpsProbe"), ("outcome", "request_error"))
    refused = (("operation", "OpsProbe"), ("outcome", "refused"))
    latency = (("operation", "OpsProbe"),)
    before = _samples((await http.get("/metrics")).text)
    for _ in range(3):
        await gql.post("query OpsProbe { __typename }")
    await gql.post("query OpsProbe { nope }")
    await gql.post("query OpsProbe { __typename }", token="not-a-token")
    token = await world.token(gql, world.admin)
    async with websockets.connect(f"{ws_url}/graphql", subprotocols=["graphql-transport-ws"]) as conn:  # type: ignore[list-item]
        await conn.send(json.dumps({"type": "connection_init", "payload": {"authorization": f"Bearer {token}"}}))
        assert "connection_ack" in str(await conn.recv())
        scraped = await http.get("/metrics")
        assert scraped.headers["content-type"].startswith("text/plain")
        after = _samples(scraped.text)
        assert after[("ediary_websockets_open", ())] >= 1
    assert after[("ediary_graphql_requests_total", ok)] - before.get(("ediary_graphql_requests_total", ok), 0) == 3
    assert after[("ediary_graphql_requests_total", bad)] - before.get(("ediary_graphql_requests_total", bad), 0) == 1
    assert (
        after[("ediary_graphql_requests_total", refused)] - before.get(("ediary_graphql_requests_total", refused), 0)
        == 1
    )
    count = ("ediary_graphql_request_duration_seconds_count", latency)
    assert after[count] - before.get(count, 0) == 5
    assert ("ediary_graphql_request_duration_seconds_bucket", (("le", "+Inf"), *latency)) in after
    # read at each scrape: the queues, subscriptions; events counted as they go
    for name in (
        "ediary_outbox_pending",
        "ediary_outbox_oldest_due_seconds",
        "ediary_report_queue_depth",
        "ediary_report_queue_oldest_seconds",
        "ediary_subscriptions_active",
        "ediary_events_published_total",
        "ediary_events_delivered_total",
    ):
        assert (name, ()) in after, name
    # signing in published events: the counter moved
    assert after[("ediary_events_published_total", ())] >= before.get(("ediary_events_published_total", ()), 0)


async def test_metrics_can_be_switched_off(settings: Settings) -> None:
    async with server_process(settings, METRICS_ENABLED="false") as url, httpx.AsyncClient(base_url=url) as client:
        assert (await client.get("/metrics")).status_code == 404


async def test_a_signed_in_request_with_the_database_down_is_503(
    settings: Settings, gql: GraphQLClient, world: World, tmp_path: Path
) -> None:
    token = await world.token(gql, world.admin)
    # a server of its own whose database is a closed port (never the shared one stopped)
    down = f"postgresql+asyncpg://postgres@127.0.0.1:{free_port()}/nowhere"
    environment = {
        "DATABASE_URL": down,
        "REPORTS_WORKER_ENABLED": "false",
        "WEBHOOKS_SENDER_ENABLED": "false",
        "REMINDERS_ENABLED": "false",
    }
    port = free_port()
    environment |= {"SECRET_KEY": settings.secret_key, "BROADCAST_URL": "memory://", "LOG_LEVEL": "WARNING"}
    argv = [sys.executable, "-m", "uvicorn", "ediary_gql.app:create_app", "--factory", "--port", str(port)]
    async with (
        running(argv, environment, port, tmp_path, healthy=False) as server,
        httpx.AsyncClient(base_url=server.url, timeout=30) as client,
    ):
        assert (await client.get("/healthz")).status_code == 503
        for accept, media_type in (("application/json", "application/json"), (GRAPHQL_RESPONSE, GRAPHQL_RESPONSE)):
            response = await client.post(
                "/graphql",
                json={"query": "{ me { id } }"},
                headers={"authorization": f"Bearer {token}", "accept": accept},
            )
            assert response.status_code == 503, response.text
            assert response.headers["content-type"].startswith(media_type)
            assert response.json()["errors"][0]["extensions"]["code"] == "SERVICE_UNAVAILABLE"
