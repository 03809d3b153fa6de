"""The browser flow of sign-in with the portal (OpenID Connect, auth/oidc.py):

    GET /auth/oidc/login      → 302 to the provider's authorization endpoint (state, nonce, PKCE S256)
    GET /auth/oidc/callback   ← the provider's redirect with ?code&state

The callback takes the login request its `state` names (good once, for 10 minutes),
exchanges the code with the kept PKCE verifier, verifies the ID token (its nonce is the
one sent) and signs the person in exactly as `signIn` does (services/sessions.open_session).

The answer: with OIDC_RETURN_URL set, a 303 to it with the outcome in the URL fragment
(not sent to any server): `#access_token=…&access_token_expires_at=…&refresh_token=…&
refresh_token_expires_at=…`, or `#error=CODE&message=…` (and `consent_token` and
`text_version` with CONSENT_REQUIRED). Without it, the same as JSON (200, or 400 with
`error`).

Login CSRF: the login answer sets a cookie (BINDING_COOKIE, HttpOnly, SameSite=Lax, on
/auth/oidc/ only, as long as the request is good) holding an HMAC of the state under
SECRET_KEY; the callback refuses a state this browser did not start (the state is not spent)
and clears the cookie. Someone else's callback link, opened here, signs nobody in.
"""

from __future__ import annotations

import hashlib
import hmac
from typing import Any
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response

from ediary_gql.auth import oidc
from ediary_gql.context import AppServices
from ediary_gql.errors import DomainError, ErrorCode, RecordedRefusal
from ediary_gql.events.publish import unit_of_work
from ediary_gql.services import identities
from ediary_gql.services.audit import RequestMeta, set_request_meta

LOGIN_PATH = "/auth/oidc/login"
CALLBACK_PATH = "/auth/oidc/callback"
LOGIN_ROUTE = "oidc_login"
CALLBACK_ROUTE = "oidc_callback"
BINDING_COOKIE = "ediary_oidc_login"
BINDING_PATH = "/auth/oidc/"


def _binding(services: AppServices, state: str) -> str:
    """What the browser that started the login with `state` holds: no storage needed."""
    key = services.settings.secret_key.encode()
    return hmac.new(key, b"oidc-login-binding:" + state.encode(), hashlib.sha256).hexdigest()


def _bound(request: Request, services: AppServices, state: str) -> bool:
    held = request.cookies.get(BINDING_COOKIE)
    return held is not None and hmac.compare_digest(held, _binding(services, state))


def _redirect_uri(request: Request, services: AppServices) -> str:
    return services.settings.oidc_redirect_uri or str(request.url_for(CALLBACK_ROUTE))


def _client_ip(request: Request) -> str | None:
    return request.client.host if request.client else None


def _answer(services: AppServices, body: dict[str, Any], status: int) -> Response:
    target = services.settings.oidc_return_url
    if target:
        values = {k: str(v) for k, v in body.items() if v is not None}
        return RedirectResponse(f"{target}#{urlencode(values)}", status_code=303)
    return JSONResponse(body, status_code=status, headers={"Cache-Control": "no-store"})


def _refused(services: AppServices, error: DomainError) -> Response:
    body: dict[str, Any] = {"error": error.code.value, "message": str(error)}
    if error.code is ErrorCode.CONSENT_REQUIRED:
        body["consent_token"] = error.extra.get("consentToken")
        body["text_version"] = error.extra.get("textVersion")
    return _answer(services, body, 400)


async def login(request: Request) -> Response:
    services: AppServices = request.app.state.services
    try:
        client = oidc.client_for(services.settings)
        made = await client.authorization_request(redirect_uri=_redirect_uri(request, services))
        refusal: DomainError | None = None
        async with unit_of_work(services.session_factory, services.bus) as session:
            try:
                await identities.begin_login(
                    session, settings=services.settings, request=made, address=_client_ip(request)
                )
            except RecordedRefusal as exc:  # the refusal's audit entry is committed
                refusal = exc.refusal
        if refusal is not None:
            raise refusal
    except DomainError as exc:
        return _refused(services, exc)
    answer = RedirectResponse(made.url, status_code=302, headers={"Cache-Control": "no-store"})
    answer.set_cookie(
        BINDING_COOKIE,
        _binding(services, made.state),
        max_age=int(identities.LOGIN_TTL.total_seconds()),
        path=BINDING_PATH,
        secure=request.url.scheme == "https",
        httponly=True,
        samesite="lax",
    )
    return answer


async def callback(request: Request) -> Response:
    services: AppServices = request.app.state.services
    params = request.query_params
    state = params.get("state")
    if not state:
        return _refused(services, DomainError(ErrorCode.REQUIRED, "Нет параметра state", field="state"))
    if not _bound(request, services, state):  # not started in this browser: the state stays good
        return _refused(
            services,
            DomainError(ErrorCode.INVALID_CREDENTIALS, "Вход начат не в этом браузере, начните снова", field="state"),
        )
    answer = await _finish(request, services, state)
    answer.delete_cookie(
        BINDING_COOKIE, path=BINDING_PATH, secure=request.url.scheme == "https", httponly=True, samesite="lax"
    )
    return answer


async def _finish(request: Request, services: AppServices, state: str) -> Response:
    params = request.query_params
    code = params.get("code")
    refusal: DomainError | None = None
    try:
        # the request is spent whatever follows: committed on its own first
        async with unit_of_work(services.session_factory, services.bus) as session:
            try:
                taken = await identities.take_login(session, state=state)
            except RecordedRefusal as exc:
                refusal = exc.refusal
        if refusal is not None:
            raise refusal
        if params.get("error") or not code:
            message = params.get("error_description") or params.get("error") or "портал не выдал код"
            raise oidc.refused(message)
        identity = await identities.verify(
            services.settings,
            code=code,
            code_verifier=taken.code_verifier or "",
            redirect_uri=_redirect_uri(request, services),
            nonce=taken.nonce,
        )
        async with unit_of_work(services.session_factory, services.bus) as session:
            set_request_meta(session, RequestMeta(ip=_client_ip(request), request_id=None))
            try:
                pair = await identities.sign_in_with_identity(
                    session,
                    settings=services.settings,
                    identity=identity,
                    app_nonce=False,
                    consent_text_version=None,
                    user_agent=request.headers.get("user-agent"),
                    ip=_client_ip(request),
                )
            except RecordedRefusal as exc:  # what was recorded (the link, a new account) stands
                refusal = exc.refusal
        if refusal is not None:
            raise refusal
    except DomainError as exc:
        return _refused(services, exc)
    return _answer(
        services,
        {
            "access_token": pair.access_token,
            "access_token_expires_at": pair.access_expires_at.isoformat(),
            "refresh_token": pair.refresh_token,
            "refresh_token_expires_at": pair.refresh_expires_at.isoformat(),
            "token_type": "Bearer",
        },
        200,
    )
