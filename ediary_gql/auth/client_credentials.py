"""The OAuth2 client-credentials grant (RFC 6749 §4.4) of POST /oauth/token, by Authlib:
its AuthorizationServer for Starlette, the grant, and the client an integration is.

Authlib's server is synchronous; our database is not. So the route reads the client
(the integration named by the request, with the hashes of its secrets that still work)
before it runs the server, and keeps what the server issued (`TokenServer.issued`) to
record after. A server is made per request, holding that one client.

The access token is our own JWT (auth/tokens.py): a person's access token of the
integration's user and its one session, naming the integration, its school and the
scopes granted, so every check that refuses a signed-out session refuses a revoked
integration too, on HTTP and WebSocket alike.
"""

from __future__ import annotations

import datetime as dt
import hmac
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from authlib.oauth2.rfc6749 import (
    AuthorizationServer,
    ClientMixin,
    InvalidRequestError,
    InvalidScopeError,
    OAuth2Error,
    OAuth2Payload,
    OAuth2Request,
)
from authlib.oauth2.rfc6749.grants import ClientCredentialsGrant
from authlib.oauth2.rfc6749.util import extract_basic_authorization, list_to_scope, scope_to_list
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from ediary_gql.auth import tokens
from ediary_gql.db.models.enums import IntegrationScope

GRANT_TYPE = "client_credentials"
AUTH_METHODS = ("client_secret_basic", "client_secret_post")
FORM_TYPE = "application/x-www-form-urlencoded"
# Parameters RFC 6749 §3.2 lets appear once only.
_ONCE = ("grant_type", "scope", "client_id", "client_secret")


@dataclass(frozen=True, slots=True)
class Client(ClientMixin):  # type: ignore[misc]  # Authlib ships no type hints
    """An active integration as an OAuth2 client: confidential, client credentials only."""

    client_id: str
    integration_id: int
    user_id: int
    session_id: int
    school_id: int
    scopes: frozenset[str]
    # SHA-256 of each secret that works now: the current one, and rotated ones in their grace
    secret_hashes: tuple[str, ...]

    def get_client_id(self) -> str:
        return self.client_id

    def get_default_redirect_uri(self) -> str | None:
        return None

    def get_allowed_scope(self, scope: str | None) -> str:
        """What a token gets: the scopes asked for (all of the client's when none are)."""
        asked = scope_to_list(scope) or sorted(self.scopes)
        return str(list_to_scope(sorted(set(asked) & self.scopes)))

    def check_redirect_uri(self, redirect_uri: str) -> bool:
        return False

    def check_client_secret(self, client_secret: str) -> bool:
        digest = tokens.hash_secret(client_secret)
        # every hash compared, so the time taken does not tell which one matched
        matches = [hmac.compare_digest(digest, stored) for stored in self.secret_hashes]
        return any(matches)

    def check_endpoint_auth_method(self, method: str, endpoint: str) -> bool:
        return endpoint == "token" and method in AUTH_METHODS

    def check_response_type(self, response_type: str) -> bool:
        return False

    def check_grant_type(self, grant_type: str) -> bool:
        return grant_type == GRANT_TYPE


@dataclass(frozen=True, slots=True)
class IssuedToken:
    client: Client
    access_token: str
    expires_at: dt.datetime
    scopes: frozenset[str]


class _FormPayload(OAuth2Payload):  # type: ignore[misc]
    def __init__(self, form: FormData) -> None:
        self._datalist: defaultdict[str, list[str]] = defaultdict(list)
        for key, value in form.multi_items():
            if isinstance(value, str):
                self._datalist[key].append(value)
        self._data = {key: values[0] for key, values in self._datalist.items()}

    @property
    def data(self) -> dict[str, str]:
        return self._data

    @property
    def datalist(self) -> defaultdict[str, list[str]]:
        return self._datalist


class TokenRequest(OAuth2Request):  # type: ignore[misc]
    """A Starlette request to the token endpoint, its form already read."""

    def __init__(self, request: Request, form: FormData) -> None:
        super().__init__(method=request.method, uri=str(request.url), headers=request.headers)
        self.payload = _FormPayload(form)
        self.content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()

    @property
    def args(self) -> dict[str, str]:
        return {}

    @property
    def form(self) -> dict[str, str]:
        data: dict[str, str] = self.payload.data
        return data


