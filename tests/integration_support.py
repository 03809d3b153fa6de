"""Integrations in tests: one made by a school admin over GraphQL (createIntegration),
and a token for it from POST /oauth/token (client credentials, HTTP Basic), as an
integrating system gets them."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import httpx
from sqlalchemy.ext.asyncio import AsyncSession
from strawberry import relay

from tests.support import GraphQLClient

CREATE = """
mutation($i: CreateIntegrationInput!) {
  createIntegration(input: $i) {
    integration { id name scopes status }
    clientId clientSecret
    userErrors { field code message }
  }
}
"""
TOKEN_PATH = "/oauth/token"


def school_gid(school_id: int) -> str:
    return str(relay.GlobalID("School", str(school_id)))


async def create_integration(
    gql: GraphQLClient, *, school_id: int, admin_token: str, scopes: Sequence[str], name: str = "Школьная МИС"
) -> dict[str, Any]:
    """The createIntegration payload (userErrors included: the caller checks them)."""
    data = await gql.data(
        CREATE,
        {"i": {"schoolId": school_gid(school_id), "name": name, "scopes": list(scopes)}},
        token=admin_token,
    )
    payload: dict[str, Any] = data["createIntegration"]
    return payload


async def make_integration(
    session: AsyncSession, gql: GraphQLClient, *, school_id: int, admin_token: str, scopes: Sequence[str]
) -> tuple[str, str]:
    """A new integration of the school with `scopes`, made by its admin: (client ID, secret).
    `session` is the test's arranging session, left as it is (committed data only is seen)."""
    payload = await create_integration(gql, school_id=school_id, admin_token=admin_token, scopes=scopes)
    assert payload["userErrors"] == [], payload["userErrors"]
    return payload["clientId"], payload["clientSecret"]


async def request_token(
    http: httpx.AsyncClient, client_id: str, secret: str, scopes: Sequence[str] | None = None
) -> httpx.Response:
    """POST /oauth/token with HTTP Basic client authentication (RFC 6749 §2.3.1)."""
    form = {"grant_type": "client_credentials"}
    if scopes is not None:
        form["scope"] = " ".join(scopes)
    return await http.post(TOKEN_PATH, data=form, auth=(client_id, secret))


async def integration_token(
    http: httpx.AsyncClient, client_id: str, secret: str, scopes: Sequence[str] | None = None
) -> str:
    """An access token of the integration (all its scopes, or those asked for)."""
    response = await request_token(http, client_id, secret, scopes)
    assert response.status_code == 200, response.text
    token: str = response.json()["access_token"]
    return token
