"""A real OpenID provider for the tests, built with Authlib's server parts: the
authorization code grant with PKCE (S256 required), OpenID Connect ID tokens signed
with an RSA key published as a JWKS, and discovery at /.well-known/openid-configuration.

It serves on loopback as a uvicorn server in the test's event loop. The person who
"signs in" at the provider is `provider.person` (claims); the authorization endpoint
approves at once, as a provider would after its own login form. Switches for the
refusal tests: `sign_with` (a key other than the published one), `audience` (an ID
token for another client), `id_token_lifetime` (negative: expired), `expire_codes()`
(every code issued so far is past its lifetime).
"""

from __future__ import annotations

import asyncio
import os
import secrets
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest_asyncio
import uvicorn
from authlib.oauth2.rfc6749 import AuthorizationServer, ClientMixin, OAuth2Error, OAuth2Request
from authlib.oauth2.rfc6749.grants import AuthorizationCodeGrant
from authlib.oauth2.rfc6749.models import AuthorizationCodeMixin as _CodeMixin
from authlib.oauth2.rfc6749.requests import BasicOAuth2Payload, JsonRequest
from authlib.oauth2.rfc6750 import BearerTokenGenerator
from authlib.oauth2.rfc7636 import CodeChallenge, create_s256_code_challenge
from authlib.oidc.core import UserInfo
from authlib.oidc.core.grants import OpenIDCode
from joserfc.jwk import KeySet, RSAKey
from pydantic import SecretStr
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from ediary_gql.app import create_app
from ediary_gql.settings import Settings
from tests.support import free_port

# The provider and our client talk plain HTTP on loopback in tests only.
os.environ.setdefault("AUTHLIB_INSECURE_TRANSPORT", "1")

CLIENT_ID = "ediary-test-client"
CLIENT_SECRET = "ediary-test-client-secret"
CODE_TTL = 60


@dataclass
class _Client(ClientMixin):  # type: ignore[misc]
    client_id: str
    client_secret: str

    def get_client_id(self) -> str:
        return self.client_id

    def get_default_redirect_uri(self) -> str | None:
        return None

    def get_allowed_scope(self, scope: str) -> str:
        return scope

    def check_redirect_uri(self, redirect_uri: str) -> bool:
        return redirect_uri.startswith(("http://127.0.0.1:", "app://"))

    def check_client_secret(self, client_secret: str) -> bool:
        return secrets.compare_digest(client_secret, self.client_secret)

    def check_endpoint_auth_method(self, method: str, endpoint: str) -> bool:
        return method in ("client_secret_basic", "client_secret_post")

    def check_response_type(self, response_type: str) -> bool:
        return response_type == "code"

    def check_grant_type(self, grant_type: str) -> bool:
        return grant_type == "authorization_code"


@dataclass
class _Code(_CodeMixin):  # type: ignore[misc]
    code: str
    client_id: str
    redirect_uri: str
    scope: str
    nonce: str | None
    code_challenge: str | None
    code_challenge_method: str | None
    person: dict[str, Any]
    issued_at: float = field(default_factory=time.time)

    def get_redirect_uri(self) -> str:
        return self.redirect_uri

    def get_scope(self) -> str:
        return self.scope

    def get_nonce(self) -> str | None:
        return self.nonce

    def get_auth_time(self) -> int:
        return int(self.issued_at)

    def get_acr(self) -> str | None:
        return None

    def get_amr(self) -> list[str] | None:
        return None


class _Request(OAuth2Request):  # type: ignore[misc]
    def __init__(self, method: str, uri: str, headers: Any, data: dict[str, str]) -> None:
        super().__init__(method=method, uri=uri, headers=headers)
        self.payload = BasicOAuth2Payload(data)
        self._data = data

    @property
    def args(self) -> dict[str, str]:
        return self._data if self.method == "GET" else {}

    @property
    def form(self) -> dict[str, str]:
        return self._data if self.method == "POST" else {}


