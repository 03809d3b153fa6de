"""Signing in, refreshing and signing out over real HTTP."""

from __future__ import annotations

import asyncio
import datetime as dt

import jwt
from sqlalchemy.ext.asyncio import AsyncSession

from ediary_gql.db.models.enums import UserStatus
from tests.factories import make_user
from tests.support import GraphQLClient

PASSWORD = "correct horse battery"
SIGN_IN = """
mutation($i: SignInInput!) {
  signIn(input: $i) {
    accessToken refreshToken accessTokenExpiresAt
    user { id fullName phone email }
    userErrors { field code message }
  }
}"""
REFRESH = """
mutation($t: String!) {
  refreshToken(input: {refreshToken: $t}) { accessToken refreshToken userErrors { field code message } }
}"""
ME = "{ me { id firstName lastName status email } }"


async def _user(session: AsyncSession, **kw: object) -> int:
    user = await make_user(
        session,
        phone="+79161234567",
        email="ivan@example.ru",
        password=PASSWORD,
        status=UserStatus.CONFIRMED,
        **kw,
    )
    await session.commit()
    return user.id


async def test_sign_in_by_email_then_me(gql: GraphQLClient, session: AsyncSession) -> None:
    await _user(session)
    data = await gql.data(SIGN_IN, {"i": {"login": "Ivan@Example.ru", "password": PASSWORD}})
    payload = data["signIn"]
    assert payload["userErrors"] == []
    assert payload["user"]["email"] == "ivan@example.ru"

    me = await gql.data(ME, token=payload["accessToken"])
    assert me["me"]["email"] == "ivan@example.ru"
    assert me["me"]["status"] == "CONFIRMED"


async def test_sign_in_by_phone_in_russian_written_form(gql: GraphQLClient, session: AsyncSession) -> None:
    await _user(session)
    data = await gql.data(SIGN_IN, {"i": {"login": "8 (916) 123-45-67", "password": PASSWORD}})
    assert data["signIn"]["userErrors"] == []
    assert data["signIn"]["user"]["phone"] == "+79161234567"


async def test_wrong_password_and_unknown_login_look_the_same(gql: GraphQLClient, session: AsyncSession) -> None:
    await _user(session)
    wrong = await gql.data(SIGN_IN, {"i": {"login": "ivan@example.ru", "password": "nope-nope"}})
    unknown = await gql.data(SIGN_IN, {"i": {"login": "nobody@example.ru", "password": PASSWORD}})
    for data in (wrong, unknown):
        assert data["signIn"]["accessToken"] is None
        assert data["signIn"]["userErrors"] == [
            {"field": ["password"], "code": "INVALID_CREDENTIALS", "message": "Неверный логин или пароль"}
        ]


async def test_blocked_account_cannot_sign_in(gql: GraphQLClient, session: AsyncSession) -> None:
    await _blocked(session)
    data = await gql.data(SIGN_IN, {"i": {"login": "ivan@example.ru", "password": PASSWORD}})
    assert data["signIn"]["userErrors"][0]["code"] == "FORBIDDEN"


async def _blocked(session: AsyncSession) -> None:
    await make_user(session, email="ivan@example.ru", password=PASSWORD, status=UserStatus.BLOCKED)
    await session.commit()


async def test_me_is_null_without_token(gql: GraphQLClient) -> None:
    assert (await gql.data(ME)) == {"me": None}


async def test_garbage_token_is_refused(gql: GraphQLClient) -> None:
    body = await gql.post(ME, token="not-a-jwt")
    assert body["data"] == {"me": None} or body["data"] is None
    assert body["errors"][0]["extensions"]["code"] == "TOKEN_INVALID"
    assert "Traceback" not in str(body)


async def test_malformed_authorization_header_is_refused(gql: GraphQLClient) -> None:
    response = await gql.http.post("/graphql", json={"query": ME}, headers={"Authorization": "Basic abc"})
    assert response.json()["errors"][0]["extensions"]["code"] == "TOKEN_INVALID"


async def test_forged_token_is_refused(gql: GraphQLClient, session: AsyncSession) -> None:
    user_id = await _user(session)
    forged = jwt.encode(
        {"sub": str(user_id), "sid": 1, "exp": 4102444800, "aud": "ediary-gql", "typ": "access"},
        "some-other-secret-key-of-enough-length",
        algorithm="HS256",
    )
    body = await gql.post(ME, token=forged)
    assert body["errors"][0]["extensions"]["code"] == "TOKEN_INVALID"


