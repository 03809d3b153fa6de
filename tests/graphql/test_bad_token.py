"""A bad, expired or revoked bearer token refuses the whole request (HTTP 401, the
token's code, WWW-Authenticate as RFC 6750 says), but for the credential mutations
(signIn, refreshToken, register, requestPasswordReset, resetPassword), which a client
whose token went stale must still reach. Over WebSocket, connection_init closes 4403."""

from __future__ import annotations

import datetime as dt
from typing import Any

import httpx
import jwt
import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from tests.registration_support import EMAIL, PASSWORD, confirmed_user, registration
from tests.support import GraphQLClient, StatementCounter, ws_connect

SECRET = "test-secret-key-not-for-production"  # the test server's (tests/conftest.py)
KINDS = ["garbage", "forged", "expired", "revoked"]
CODES = {"garbage": "TOKEN_INVALID", "forged": "TOKEN_INVALID", "expired": "TOKEN_EXPIRED", "revoked": "TOKEN_REVOKED"}
DESCRIPTIONS = {
    "TOKEN_INVALID": "The access token is invalid",
    "TOKEN_EXPIRED": "The access token expired",
    "TOKEN_REVOKED": "The access token was revoked",
}
PUBLIC = "{ __typename regions { code } }"
SIGN_IN = """
mutation($i: SignInInput!) { signIn(input: $i) { accessToken refreshToken userErrors { code } } }"""
REFRESH = """
mutation($t: String!) { refreshToken(input: {refreshToken: $t}) { accessToken refreshToken userErrors { code } } }"""


async def _signed_in(gql: GraphQLClient) -> dict[str, Any]:
    payload: dict[str, Any] = (await gql.data(SIGN_IN, {"i": {"login": EMAIL, "password": PASSWORD}}))["signIn"]
    assert payload["userErrors"] == [], payload
    return payload


async def _stale(kind: str, gql: GraphQLClient, session: AsyncSession) -> tuple[str, dict[str, Any]]:
    """A token of `kind` and a live sign-in (tokens) of the same account."""
    await confirmed_user(session)
    live = await _signed_in(gql)
    claims = jwt.decode(live["accessToken"], options={"verify_signature": False})
    if kind == "garbage":
        return "not-a-jwt", live
    if kind == "forged":
        return jwt.encode(claims, "some-other-secret-key-of-enough-length", algorithm="HS256"), live
    if kind == "expired":
        past = int((dt.datetime.now(dt.UTC) - dt.timedelta(minutes=5)).timestamp())
        return jwt.encode({**claims, "exp": past}, SECRET, algorithm="HS256"), live
    revoked = (await _signed_in(gql))["accessToken"]
    await gql.data("mutation { signOut { revokedSessions } }", token=revoked)
    return revoked, live


async def _post(gql: GraphQLClient, query: str, token: str, **body: Any) -> httpx.Response:
    return await gql.http.post("/graphql", json={"query": query, **body}, headers={"Authorization": f"Bearer {token}"})


def _refused(response: httpx.Response, code: str) -> None:
    assert response.status_code == 401, response.text
    body = response.json()
    assert body["data"] is None
    assert [e["extensions"]["code"] for e in body["errors"]] == [code]
    assert response.headers["www-authenticate"] == (
        f'Bearer realm="ediary-gql", error="invalid_token", error_description="{DESCRIPTIONS[code]}"'
    )


@pytest.mark.parametrize("kind", KINDS)
async def test_public_fields_are_not_answered_under_a_bad_token(
    kind: str, gql: GraphQLClient, session: AsyncSession, sql_counter: StatementCounter
) -> None:
    token, _ = await _stale(kind, gql, session)
    with sql_counter:
        response = await _post(gql, PUBLIC, token)
    _refused(response, CODES[kind])
    # nothing ran but the token's one check
    assert sql_counter.count <= 1, sql_counter.statements
    # the same request without a token is answered as the anonymous'
    assert (await gql.data(PUBLIC))["__typename"] == "Query"