class LocalProvider:
    """One provider's state; `issuer` is known once it listens."""

    def __init__(self) -> None:
        self.issuer = ""
        self.key = RSAKey.generate_key(2048, parameters={"kid": "test-key", "use": "sig", "alg": "RS256"})
        self.other_key = RSAKey.generate_key(2048, parameters={"kid": "test-key", "use": "sig", "alg": "RS256"})
        self.sign_with: RSAKey = self.key
        self.audience: str | None = None
        self.id_token_lifetime = 300  # seconds; negative for an ID token already expired
        self.person: dict[str, Any] = {"sub": "person-1"}
        self.codes: dict[str, _Code] = {}
        self.client = _Client(CLIENT_ID, CLIENT_SECRET)
        self.server = self._server()

    def reset(self) -> None:
        self.sign_with = self.key
        self.audience = None
        self.id_token_lifetime = 300
        self.codes.clear()

    def expire_codes(self) -> None:
        for code in self.codes.values():
            code.issued_at -= CODE_TTL + 1

    def _server(self) -> AuthorizationServer:
        provider = self

        class Server(AuthorizationServer):  # type: ignore[misc]
            def query_client(self, client_id: str) -> _Client | None:
                return provider.client if client_id == provider.client.client_id else None

            def save_token(self, token: dict[str, Any], request: OAuth2Request) -> None:
                return None

            def create_oauth2_request(self, request: OAuth2Request) -> OAuth2Request:
                return request

            def create_json_request(self, request: OAuth2Request) -> JsonRequest:
                raise NotImplementedError

            def handle_response(self, status: int, body: Any, headers: Any) -> Response:
                headers = dict(headers)
                if isinstance(body, dict):
                    return JSONResponse(body, status_code=status, headers=headers)
                return Response(body or "", status_code=status, headers=headers)

            def send_signal(self, name: str, *args: Any, **kwargs: Any) -> None:
                return None

        class Grant(AuthorizationCodeGrant):  # type: ignore[misc]
            TOKEN_ENDPOINT_AUTH_METHODS = ["client_secret_basic", "client_secret_post"]

            def save_authorization_code(self, code: str, request: OAuth2Request) -> None:
                data = request.payload.data
                provider.codes[code] = _Code(
                    code=code,
                    client_id=request.client.get_client_id(),
                    redirect_uri=data.get("redirect_uri", ""),
                    scope=data.get("scope", ""),
                    nonce=data.get("nonce"),
                    code_challenge=data.get("code_challenge"),
                    code_challenge_method=data.get("code_challenge_method"),
                    person=dict(request.user),
                )

            def query_authorization_code(self, code: str, client: _Client) -> _Code | None:
                found = provider.codes.get(code)
                if found is None or found.client_id != client.get_client_id():
                    return None
                if time.time() - found.issued_at > CODE_TTL:
                    return None  # expired: invalid_grant
                return found

            def delete_authorization_code(self, authorization_code: _Code) -> None:
                provider.codes.pop(authorization_code.code, None)

            def authenticate_user(self, authorization_code: _Code) -> dict[str, Any]:
                return authorization_code.person

        class Challenge(CodeChallenge):  # type: ignore[misc]
            def get_authorization_code_challenge(self, authorization_code: _Code) -> str | None:
                return authorization_code.code_challenge

            def get_authorization_code_challenge_method(self, authorization_code: _Code) -> str | None:
                return authorization_code.code_challenge_method

        class IdToken(OpenIDCode):  # type: ignore[misc]
            def resolve_client_private_key(self, client: _Client) -> RSAKey:
                return provider.sign_with

            def get_client_algorithm(self, client: _Client) -> str:
                return "RS256"

            def get_encode_header(self, client: _Client) -> dict[str, str]:
                return {"alg": "RS256", "kid": "test-key"}

            def get_client_claims(self, client: _Client) -> dict[str, Any]:
                return {
                    "iss": provider.issuer,
                    "aud": [provider.audience or client.get_client_id()],
                    "exp": int(time.time()) + provider.id_token_lifetime,
                }

            def exists_nonce(self, nonce: str, request: OAuth2Request) -> bool:
                return any(code.nonce == nonce for code in provider.codes.values())

            def generate_user_info(self, user: dict[str, Any], scope: str) -> UserInfo:
                return UserInfo(user)

        server = Server(scopes_supported=["openid", "profile", "email", "phone", "snils"])
        server.register_grant(Grant, [Challenge(required=True), IdToken(require_nonce=False)])
        server.register_token_generator(
            "default", BearerTokenGenerator(lambda *args, **kwargs: secrets.token_urlsafe(32))
        )
        return server

    # --- HTTP -------------------------------------------------------------

    async def discovery(self, request: Request) -> Response:
        return JSONResponse(
            {
                "issuer": self.issuer,
                "authorization_endpoint": f"{self.issuer}/authorize",
                "token_endpoint": f"{self.issuer}/token",
                "jwks_uri": f"{self.issuer}/jwks",
                "response_types_supported": ["code"],
                "subject_types_supported": ["public"],
                "id_token_signing_alg_values_supported": ["RS256"],
                "code_challenge_methods_supported": ["S256"],
                "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
            }
        )

    async def jwks(self, request: Request) -> Response:
        return JSONResponse(KeySet([self.key]).as_dict(private=False))

    async def authorize(self, request: Request) -> Response:
        req = _Request("GET", str(request.url), request.headers, dict(request.query_params))
        try:
            grant = self.server.get_consent_grant(req, end_user=dict(self.person))
        except OAuth2Error as error:
            failed: Response = self.server.handle_error_response(req, error)
            return failed
        response: Response = self.server.create_authorization_response(req, grant_user=dict(self.person), grant=grant)
        return response

    async def token(self, request: Request) -> Response:
        form = await request.form()
        data = {k: v for k, v in form.items() if isinstance(v, str)}
        req = _Request("POST", str(request.url), request.headers, data)
        response: Response = self.server.create_token_response(req)
        return response

    def app(self) -> Starlette:
        return Starlette(
            routes=[
                Route("/.well-known/openid-configuration", self.discovery),
                Route("/jwks", self.jwks),
                Route("/authorize", self.authorize),
                Route("/token", self.token, methods=["POST"]),
            ]
        )


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def oidc_provider() -> AsyncIterator[LocalProvider]:
    """The provider, listening on a free loopback port for the whole session."""
    provider = LocalProvider()
    port = free_port()
    provider.issuer = f"http://127.0.0.1:{port}"
    server = uvicorn.Server(uvicorn.Config(provider.app(), host="127.0.0.1", port=port, log_level="warning"))
    task = asyncio.create_task(server.serve())
    while not server.started:
        if task.done():
            task.result()
        await asyncio.sleep(0.01)
    yield provider
    server.should_exit = True
    await task


