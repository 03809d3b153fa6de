"""The public-ID walk of identities and consent: a first sign-in with the portal that
makes an account, consent given, an identity linked and unlinked, consent withdrawn;
their audit entries name rows only by global IDs, under camelCase keys."""

from __future__ import annotations

import httpx
from sqlalchemy.ext.asyncio import AsyncSession

from ediary_gql.context import AppServices
from ediary_gql.db.models.enums import NotificationKind
from tests.factories import make_operator, make_user
from tests.graphql.test_identities import LINK, PASSWORD, SIGN_IN, UNLINK, WITHDRAW, data, person, provider_input
from tests.graphql.test_public_ids import _assert_public_everywhere
from tests.oidc_provider import OidcApp
from tests.support import GraphQLClient

ACTIONS: set[str] = {
    "signInWithProvider",
    "registerWithProvider",
    "linkIdentity",
    "unlinkIdentity",
    "giveConsent",
    "withdrawConsent",
}
KINDS: set[NotificationKind] = set()


async def test_identities(oidc: OidcApp, gql: GraphQLClient, session: AsyncSession, app_services: AppServices) -> None:
    operator = await make_operator(session, password=PASSWORD)
    await make_user(session, password=PASSWORD, email="walker@example.ru")
    await session.commit()
    oidc.provider.person |= person()
    made = (await data(oidc, SIGN_IN, await provider_input(oidc, consentTextVersion="2026-01")))["signInWithProvider"]
    assert made["userErrors"] == []
    async with httpx.AsyncClient(base_url=oidc.url) as http:
        walker = await GraphQLClient(http).sign_in("walker@example.ru", PASSWORD)
    oidc.provider.person = person(sub=oidc.provider.person["sub"] + "-walker")
    linked = (await data(oidc, LINK, await provider_input(oidc), walker))["linkIdentity"]
    assert linked["userErrors"] == []
    unlinked = (await data(oidc, UNLINK, {"i": {"identityId": linked["identity"]["id"]}}, walker))["unlinkIdentity"]
    assert unlinked["userErrors"] == []
    assert (await data(oidc, WITHDRAW, token=made["accessToken"]))["withdrawConsent"]["userErrors"] == []
    operator_token = await gql.sign_in(operator.email or "", PASSWORD)
    await _assert_public_everywhere(gql, app_services, actions=ACTIONS, kinds=KINDS, operator=operator_token)
