"""The multipart guard on its own: the CSRF header and the cap on the whole body."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.types import Receive, Scope, Send

from ediary_gql.routes.attachments import MultipartGuard
from ediary_gql.settings import load_settings

CAP = 10_000
FORM = {"operations": "{}", "map": "{}"}


async def _echo(scope: Scope, receive: Receive, send: Send) -> None:
    """Stands for /graphql: reads the whole body and says how long it was."""
    body = await Request(scope, receive).body()
    await JSONResponse({"read": len(body)})(scope, receive, send)


def _client() -> httpx.AsyncClient:
    guard = MultipartGuard(_echo, settings=load_settings(secret_key="x" * 32, upload_max_request_bytes=CAP))
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=guard), base_url="http://test")


async def test_json_requests_pass_untouched() -> None:
    async with _client() as client:
        response = await client.post("/graphql", json={"query": "{ me { id } }"})
    assert response.status_code == 200


async def test_multipart_needs_the_header() -> None:
    async with _client() as client:
        refused = await client.post("/graphql", data=FORM, files={"0": ("a.pdf", b"%PDF-1.4", "application/pdf")})
        empty = await client.post(
            "/graphql",
            data=FORM,
            files={"0": ("a.pdf", b"%PDF", "application/pdf")},
            headers={"Apollo-Require-Preflight": " "},
        )
        accepted = await client.post(
            "/graphql",
            data=FORM,
            files={"0": ("a.pdf", b"%PDF-1.4", "application/pdf")},
            headers={"Apollo-Require-Preflight": "true"},
        )
    for response in (refused, empty):
        assert response.status_code == 400
        assert response.json()["errors"][0]["extensions"] == {"code": "CSRF_HEADER_REQUIRED"}
    assert accepted.status_code == 200


async def test_a_body_over_the_cap_is_refused_by_its_length() -> None:
    async with _client() as client:
        response = await client.post(
            "/graphql",
            data=FORM,
            files={"0": ("a.pdf", b"0" * CAP, "application/pdf")},
            headers={"Apollo-Require-Preflight": "true"},
        )
    assert response.status_code == 413
    assert response.json()["errors"][0]["extensions"] == {"code": "REQUEST_TOO_LARGE"}


async def test_a_chunked_body_is_cut_off_once_past_the_cap() -> None:
    sent = 0

    async def chunks() -> AsyncIterator[bytes]:
        nonlocal sent
        yield b'--b\r\nContent-Disposition: form-data; name="operations"\r\n\r\n{}\r\n'
        for _ in range(1000):  # 1 MB in all, far past the cap
            sent += 1000
            yield b"0" * 1000

    async with _client() as client:
        response = await client.post(
            "/graphql",
            content=chunks(),
            headers={"Content-Type": "multipart/form-data; boundary=b", "Apollo-Require-Preflight": "true"},
        )
    assert response.status_code == 413
    assert sent < 1000 * 1000