@pytest.mark.parametrize("kind", KINDS)
async def test_an_operation_that_needs_the_actor_is_refused_whole(
    kind: str, gql: GraphQLClient, session: AsyncSession
) -> None:
    token, _ = await _stale(kind, gql, session)
    _refused(await _post(gql, "{ me { id } regions { code } }", token), CODES[kind])
    _refused(await _post(gql, "mutation { signOut { revokedSessions } }", token), CODES[kind])
    _refused(await _post(gql, "mutation { __typename }", token), CODES[kind])
    # a credential mutation beside another is refused too: the request reads the actor
    both = 'mutation { signIn(input: {login: "x", password: "y"}) { accessToken } signOut { revokedSessions } }'
    _refused(await _post(gql, both, token), CODES[kind])
    # as is a document that does not parse, or names no operation it holds
    _refused(await _post(gql, "{ regions {", token), CODES[kind])
    refresh = 'mutation R { refreshToken(input: {refreshToken: "x"}) { accessToken } } query Q { me { id } }'
    _refused(await _post(gql, refresh, token, operationName="Q"), CODES[kind])


@pytest.mark.parametrize("kind", KINDS)
async def test_the_credential_mutations_run_under_a_stale_token(
    kind: str, gql: GraphQLClient, session: AsyncSession
) -> None:
    token, live = await _stale(kind, gql, session)
    # a client whose access token went stale exchanges its refresh token …
    response = await _post(gql, REFRESH, token, variables={"t": live["refreshToken"]})
    assert response.status_code == 200, response.text
    refreshed = response.json()["data"]["refreshToken"]
    assert refreshed["userErrors"] == []
    assert (await gql.data("{ me { email } }", token=refreshed["accessToken"]))["me"]["email"] == EMAIL
    # … or signs in again (also through a fragment, or picked out by its operation name)
    signed = await _post(gql, SIGN_IN, token, variables={"i": {"login": EMAIL, "password": PASSWORD}})
    assert signed.json()["data"]["signIn"]["userErrors"] == []
    fragment = """
    mutation M($i: SignInInput!) { ...S }
    fragment S on Mutation { signIn(input: $i) { accessToken userErrors { code } } }
    query Other { me { id } }"""
    picked = await _post(
        gql, fragment, token, operationName="M", variables={"i": {"login": EMAIL, "password": PASSWORD}}
    )
    assert picked.status_code == 200, picked.text
    assert picked.json()["data"]["signIn"]["userErrors"] == []
    # registration and the password reset take no actor either
    other = registration(phone="+79160000001", email="boris@example.ru", firstName="Борис")
    registered = await _post(
        gql,
        "mutation($i: RegisterInput!) { register(input: $i) { userErrors { code } } }",
        token,
        variables={"i": other},
    )
    assert registered.json()["data"]["register"]["userErrors"] == []
    asked = await _post(
        gql,
        "mutation($l: String!) { requestPasswordReset(input: {login: $l}) { accepted } }",
        token,
        variables={"l": EMAIL},
    )
    assert asked.json()["data"]["requestPasswordReset"]["accepted"] is True
    reset = await _post(
        gql,
        'mutation { resetPassword(input: {login: "x@example.ru", code: "123456", newPassword: "Зелёный-паровоз-1917"})'
        " { passwordChanged userErrors { code } } }",
        token,
    )
    assert reset.json()["data"]["resetPassword"]["userErrors"] == [{"code": "CODE_EXPIRED"}]


async def test_an_authorization_of_another_scheme_is_refused_without_an_error_in_the_challenge(
    gql: GraphQLClient, server: str
) -> None:
    response = await gql.http.post("/graphql", json={"query": PUBLIC}, headers={"Authorization": "Basic abc"})
    assert response.status_code == 401
    assert response.json()["errors"][0]["extensions"]["code"] == "TOKEN_INVALID"
    # RFC 6750, 3.1: no error code for a request that used no bearer token
    assert response.headers["www-authenticate"] == 'Bearer realm="ediary-gql"'


async def test_a_query_over_get_is_refused_alike(gql: GraphQLClient, server: str) -> None:
    response = await gql.http.get("/graphql", params={"query": PUBLIC}, headers={"Authorization": "Bearer nope"})
    _refused(response, "TOKEN_INVALID")


@pytest.mark.parametrize("protocol", ["graphql-transport-ws", "graphql-ws"])
@pytest.mark.parametrize("kind", KINDS)
async def test_a_socket_with_a_bad_token_is_closed_at_connection_init(
    kind: str, protocol: str, gql: GraphQLClient, session: AsyncSession, ws_url: str
) -> None:
    token, _ = await _stale(kind, gql, session)
    async with ws_connect(ws_url, protocol) as ws:
        await ws.send({"type": "connection_init", "payload": {"authorization": f"Bearer {token}"}})
        if protocol == "graphql-ws":  # the legacy protocol says why first
            message = await ws.receive()
            assert (message["type"], message["payload"]["code"]) == ("connection_error", CODES[kind])
        assert await ws.close_code() == 4403
