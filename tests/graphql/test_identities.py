"""signInWithProvider for apps, linkIdentity, unlinkIdentity, giveConsent and
withdrawConsent over HTTP, against the local OpenID provider; and who is refused."""

from __future__ import annotations

import secrets
from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from ediary_gql.services.public_ids import global_id
from tests.factories import make_user
from tests.oidc_provider import APP_REDIRECT, OidcApp, app_code
from tests.support import GraphQLClient

PASSWORD = "Correct-Horse-Battery-42"

SIGN_IN = """
mutation($i: SignInWithProviderInput!) {
  signInWithProvider(input: $i) {
    accessToken refreshToken user { id }
    consentRequired { textVersion consentToken }
    userErrors { field code message }
  }
}"""
LINK = """
mutation($i: LinkIdentityInput!) {
  linkIdentity(input: $i) { identity { id provider } userErrors { field code message } }
}"""
UNLINK = """
mutation($i: UnlinkIdentityInput!) {
  unlinkIdentity(input: $i) { unlinkedIdentityId userErrors { field code message } }
}"""
GIVE = """
mutation($i: GiveConsentInput!) {
  giveConsent(input: $i) { accessToken consent { id textVersion method } userErrors { field code message } }
}"""
WITHDRAW = "mutation { withdrawConsent { withdrawn { textVersion withdrawnAt } consequence userErrors { code } } }"
ME = "{ me { id identities { id provider } consents { textVersion method withdrawnAt } consentState { required } } }"


async def post(app: OidcApp, query: str, variables: dict[str, Any] | None = None, token: str | None = None) -> Any:
    async with httpx.AsyncClient(base_url=app.url) as http:
        return await GraphQLClient(http).post(query, variables, token=token)


async def data(app: OidcApp, query: str, variables: dict[str, Any] | None = None, token: str | None = None) -> Any:
    body = await post(app, query, variables, token)
    assert "errors" not in body, body["errors"]
    return body["data"]


async def sign_in_token(app: OidcApp, user_login: str) -> str:
    async with httpx.AsyncClient(base_url=app.url) as http:
        return await GraphQLClient(http).sign_in(user_login, PASSWORD)


async def provider_input(app: OidcApp, *, nonce: str | None = None, **extra: Any) -> dict[str, Any]:
    code, verifier = await app_code(app.provider, nonce=nonce)
    return {"i": {"code": code, "codeVerifier": verifier, "redirectUri": APP_REDIRECT, **extra}}


def person(**claims: Any) -> dict[str, Any]:
    return {"family_name": "Приложенская", "given_name": "Вера", **claims}


async def test_an_app_signs_in_with_a_verified_phone(oidc: OidcApp, session: AsyncSession) -> None:
    user = await make_user(session, phone="+79035550101")
    await session.commit()
    oidc.provider.person |= person(phone_number="8 903 555-01-01", phone_number_verified=True)
    answer = (await data(oidc, SIGN_IN, await provider_input(oidc, nonce=secrets.token_urlsafe(8))))[
        "signInWithProvider"
    ]
    assert answer["userErrors"] == []
    assert answer["refreshToken"]
    assert answer["user"]["id"] == global_id("User", user.id)
    seen = (await data(oidc, ME, token=answer["accessToken"]))["me"]
    assert [i["provider"] for i in seen["identities"]] == [oidc.provider.issuer]


async def test_a_replayed_nonce_is_refused(oidc: OidcApp, session: AsyncSession) -> None:
    await make_user(session, phone="+79035550102")
    await session.commit()
    oidc.provider.person |= person(phone_number="+79035550102", phone_number_verified=True)
    nonce = secrets.token_urlsafe(12)
    first = (await data(oidc, SIGN_IN, await provider_input(oidc, nonce=nonce)))["signInWithProvider"]
    assert first["userErrors"] == []
    # a second code whose ID token carries the same nonce: a replay
    second = (await data(oidc, SIGN_IN, await provider_input(oidc, nonce=nonce)))["signInWithProvider"]
    assert second["accessToken"] is None
    assert [(e["field"], e["code"]) for e in second["userErrors"]] == [(["code"], "INVALID_CREDENTIALS")]