async def test_expired_token_is_refused(gql: GraphQLClient, session: AsyncSession) -> None:
    user_id = await _user(session)
    token = await gql.sign_in("ivan@example.ru", PASSWORD)
    claims = jwt.decode(token, options={"verify_signature": False})
    past = int((dt.datetime.now(dt.UTC) - dt.timedelta(minutes=5)).timestamp())
    expired = jwt.encode(
        {**claims, "sub": str(user_id), "exp": past}, "test-secret-key-not-for-production", algorithm="HS256"
    )
    body = await gql.post(ME, token=expired)
    assert body["errors"][0]["extensions"]["code"] == "TOKEN_EXPIRED"
    assert body["errors"][0]["message"] == "Срок действия токена истёк"


async def test_a_token_that_served_until_it_expired_is_refused(gql: GraphQLClient, session: AsyncSession) -> None:
    await _user(session)
    token = await gql.sign_in("ivan@example.ru", PASSWORD)
    claims = jwt.decode(token, options={"verify_signature": False})
    soon = int(dt.datetime.now(dt.UTC).timestamp()) + 1
    expiring = jwt.encode({**claims, "exp": soon}, "test-secret-key-not-for-production", algorithm="HS256")
    # a token accepted (and so remembered as verified) …
    assert (await gql.data(ME, token=expiring))["me"] is not None
    await asyncio.sleep(max(0.0, soon - dt.datetime.now(dt.UTC).timestamp()) + 0.05)
    # … is refused once its time is up
    body = await gql.post(ME, token=expiring)
    assert body["errors"][0]["extensions"]["code"] == "TOKEN_EXPIRED"


async def test_sign_out_revokes_the_token_at_once(gql: GraphQLClient, session: AsyncSession) -> None:
    await _user(session)
    token = await gql.sign_in("ivan@example.ru", PASSWORD)
    other_device = await gql.sign_in("ivan@example.ru", PASSWORD)
    data = await gql.data("mutation { signOut { revokedSessions userErrors { code } } }", token=token)
    assert data["signOut"] == {"revokedSessions": 1, "userErrors": []}

    body = await gql.post(ME, token=token)
    assert body["errors"][0]["extensions"]["code"] == "TOKEN_REVOKED"
    # the other device is still signed in
    assert (await gql.data(ME, token=other_device))["me"] is not None


async def test_sign_out_everywhere(gql: GraphQLClient, session: AsyncSession) -> None:
    await _user(session)
    first = await gql.sign_in("ivan@example.ru", PASSWORD)
    second = await gql.sign_in("ivan@example.ru", PASSWORD)
    data = await gql.data("mutation { signOut(input: {allDevices: true}) { revokedSessions } }", token=first)
    assert data["signOut"]["revokedSessions"] == 2
    for token in (first, second):
        assert (await gql.post(ME, token=token))["errors"][0]["extensions"]["code"] == "TOKEN_REVOKED"


async def test_sign_out_needs_a_session(gql: GraphQLClient) -> None:
    body = await gql.post("mutation { signOut { revokedSessions } }")
    assert body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


async def test_refresh_rotates_and_reuse_revokes_the_session(gql: GraphQLClient, session: AsyncSession) -> None:
    await _user(session)
    signed = (await gql.data(SIGN_IN, {"i": {"login": "ivan@example.ru", "password": PASSWORD}}))["signIn"]
    first_refresh = signed["refreshToken"]

    rotated = (await gql.data(REFRESH, {"t": first_refresh}))["refreshToken"]
    assert rotated["userErrors"] == []
    assert rotated["refreshToken"] != first_refresh
    assert (await gql.data(ME, token=rotated["accessToken"]))["me"] is not None

    # the old refresh token is used again: someone copied it; the session ends
    reused = (await gql.data(REFRESH, {"t": first_refresh}))["refreshToken"]
    assert reused["accessToken"] is None
    assert reused["userErrors"][0]["code"] == "TOKEN_REVOKED"
    assert (await gql.post(ME, token=rotated["accessToken"]))["errors"][0]["extensions"]["code"] == "TOKEN_REVOKED"
    again = (await gql.data(REFRESH, {"t": rotated["refreshToken"]}))["refreshToken"]
    assert again["userErrors"][0]["code"] == "TOKEN_REVOKED"


async def test_refresh_with_garbage(gql: GraphQLClient) -> None:
    data = await gql.data(REFRESH, {"t": "garbage"})
    assert data["refreshToken"]["userErrors"] == [
        {"field": ["refreshToken"], "code": "TOKEN_INVALID", "message": "Недействительный токен обновления"}
    ]
