"""The OpenID client of auth/oidc.py against the local provider: discovery, PKCE, and a
provider's own request signing plugged in through OIDC_REQUEST_SIGNER."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from pydantic import SecretStr

from ediary_gql.auth import oidc
from ediary_gql.errors import DomainError, ErrorCode
from ediary_gql.settings import Settings
from tests.oidc_provider import CLIENT_ID, CLIENT_SECRET, LocalProvider

REDIRECT = "http://127.0.0.1:9/auth/oidc/callback"


class StampingSigner:
    """Like ESIA's: a parameter of its own on both requests, the secret in the form."""

    token_endpoint_auth_method = "client_secret_post"
    seen: list[str] = []

    def sign_authorization(self, params: dict[str, str]) -> dict[str, str]:
        self.seen.append("authorization")
        return {**params, "timestamp": "2026.12.03 06:00:00 +0000"}

    def sign_token_request(self, params: dict[str, str]) -> dict[str, str]:
        self.seen.append("token")
        return {**params, "timestamp": "2026.12.03 06:00:00 +0000"}


def make_signer(settings: Settings) -> StampingSigner:
    return StampingSigner()


def configured(settings: Settings, provider: LocalProvider, **extra: object) -> Settings:
    return settings.model_copy(
        update={
            "oidc_issuer": provider.issuer,
            "oidc_client_id": CLIENT_ID,
            "oidc_client_secret": SecretStr(CLIENT_SECRET),
            **extra,
        }
    )


async def test_a_signer_signs_both_requests_and_the_flow_still_holds(
    settings: Settings, oidc_provider: LocalProvider
) -> None:
    oidc_provider.reset()
    oidc_provider.person = {"sub": "signed-person", "family_name": "Подписанная", "given_name": "Ольга"}
    client = oidc.client_for(configured(settings, oidc_provider, oidc_request_signer=f"{__name__}:make_signer"))
    assert isinstance(client.signer, StampingSigner)
    request = await client.authorization_request(redirect_uri=REDIRECT)
    query = parse_qs(urlsplit(request.url).query)
    assert query["timestamp"] == ["2026.12.03 06:00:00 +0000"]
    assert query["code_challenge"] == [oidc.s256(request.code_verifier)]
    async with httpx.AsyncClient() as browser:
        answer = await browser.get(request.url)
    code = parse_qs(urlsplit(answer.headers["location"]).query)["code"][0]
    identity = await client.sign_in(
        code=code, code_verifier=request.code_verifier, redirect_uri=REDIRECT, nonce=request.nonce
    )
    assert identity.subject == "signed-person"
    assert identity.nonce == request.nonce
    assert StampingSigner.seen[-2:] == ["authorization", "token"]


async def test_a_nonce_other_than_the_one_sent_is_refused(settings: Settings, oidc_provider: LocalProvider) -> None:
    oidc_provider.reset()
    client = oidc.client_for(configured(settings, oidc_provider))
    request = await client.authorization_request(redirect_uri=REDIRECT)
    async with httpx.AsyncClient() as browser:
        answer = await browser.get(request.url)
    code = parse_qs(urlsplit(answer.headers["location"]).query)["code"][0]
    with pytest.raises(DomainError) as refused:
        await client.sign_in(code=code, code_verifier=request.code_verifier, redirect_uri=REDIRECT, nonce="another")
    assert refused.value.code is ErrorCode.INVALID_CREDENTIALS


async def test_without_an_issuer_sign_in_with_the_portal_is_off(settings: Settings) -> None:
    with pytest.raises(DomainError) as off:
        oidc.client_for(settings.model_copy(update={"oidc_issuer": None}))
    assert off.value.code is ErrorCode.INVALID_STATE