class _Grant(ClientCredentialsGrant):  # type: ignore[misc]
    TOKEN_ENDPOINT_AUTH_METHODS = list(AUTH_METHODS)

    def validate_token_request(self) -> None:
        request: TokenRequest = self.request
        if request.content_type != FORM_TYPE:
            raise InvalidRequestError(f"The request body must be {FORM_TYPE}")
        repeated = [name for name in _ONCE if len(request.payload.datalist.get(name, [])) > 1]
        if repeated:
            raise InvalidRequestError(f"Repeated parameter: {repeated[0]}")
        basic_id, _ = extract_basic_authorization(request.headers)
        if basic_id and ("client_id" in request.payload.data or "client_secret" in request.payload.data):
            # RFC 6749 §2.3: one authentication method per request
            raise InvalidRequestError("Use HTTP Basic or the form's client_id and client_secret, not both")
        super().validate_token_request()

    def validate_requested_scope(self) -> None:
        super().validate_requested_scope()  # every scope is one the server knows
        asked = scope_to_list(self.request.payload.scope)
        client: Client = self.request.client
        if asked and not set(asked) <= client.scopes:
            raise InvalidScopeError("The requested scope exceeds the scopes granted to this integration")


class TokenServer(AuthorizationServer):  # type: ignore[misc]
    """Authlib's authorization server, for Starlette, with the client-credentials grant
    alone; made per request around the one client the request names (None: no such
    active integration)."""

    def __init__(self, *, client: Client | None, secret_key: str, ttl: dt.timedelta, now: dt.datetime) -> None:
        super().__init__(scopes_supported=[scope.value for scope in IntegrationScope])
        self._client = client
        self._secret_key = secret_key
        self._ttl = ttl
        self._now = now
        self.issued: IssuedToken | None = None
        self.register_grant(_Grant)
        self.register_token_generator("default", self._generate)

    def query_client(self, client_id: str) -> Client | None:
        if self._client is not None and hmac.compare_digest(client_id, self._client.client_id):
            return self._client
        return None

    def save_token(self, token: dict[str, Any], request: OAuth2Request) -> None:
        """Kept for the route to record once the server answered (see the module's text)."""

    def send_signal(self, name: str, *args: Any, **kwargs: Any) -> None:
        """No signals here."""

    def create_oauth2_request(self, request: TokenRequest) -> TokenRequest:
        return request

    def create_json_request(self, request: Any) -> Any:
        raise NotImplementedError("the token endpoint takes a form")

    def handle_response(self, status: int, body: Any, headers: Iterable[tuple[str, str]]) -> Response:
        # Authlib's headers: the JSON type, Cache-Control: no-store, Pragma: no-cache (§5.1)
        response = JSONResponse(body, status_code=status)
        for name, value in headers:
            if name.lower() != "content-type":
                response.headers[name] = value
        return response

    def get_token_grant(self, request: TokenRequest) -> Any:
        if not request.payload.grant_type:
            raise InvalidRequestError("Missing grant_type")
        return super().get_token_grant(request)

    def create_token_response(self, request: TokenRequest | None = None) -> Response:
        try:
            response: Response = super().create_token_response(request)
        except OAuth2Error as error:  # refused before a grant was chosen
            return self.error_response(error)
        return response

    def error_response(self, error: OAuth2Error) -> Response:
        """An error as RFC 6749 §5.2 has it: JSON `error` and `error_description`."""
        status, body, headers = error()
        return self.handle_response(status, body, headers)

    def _generate(
        self,
        grant_type: str,
        client: Client,
        user: Any = None,
        scope: str | None = None,
        expires_in: int | None = None,
        include_refresh_token: bool = False,
    ) -> dict[str, Any]:
        granted = frozenset(scope_to_list(client.get_allowed_scope(scope)) or ())
        access_token, expires_at = tokens.issue_integration_token(
            secret_key=self._secret_key,
            user_id=client.user_id,
            session_id=client.session_id,
            integration_id=client.integration_id,
            school_id=client.school_id,
            scopes=granted,
            ttl=self._ttl,
            now=self._now,
        )
        self.issued = IssuedToken(client=client, access_token=access_token, expires_at=expires_at, scopes=granted)
        # no refresh token: a client asks again with its credentials (§4.4.3)
        return {
            "access_token": access_token,
            "token_type": "Bearer",
            "expires_in": int(self._ttl.total_seconds()),
            "scope": list_to_scope(sorted(granted)),
        }


def client_id_of(request: Request, form: FormData) -> str | None:
    """The client a token request names: by HTTP Basic, else by the form's client_id."""
    basic_id, _ = extract_basic_authorization(request.headers)
    if basic_id:
        return str(basic_id)
    value = form.get("client_id")
    return value if isinstance(value, str) and value else None
