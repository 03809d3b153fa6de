"""`POST /oauth/token`: access tokens for integrations by the OAuth2 client-credentials
grant (RFC 6749 §4.4), through Authlib (auth/client_credentials.py).

    POST /oauth/token
    Authorization: Basic base64(client_id:client_secret)     (or both in the form)
    Content-Type: application/x-www-form-urlencoded

    grant_type=client_credentials&scope=grades:write attendance:write

answers `{"access_token", "token_type": "Bearer", "expires_in", "scope"}` (all the
integration's scopes when none are asked for), or an error of §5.2 as JSON:
`invalid_request`, `invalid_client`, `invalid_scope`, `unsupported_grant_type`,
`unauthorized_client`. `invalid_client` is 401 with a `WWW-Authenticate: Basic`
challenge however the client authenticated: §5.2 requires it after HTTP Basic and
allows it otherwise, to name the scheme the server supports (Authlib's answer). The token goes
to /graphql (and its WebSocket) as `Authorization: Bearer …`, like a person's.
"""

from __future__ import annotations

import datetime as dt

from authlib.oauth2.rfc6749 import InvalidClientError
from starlette.requests import Request
from starlette.responses import Response

from ediary_gql.auth.client_credentials import TokenRequest, TokenServer, client_id_of
from ediary_gql.context import AppServices
from ediary_gql.db import replicas
from ediary_gql.db.base import utcnow
from ediary_gql.services import integrations

PATH = "/oauth/token"
TOKEN_ROUTE = "oauth_token"


async def token(request: Request) -> Response:
    services: AppServices = request.app.state.services
    settings = services.settings
    form = await request.form()
    try:
        client_id = client_id_of(request, form)
        client = None
        if client_id is not None:
            # on the primary: a client made or a secret rotated moments ago is not on a replica yet
            with replicas.on_primary():
                async with services.read_session_factory() as session:
                    client = await integrations.client_of(session, client_id)
        server = TokenServer(
            client=client,
            secret_key=settings.secret_key,
            ttl=dt.timedelta(seconds=settings.integration_token_ttl_seconds),
            now=utcnow(),
        )
        response = server.create_token_response(TokenRequest(request, form))
        issued = server.issued
        if issued is None:
            return response
        async with services.session_factory() as session, session.begin():
            kept = await integrations.record_token(session, client=issued.client, expires_at=issued.expires_at)
        if not kept:  # revoked while the token was being made: refused as a revoked client is
            return server.error_response(InvalidClientError(description="The client was revoked", status_code=401))
        return response
    finally:
        await form.close()