@pytest.mark.parametrize(
    "spoil", ["bad signature", "wrong audience", "expired code", "expired id token", "wrong verifier"]
)
async def test_a_spoiled_answer_signs_nobody_in(oidc: OidcApp, session: AsyncSession, spoil: str) -> None:
    await make_user(session, phone="+79035550103")
    await session.commit()
    oidc.provider.person |= person(phone_number="+79035550103", phone_number_verified=True)
    variables = await provider_input(oidc)
    if spoil == "bad signature":
        oidc.provider.sign_with = oidc.provider.other_key
    elif spoil == "wrong audience":
        oidc.provider.audience = "another-client"
    elif spoil == "expired code":
        oidc.provider.expire_codes()
    elif spoil == "expired id token":
        oidc.provider.id_token_lifetime = -600
    else:
        variables["i"]["codeVerifier"] = secrets.token_urlsafe(48)
    answer = (await data(oidc, SIGN_IN, variables))["signInWithProvider"]
    assert answer["accessToken"] is None
    assert [(e["field"], e["code"]) for e in answer["userErrors"]] == [(["code"], "INVALID_CREDENTIALS")]


async def test_link_and_unlink_for_a_signed_in_user(oidc: OidcApp, session: AsyncSession) -> None:
    user = await make_user(session, password=PASSWORD, email="linker@example.ru")
    await session.commit()
    token = await sign_in_token(oidc, "linker@example.ru")
    oidc.provider.person |= person()  # no contact in common: linked only because they ask
    linked = (await data(oidc, LINK, await provider_input(oidc), token))["linkIdentity"]
    assert linked["userErrors"] == []
    identity_id = linked["identity"]["id"]
    # the portal now signs this account in
    again = (await data(oidc, SIGN_IN, await provider_input(oidc)))["signInWithProvider"]
    assert again["user"]["id"] == global_id("User", user.id)
    # a password remains: the identity may go
    unlinked = (await data(oidc, UNLINK, {"i": {"identityId": identity_id}}, token))["unlinkIdentity"]
    assert unlinked == {"unlinkedIdentityId": identity_id, "userErrors": []}
    assert (await data(oidc, ME, token=token))["me"]["identities"] == []


async def test_an_identity_linked_to_someone_else_is_not_linked_again(oidc: OidcApp, session: AsyncSession) -> None:
    await make_user(session, password=PASSWORD, email="first@example.ru")
    await make_user(session, password=PASSWORD, email="second@example.ru")
    await session.commit()
    oidc.provider.person |= person()
    first = await sign_in_token(oidc, "first@example.ru")
    assert (await data(oidc, LINK, await provider_input(oidc), first))["linkIdentity"]["userErrors"] == []
    second = await sign_in_token(oidc, "second@example.ru")
    refused = (await data(oidc, LINK, await provider_input(oidc), second))["linkIdentity"]
    assert refused["identity"] is None
    assert refused["userErrors"][0]["code"] == "CONFLICT"


async def test_the_last_way_to_sign_in_is_not_removed(oidc: OidcApp, session: AsyncSession) -> None:
    oidc.provider.person |= person()
    made = (await data(oidc, SIGN_IN, await provider_input(oidc, consentTextVersion="2026-01")))["signInWithProvider"]
    assert made["userErrors"] == []
    token = made["accessToken"]
    identity_id = (await data(oidc, ME, token=token))["me"]["identities"][0]["id"]
    refused = (await data(oidc, UNLINK, {"i": {"identityId": identity_id}}, token))["unlinkIdentity"]
    assert refused["unlinkedIdentityId"] is None
    assert [(e["field"], e["code"]) for e in refused["userErrors"]] == [(["identityId"], "INVALID_STATE")]
    assert len((await data(oidc, ME, token=token))["me"]["identities"]) == 1


