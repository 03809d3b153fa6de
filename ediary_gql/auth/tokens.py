"""Access tokens (short-lived JWT) and refresh tokens (opaque, stored hashed).

An access token names its sign-in session (`sid`); revoking the session
refuses every access token of it at once, on HTTP and WebSocket alike.
A refresh token is `<session id>.<secret>`; only the secret's SHA-256 is kept
and it is rotated on every use.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets
import time
from collections.abc import Iterable
from dataclasses import dataclass

import jwt

from ediary_gql.db.ids import parse_id
from ediary_gql.errors import DomainError, ErrorCode

_ALGORITHM = "HS256"
_AUDIENCE = "ediary-gql"


@dataclass(frozen=True, slots=True)
class AccessClaims:
    user_id: int
    session_id: int
    expires_at: dt.datetime
    # an integration's token (client credentials): who, at which school, with what scopes
    integration_id: int | None = None
    school_id: int | None = None
    scopes: frozenset[str] = frozenset()


def issue_access_token(
    *, secret_key: str, user_id: int, session_id: int, ttl: dt.timedelta, now: dt.datetime
) -> tuple[str, dt.datetime]:
    expires_at = now + ttl
    payload = {
        "sub": str(user_id),
        "sid": session_id,
        "iat": int(now.timestamp()),
        "exp": int(expires_at.timestamp()),
        "aud": _AUDIENCE,
        "typ": "access",
    }
    return jwt.encode(payload, secret_key, algorithm=_ALGORITHM), expires_at


def issue_integration_token(
    *,
    secret_key: str,
    user_id: int,
    session_id: int,
    integration_id: int,
    school_id: int,
    scopes: Iterable[str],
    ttl: dt.timedelta,
    now: dt.datetime,
) -> tuple[str, dt.datetime]:
    """An integration's access token: a person's access token (its user row, its one
    session) that also names the integration, its school and the scopes granted (`scope`,
    space-separated as in RFC 6749 §3.3)."""
    expires_at = now + ttl
    payload = {
        "sub": str(user_id),
        "sid": session_id,
        "iat": int(now.timestamp()),
        "exp": int(expires_at.timestamp()),
        "aud": _AUDIENCE,
        "typ": "access",
        "iid": integration_id,
        "sch": school_id,
        "scope": " ".join(sorted(scopes)),
    }
    return jwt.encode(payload, secret_key, algorithm=_ALGORITHM), expires_at


# Tokens verified lately: every request of a client carries the same token, and checking
# its signature and claims again each time cost as much as the session's statement. Only
# verified tokens are kept, under the key they were verified with; expiry is checked on
# every use. Bounded: the oldest entry goes first.
_VERIFIED: dict[tuple[str, str], AccessClaims] = {}
VERIFIED_MAX = 10_000


def decode_access_token(token: str, *, secret_key: str) -> AccessClaims:
    """The claims of a valid access token; TOKEN_EXPIRED or TOKEN_INVALID otherwise."""
    key = (token, secret_key)
    claims = _VERIFIED.get(key)
    if claims is None:
        claims = _verify(token, secret_key)
        if len(_VERIFIED) >= VERIFIED_MAX:
            del _VERIFIED[next(iter(_VERIFIED))]
        _VERIFIED[key] = claims
    elif claims.expires_at.timestamp() <= time.time():  # as PyJWT decides it, without leeway
        del _VERIFIED[key]
        raise DomainError(ErrorCode.TOKEN_EXPIRED, "Срок действия токена истёк")
    return claims


def _verify(token: str, secret_key: str) -> AccessClaims:
    try:
        payload = jwt.decode(
            token,
            secret_key,
            algorithms=[_ALGORITHM],
            audience=_AUDIENCE,
            options={"require": ["sub", "sid", "exp", "aud"]},
        )
    except jwt.ExpiredSignatureError:
        raise DomainError(ErrorCode.TOKEN_EXPIRED, "Срок действия токена истёк") from None
    except jwt.PyJWTError:
        raise DomainError(ErrorCode.TOKEN_INVALID, "Недействительный токен") from None
    if payload.get("typ") != "access":
        raise DomainError(ErrorCode.TOKEN_INVALID, "Недействительный токен")
    try:
        integration = payload.get("iid")
        return AccessClaims(
            user_id=int(payload["sub"]),
            session_id=int(payload["sid"]),
            expires_at=dt.datetime.fromtimestamp(payload["exp"], dt.UTC),
            integration_id=None if integration is None else int(integration),
            school_id=None if integration is None else int(payload["sch"]),
            scopes=frozenset(str(payload.get("scope") or "").split()) if integration is not None else frozenset(),
        )
    except (TypeError, ValueError, KeyError):
        raise DomainError(ErrorCode.TOKEN_INVALID, "Недействительный токен") from None


def new_secret() -> str:
    """A secret to hand out once and keep only as its hash (a refresh token, a client secret)."""
    return secrets.token_urlsafe(32)


def hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def secrets_match(secret: str, stored_hash: str) -> bool:
    return hmac.compare_digest(hash_secret(secret), stored_hash)


def format_refresh_token(session_id: int, secret: str) -> str:
    return f"{session_id}.{secret}"


def parse_refresh_token(token: str) -> tuple[int, str]:
    session_part, _, secret = token.partition(".")
    session_id = parse_id(session_part)
    if session_id is None or not secret:
        raise DomainError(ErrorCode.TOKEN_INVALID, "Недействительный токен обновления", field="refreshToken")
    return session_id, secret


def bearer_token(header_value: str | None) -> str | None:
    """The token of an `Authorization: Bearer <token>` value, or None if absent."""
    if not header_value:
        return None
    scheme, _, token = header_value.strip().partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise DomainError(ErrorCode.TOKEN_INVALID, "Ожидается заголовок Authorization: Bearer <токен>")
    return token.strip()
