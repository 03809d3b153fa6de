"""Sign-in with an OpenID Connect provider (the public-services portal), as its client:
the authorization code flow with PKCE, through Authlib's client parts.

- Discovery: the provider's metadata is read from `{OIDC_ISSUER}/.well-known/openid-configuration`
  (and its `issuer` must be OIDC_ISSUER exactly), the signing keys from its `jwks_uri`; both are
  kept for `METADATA_TTL`, and the keys are read again once when a token names a key not seen.
- The authorization request carries `state` and `nonce` (kept by the caller, one use each) and a
  PKCE S256 challenge (RFC 7636) of a fresh `code_verifier`.
- The code is exchanged at the token endpoint (Authlib's token request and client authentication
  over httpx), and the ID token
  verified against the JWKS: signature (only the algorithms the provider announces, never
  `none`), `iss`, `aud` (our client ID; `azp` when there are several), `exp`/`iat` and `nonce`.
  Any failure is `INVALID_CREDENTIALS` on the input's `code`, with the reason in the message.

Request signing. A provider that wants its requests signed in a way of its own (ESIA signs
the client secret with the client's GOST certificate: `client_secret` = a detached CMS
signature of scope + timestamp + client_id + state, with `timestamp` as a parameter) plugs in
as a `RequestSigner`: it gets the parameters of the authorization request and of the token
request and returns them signed, and says how the client authenticates at the token
endpoint. Set OIDC_REQUEST_SIGNER to "package.module:factory", a callable taking the
settings and returning the signer; without it the client secret is sent by HTTP Basic.
"""

from __future__ import annotations

import datetime as dt
import importlib
import secrets
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol, cast

import httpx
from authlib.oauth2.auth import ClientAuth
from authlib.oauth2.rfc6749.parameters import prepare_grant_uri, prepare_token_request
from authlib.oauth2.rfc7636 import create_s256_code_challenge
from authlib.oidc.core import CodeIDToken
from joserfc import jwt
from joserfc.errors import InvalidKeyIdError, JoseError
from joserfc.jwk import KeySet
from joserfc.jws import JWSRegistry

from ediary_gql.errors import DomainError, ErrorCode
from ediary_gql.settings import Settings

METADATA_TTL = 3600.0  # seconds discovery and keys are kept
HTTP_TIMEOUT = 10.0
LEEWAY = 60  # seconds of clock skew allowed on exp/iat


class RequestSigner(Protocol):
    """Signs the requests of a provider that asks for a signature of its own.

    `token_endpoint_auth_method` is how Authlib authenticates the client at the token
    endpoint: "client_secret_basic" / "client_secret_post" with OIDC_CLIENT_SECRET, or
    "none" when the signer puts its own proof in the parameters (ESIA)."""

    token_endpoint_auth_method: str

    def sign_authorization(self, params: dict[str, str]) -> dict[str, str]:
        """The authorization request's query parameters (client_id, scope, state, nonce, …), signed."""
        ...

    def sign_token_request(self, params: dict[str, str]) -> dict[str, str]:
        """The token request's form parameters (code, code_verifier, redirect_uri, …), signed."""
        ...


class SharedSecret:
    """No signing of its own: the client secret goes by HTTP Basic (RFC 6749 §2.3.1)."""

    token_endpoint_auth_method = "client_secret_basic"

    def sign_authorization(self, params: dict[str, str]) -> dict[str, str]:
        return params

    def sign_token_request(self, params: dict[str, str]) -> dict[str, str]:
        return params


@dataclass(frozen=True, slots=True)
class ProviderConfig:
    issuer: str
    client_id: str
    client_secret: str
    scopes: tuple[str, ...]
    redirect_uri: str | None

    @classmethod
    def of(cls, settings: Settings) -> ProviderConfig:
        if not settings.oidc_issuer or not settings.oidc_client_id:
            raise DomainError(ErrorCode.INVALID_STATE, "Вход через портал не настроен")
        return cls(
            issuer=settings.oidc_issuer.rstrip("/"),
            client_id=settings.oidc_client_id,
            client_secret=settings.oidc_client_secret.get_secret_value(),
            scopes=tuple(settings.oidc_scopes),
            redirect_uri=settings.oidc_redirect_uri,
        )


