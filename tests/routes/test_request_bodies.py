"""Bodies that are not multipart are capped at REQUEST_MAX_BYTES (413), by Content-Length
and as streamed; a file number beyond any id is a missing file (404)."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator

import orjson
import pytest
from sqlalchemy.ext.asyncio import AsyncSession
from structlog.testing import capture_logs

from ediary_gql.settings import Settings
from tests.diary_support import PASSWORD
from tests.factories import make_user
from tests.support import GraphQLClient

QUERY = "{ __typename }"


def _body(size: int) -> bytes:
    """A GraphQL request of exactly `size` bytes (padded in an ignored member)."""
    empty = orjson.dumps({"query": QUERY, "pad": ""})
    return orjson.dumps({"query": QUERY, "pad": "x" * (size - len(empty))})


async def test_a_2_mb_json_body_is_refused_with_413(gql: GraphQLClient, settings: Settings) -> None:
    assert settings.request_max_bytes == 1024 * 1024
    started = time.perf_counter()
    response = await gql.http.post(
        "/graphql", content=_body(2 * 1024 * 1024), headers={"content-type": "application/json"}
    )
    assert time.perf_counter() - started < 1.0
    assert response.status_code == 413
    assert response.json()["errors"][0]["extensions"] == {"code": "REQUEST_TOO_LARGE"}
    assert "1 МБ" in response.json()["errors"][0]["message"]


async def test_a_body_at_the_limit_is_served(gql: GraphQLClient, settings: Settings) -> None:
    body = _body(settings.request_max_bytes)
    assert len(body) == settings.request_max_bytes
    response = await gql.http.post("/graphql", content=body, headers={"content-type": "application/json"})
    assert response.status_code == 200
    assert response.json()["data"] == {"__typename": "Query"}
    over = await gql.http.post(
        "/graphql", content=_body(settings.request_max_bytes + 1), headers={"content-type": "application/json"}
    )
    assert over.status_code == 413


async def test_a_streamed_body_without_content_length_is_cut_off(gql: GraphQLClient) -> None:

    async def chunks() -> AsyncIterator[bytes]:
        yield b'{"query": "{ __typename }", "pad": "'
        for _ in range(200):  # 20 MB, if it were all read
            yield b"x" * 100_000
        yield b'"}'

    response = await gql.http.post("/graphql", content=chunks(), headers={"content-type": "application/json"})
    assert response.request.headers.get("transfer-encoding") == "chunked"
    assert "content-length" not in response.request.headers
    assert response.status_code == 413
    assert response.json()["errors"][0]["extensions"]["code"] == "REQUEST_TOO_LARGE"

    async def small() -> AsyncIterator[bytes]:
        yield b'{"query": '
        yield b'"{ __typename }"}'

    response = await gql.http.post("/graphql", content=small(), headers={"content-type": "application/json"})
    assert response.status_code == 200
    assert response.json()["data"] == {"__typename": "Query"}


@pytest.mark.parametrize("raw", ["99999999999999999999", "9223372036854775808", "٣"])
async def test_a_file_number_beyond_any_id_is_404(gql: GraphQLClient, session: AsyncSession, raw: str) -> None:
    user = await make_user(session, password=PASSWORD)
    await session.commit()
    assert user.email is not None
    token = await gql.sign_in(user.email, PASSWORD)
    with capture_logs() as logs:
        response = await gql.http.get(f"/files/{raw}", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 404
    assert response.json() == {"error": "NOT_FOUND", "message": "Файл не найден"}
    assert [e for e in logs if e.get("log_level") == "error"] == []