async def test_another_user_cannot_see_or_unlink_your_identity(oidc: OidcApp, session: AsyncSession) -> None:
    await make_user(session, password=PASSWORD, email="owner@example.ru")
    await make_user(session, password=PASSWORD, email="stranger@example.ru")
    await session.commit()
    owner = await sign_in_token(oidc, "owner@example.ru")
    oidc.provider.person |= person()
    identity_id = (await data(oidc, LINK, await provider_input(oidc), owner))["linkIdentity"]["identity"]["id"]
    stranger = await sign_in_token(oidc, "stranger@example.ru")
    refused = (await data(oidc, UNLINK, {"i": {"identityId": identity_id}}, stranger))["unlinkIdentity"]
    assert [(e["field"], e["code"]) for e in refused["userErrors"]] == [(["identityId"], "NOT_FOUND")]
    node = await data(oidc, "query($id: ID!) { node(id: $id) { id } }", {"id": identity_id}, stranger)
    assert node["node"] is None
    assert len((await data(oidc, ME, token=owner))["me"]["identities"]) == 1


async def test_the_anonymous_cannot_link_or_unlink(oidc: OidcApp) -> None:
    oidc.provider.person |= person()
    for query, variables in (
        (LINK, await provider_input(oidc)),
        (UNLINK, {"i": {"identityId": global_id("UserIdentity", 1)}}),
        (WITHDRAW, None),
    ):
        body = await post(oidc, query, variables)
        assert body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED", body


async def test_a_new_consent_text_asks_again_at_the_next_sign_in(oidc: OidcApp, session: AsyncSession) -> None:
    oidc.provider.person |= person()
    made = (await data(oidc, SIGN_IN, await provider_input(oidc, consentTextVersion="2026-01")))["signInWithProvider"]
    assert made["userErrors"] == []
    oidc.settings.consent_text_version = "2027-01"
    asked = (await data(oidc, SIGN_IN, await provider_input(oidc)))["signInWithProvider"]
    assert asked["accessToken"] is None
    assert [e["code"] for e in asked["userErrors"]] == ["CONSENT_REQUIRED"]
    assert asked["consentRequired"]["textVersion"] == "2027-01"
    # an old version is not taken for the new one
    stale = (
        await data(
            oidc, GIVE, {"i": {"textVersion": "2026-01", "consentToken": asked["consentRequired"]["consentToken"]}}
        )
    )["giveConsent"]
    assert [(e["field"], e["code"]) for e in stale["userErrors"]] == [(["textVersion"], "INVALID")]
    given = (
        await data(
            oidc, GIVE, {"i": {"textVersion": "2027-01", "consentToken": asked["consentRequired"]["consentToken"]}}
        )
    )["giveConsent"]
    assert given["userErrors"] == []
    assert given["accessToken"]
    seen = (await data(oidc, ME, token=given["accessToken"]))["me"]
    assert [c["textVersion"] for c in seen["consents"]] == ["2027-01", "2026-01"]
    assert seen["consentState"] == {"required": False}


async def test_withdrawing_consent_ends_diary_access(oidc: OidcApp, session: AsyncSession) -> None:
    oidc.provider.person |= person()
    made = (await data(oidc, SIGN_IN, await provider_input(oidc, consentTextVersion="2026-01")))["signInWithProvider"]
    token = made["accessToken"]
    withdrawn = (await data(oidc, WITHDRAW, token=token))["withdrawConsent"]
    assert withdrawn["userErrors"] == []
    assert [w["textVersion"] for w in withdrawn["withdrawn"]] == ["2026-01"]
    assert "доступ к дневнику прекращён" in withdrawn["consequence"]
    # every session has ended
    after = await post(oidc, ME, token=token)
    assert after["errors"][0]["extensions"]["code"] == "TOKEN_REVOKED", after
    # and the next sign-in asks for consent before it lets anyone in
    again = (await data(oidc, SIGN_IN, await provider_input(oidc)))["signInWithProvider"]
    assert again["accessToken"] is None
    assert again["consentRequired"] is not None