@dataclass(frozen=True, slots=True)
class AuthorizationRequest:
    """What the browser is sent to, and what must be kept until the callback."""

    url: str
    state: str
    nonce: str
    code_verifier: str


@dataclass(frozen=True, slots=True)
class VerifiedIdentity:
    issuer: str
    subject: str
    nonce: str | None
    expires_at: dt.datetime  # the ID token's exp
    claims: dict[str, Any]


def refused(reason: str) -> DomainError:
    return DomainError(ErrorCode.INVALID_CREDENTIALS, f"Портал не подтвердил вход: {reason}", field="code")


def new_code_verifier() -> str:
    return secrets.token_urlsafe(64)[:96]  # RFC 7636 §4.1: 43-128 characters


def s256(code_verifier: str) -> str:
    return str(create_s256_code_challenge(code_verifier))


@dataclass(slots=True)
class _Cached:
    metadata: dict[str, Any]
    jwks: dict[str, Any] | None = None
    read_at: float = field(default_factory=time.monotonic)


_cache: dict[str, _Cached] = {}


class OidcClient:
    def __init__(self, config: ProviderConfig, signer: RequestSigner | None = None) -> None:
        self.config = config
        self.signer: RequestSigner = signer or SharedSecret()

    # --- discovery --------------------------------------------------------

    async def metadata(self) -> dict[str, Any]:
        cached = _cache.get(self.config.issuer)
        if cached is not None and time.monotonic() - cached.read_at < METADATA_TTL:
            return cached.metadata
        url = f"{self.config.issuer}/.well-known/openid-configuration"
        data = await self._get_json(url)
        if data.get("issuer", "").rstrip("/") != self.config.issuer:
            raise DomainError(ErrorCode.INVALID_STATE, "Портал назвал себя другим издателем (issuer)")
        for key in ("authorization_endpoint", "token_endpoint", "jwks_uri"):
            if not isinstance(data.get(key), str):
                raise DomainError(ErrorCode.INVALID_STATE, f"В описании портала нет {key}")
        _cache[self.config.issuer] = _Cached(metadata=data)
        return data

    async def _jwks(self, *, force: bool = False) -> KeySet:
        metadata = await self.metadata()
        cached = _cache[self.config.issuer]
        if cached.jwks is None or force:
            cached.jwks = await self._get_json(metadata["jwks_uri"])
        return KeySet.import_key_set(cast(Any, cached.jwks))

    async def _get_json(self, url: str) -> dict[str, Any]:
        try:
            async with httpx.AsyncClient(timeout=HTTP_TIMEOUT) as http:
                response = await http.get(url)
                response.raise_for_status()
                data = response.json()
        except (httpx.HTTPError, ValueError) as exc:
            raise DomainError(ErrorCode.INVALID_STATE, "Портал недоступен, попробуйте позже") from exc
        if not isinstance(data, dict):
            raise DomainError(ErrorCode.INVALID_STATE, "Портал ответил не JSON-объектом")
        return data

    # --- the flow ---------------------------------------------------------

    async def authorization_request(self, *, redirect_uri: str) -> AuthorizationRequest:
        metadata = await self.metadata()
        state, nonce, verifier = secrets.token_urlsafe(32), secrets.token_urlsafe(32), new_code_verifier()
        params = self.signer.sign_authorization(
            {
                "client_id": self.config.client_id,
                "response_type": "code",
                "redirect_uri": redirect_uri,
                "scope": " ".join(self.config.scopes),
                "state": state,
                "nonce": nonce,
                "code_challenge": s256(verifier),
                "code_challenge_method": "S256",
            }
        )
        client_id, response_type = params.pop("client_id"), params.pop("response_type")
        url = prepare_grant_uri(metadata["authorization_endpoint"], client_id, response_type, **params)
        return AuthorizationRequest(url=str(url), state=state, nonce=nonce, code_verifier=verifier)

    async def exchange(self, *, code: str, code_verifier: str, redirect_uri: str) -> dict[str, Any]:
        """The token response for a code (its `id_token` not yet verified)."""
        metadata = await self.metadata()
        params = self.signer.sign_token_request(
            {"code": code, "code_verifier": code_verifier, "redirect_uri": redirect_uri}
        )
        body = prepare_token_request("authorization_code", **params)
        headers = {"Content-Type": "application/x-www-form-urlencoded", "Accept": "application/json"}
        auth = ClientAuth(self.config.client_id, self.config.client_secret, self.signer.token_endpoint_auth_method)
        uri, headers, body = auth.prepare("POST", metadata["token_endpoint"], headers, body)
        try:
            async with httpx.AsyncClient(timeout=HTTP_TIMEOUT) as http:
                response = await http.post(uri, headers=headers, content=body)
            data = response.json()
        except (httpx.HTTPError, ValueError) as exc:
            raise DomainError(ErrorCode.INVALID_STATE, "Портал недоступен, попробуйте позже") from exc
        if not isinstance(data, dict):
            raise refused("портал ответил не JSON-объектом")
        if response.status_code != 200 or "error" in data:
            # invalid_grant: a wrong, spent or expired code, or a verifier that does not match
            raise refused(str(data.get("error") or f"HTTP {response.status_code}"))
        return data

    async def verify_id_token(
        self, id_token: str, *, nonce: str | None, access_token: str | None = None
    ) -> VerifiedIdentity:
        """The ID token's claims once signature, iss, aud, exp and nonce hold.

        `nonce`: the one sent in the authorization request (the browser flow); None where
        the caller did not make that request (an app), which then keeps the token's nonce
        against replay."""
        metadata = await self.metadata()
        algorithms = [a for a in metadata.get("id_token_signing_alg_values_supported") or ["RS256"] if a != "none"]
        registry = JWSRegistry(algorithms=algorithms)
        try:
            try:
                token = jwt.decode(id_token, await self._jwks(), algorithms=algorithms, registry=registry)
            except InvalidKeyIdError:  # the provider may have rotated its keys: read them again, once
                token = jwt.decode(id_token, await self._jwks(force=True), algorithms=algorithms, registry=registry)
        except (JoseError, ValueError) as exc:
            raise refused("подпись ID-токена не сходится с ключами портала") from exc
        params: dict[str, Any] = {"client_id": self.config.client_id}
        if nonce is not None:
            params["nonce"] = nonce
        if access_token is not None:
            params["access_token"] = access_token  # checked against at_hash when the token has one
        claims = CodeIDToken(
            token.claims,
            token.header,
            {"iss": {"essential": True, "values": [self.config.issuer]}, "nonce": {"essential": nonce is not None}},
            params,
        )
        try:
            claims.validate(leeway=LEEWAY)
        except JoseError as exc:
            raise refused(f"ID-токен не прошёл проверку ({exc.error})") from exc
        subject = claims.get("sub")
        if not isinstance(subject, str) or not subject:
            raise refused("в ID-токене нет sub")
        token_nonce = claims.get("nonce")
        return VerifiedIdentity(
            issuer=self.config.issuer,
            subject=subject,
            nonce=token_nonce if isinstance(token_nonce, str) else None,
            expires_at=dt.datetime.fromtimestamp(int(claims["exp"]), dt.UTC),
            claims=dict(claims),
        )

    async def sign_in(self, *, code: str, code_verifier: str, redirect_uri: str, nonce: str | None) -> VerifiedIdentity:
        token = await self.exchange(code=code, code_verifier=code_verifier, redirect_uri=redirect_uri)
        id_token = token.get("id_token")
        if not isinstance(id_token, str):
            raise refused("портал не выдал ID-токен")
        access_token = token.get("access_token")
        return await self.verify_id_token(
            id_token, nonce=nonce, access_token=access_token if isinstance(access_token, str) else None
        )


def load_signer(settings: Settings) -> RequestSigner | None:
    """The OIDC_REQUEST_SIGNER factory's signer, if one is set."""
    path = settings.oidc_request_signer
    if not path:
        return None
    module, _, name = path.partition(":")
    factory = cast(Callable[[Settings], RequestSigner], getattr(importlib.import_module(module), name))
    return factory(settings)


def client_for(settings: Settings) -> OidcClient:
    return OidcClient(ProviderConfig.of(settings), load_signer(settings))


def provider_claims(claims: Mapping[str, Any]) -> dict[str, Any]:
    """The claims worth keeping with an identity: no token internals."""
    internal = {"iss", "aud", "exp", "iat", "nbf", "nonce", "at_hash", "c_hash", "azp", "auth_time", "jti", "sid"}
    return {k: v for k, v in claims.items() if k not in internal}