@dataclass(frozen=True)
class OidcApp:
    """Our server, configured to sign in with `provider`, beside the suite's live one (same database)."""

    url: str
    app: Starlette
    provider: LocalProvider

    @property
    def settings(self) -> Settings:
        settings: Settings = self.app.state.services.settings
        return settings


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def oidc_app(live: Any, settings: Settings, oidc_provider: LocalProvider) -> AsyncIterator[OidcApp]:
    configured = settings.model_copy(
        update={
            "oidc_issuer": oidc_provider.issuer,
            "oidc_client_id": CLIENT_ID,
            "oidc_client_secret": SecretStr(CLIENT_SECRET),
            "oidc_scopes": ["openid", "profile", "email", "phone", "snils"],
            "consent_text_version": "2026-01",
        }
    )
    app = create_app(configured)
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on", ws="websockets-sansio")
    )
    task = asyncio.create_task(server.serve())
    while not server.started:
        if task.done():
            task.result()
        await asyncio.sleep(0.01)
    yield OidcApp(url=f"http://127.0.0.1:{port}", app=app, provider=oidc_provider)
    server.should_exit = True
    await task


@pytest_asyncio.fixture(loop_scope="session")
async def oidc(oidc_app: OidcApp, app_services: Any) -> AsyncIterator[OidcApp]:
    """Per test: the provider's switches back to normal, the consent text's version as configured."""
    oidc_app.provider.reset()
    oidc_app.provider.person = {"sub": f"person-{secrets.token_hex(6)}"}
    oidc_app.settings.consent_text_version = "2026-01"
    yield oidc_app
    oidc_app.provider.reset()
    oidc_app.settings.consent_text_version = "2026-01"


APP_REDIRECT = "app://ediary/callback"


async def app_code(provider: LocalProvider, *, nonce: str | None = None) -> tuple[str, str]:
    """What an app gets from the provider for its own authorization request: (code, code_verifier)."""
    verifier = secrets.token_urlsafe(48)
    params = {
        "response_type": "code",
        "client_id": CLIENT_ID,
        "redirect_uri": APP_REDIRECT,
        "scope": "openid profile email phone snils",
        "state": secrets.token_urlsafe(8),
        "code_challenge": create_s256_code_challenge(verifier),
        "code_challenge_method": "S256",
    }
    if nonce is not None:
        params["nonce"] = nonce
    async with httpx.AsyncClient() as http:
        response = await http.get(f"{provider.issuer}/authorize", params=params)
    assert response.status_code == 302, response.text
    query = parse_qs(urlsplit(response.headers["location"]).query)
    assert "code" in query, query
    return query["code"][0], verifier