async def test_consent_is_given_by_a_signed_in_person_only_for_themself(oidc: OidcApp, session: AsyncSession) -> None:
    await make_user(session, password=PASSWORD, email="consenter@example.ru")
    await session.commit()
    token = await sign_in_token(oidc, "consenter@example.ru")
    given = (await data(oidc, GIVE, {"i": {"textVersion": "2026-01"}}, token))["giveConsent"]
    assert given["userErrors"] == []
    assert given["accessToken"] is None
    assert given["consent"]["method"] == "FORM"
    anonymous = await post(oidc, GIVE, {"i": {"textVersion": "2026-01"}})
    assert anonymous["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    forged = (await data(oidc, GIVE, {"i": {"textVersion": "2026-01", "consentToken": "forged"}}))["giveConsent"]
    assert [(e["field"], e["code"]) for e in forged["userErrors"]] == [(["consentToken"], "TOKEN_INVALID")]
    other = await make_user(session, password=PASSWORD, email="other.consenter@example.ru")
    await session.commit()
    other_token = await sign_in_token(oidc, "other.consenter@example.ru")
    node = await data(oidc, "query($id: ID!) { node(id: $id) { id } }", {"id": given["consent"]["id"]}, other_token)
    assert node["node"] is None
    seen = await data(
        oidc,
        "query($id: ID!) { node(id: $id) { ... on User { consents { textVersion } identities { id } } } }",
        {"id": global_id("User", other.id)},
        token,
    )
    assert seen["node"] in (None, {"consents": None, "identities": None})


async def test_a_password_sign_in_after_withdrawal_asks_for_consent(oidc: OidcApp, session: AsyncSession) -> None:
    await make_user(session, password=PASSWORD, email="withdrawer@example.ru")
    await session.commit()
    token = await sign_in_token(oidc, "withdrawer@example.ru")
    assert (await data(oidc, WITHDRAW, token=token))["withdrawConsent"]["userErrors"] == []
    sign_in = """
    mutation($i: SignInInput!) {
      signIn(input: $i) { accessToken consentRequired { textVersion consentToken } userErrors { field code } }
    }"""
    refused = (await data(oidc, sign_in, {"i": {"login": "withdrawer@example.ru", "password": PASSWORD}}))["signIn"]
    assert refused["accessToken"] is None
    assert refused["userErrors"] == [{"field": ["consent"], "code": "CONSENT_REQUIRED"}]
    consent_token = refused["consentRequired"]["consentToken"]
    given = (await data(oidc, GIVE, {"i": {"textVersion": "2026-01", "consentToken": consent_token}}))["giveConsent"]
    assert given["userErrors"] == []
    assert (await data(oidc, ME, token=given["accessToken"]))["me"]["consentState"] == {"required": False}
    # the token is spent: the same one opens no second session
    again = (await data(oidc, GIVE, {"i": {"textVersion": "2026-01", "consentToken": consent_token}}))["giveConsent"]
    assert again["accessToken"] is None
    assert [(e["field"], e["code"]) for e in again["userErrors"]] == [(["consentToken"], "TOKEN_INVALID")]
    # nor once consent is withdrawn again (required anew): it was spent before that
    assert (await data(oidc, WITHDRAW, token=given["accessToken"]))["withdrawConsent"]["userErrors"] == []
    replayed = (await data(oidc, GIVE, {"i": {"textVersion": "2026-01", "consentToken": consent_token}}))["giveConsent"]
    assert replayed["accessToken"] is None
    assert [(e["field"], e["code"]) for e in replayed["userErrors"]] == [(["consentToken"], "TOKEN_INVALID")]
