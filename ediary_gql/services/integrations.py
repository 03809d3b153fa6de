"""Integrations: a school's service accounts, with OAuth2 client credentials.

A school admin creates one with a name and scopes; it gets a client ID, a secret shown
once (only its SHA-256 is kept), a user row of its own to act through (no contact, no
password that works: nobody signs in as it), and one sign-in session that its access
tokens name. POST /oauth/token (routes/oauth.py, auth/client_credentials.py) issues
them. Rotating the secret keeps the old one working for INTEGRATION_SECRET_GRACE_HOURS;
revoking ends the session, so every token is refused at once and open subscriptions end
(the `user_sessions` channel, as at a sign-out).
"""

from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import Select, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from ediary_gql.auth import policy, tokens
from ediary_gql.auth.actor import Actor
from ediary_gql.auth.client_credentials import Client
from ediary_gql.db.base import utcnow
from ediary_gql.db.models.enums import IntegrationScope, IntegrationStatus, UserStatus, WebhookStatus
from ediary_gql.db.models.integrations import Integration, IntegrationSecret, Webhook
from ediary_gql.db.models.schools import School
from ediary_gql.db.models.users import AuthSession, User
from ediary_gql.errors import DomainError, ErrorCode, ErrorCollector, not_found
from ediary_gql.services import audit, session_ends

NAME_MAX = 120
CLIENT_ID_PREFIX = "ed_"
# the user row an integration acts through: named so the audit log and the records name it
USER_LAST_NAME = "Интеграция"
# never a hash argon2 accepts: no password signs in as an integration
NO_PASSWORD = "!integration"
_MAY_MANAGE = "Интеграции школы создают и отзывают только ответственные за дневник этой школы"


@dataclass(frozen=True, slots=True)
class NewSecret:
    """An integration and its secret, shown this once."""

    integration: Integration
    secret: str
    # a rotation's: until when the secrets it replaced keep working
    previous_until: dt.datetime | None = None


def _check(name: str, scopes: Sequence[str]) -> tuple[str, list[str]]:
    errors = ErrorCollector()
    clean = " ".join(name.split())
    if not clean:
        errors.add("name", ErrorCode.REQUIRED, "Укажите название интеграции")
    elif len(clean) > NAME_MAX:
        errors.add("name", ErrorCode.TOO_LONG, f"Название — не длиннее {NAME_MAX} символов")
    known = {scope.value for scope in IntegrationScope}
    if not scopes:
        errors.add("scopes", ErrorCode.REQUIRED, "Укажите хотя бы одно разрешение")
    for i, scope in enumerate(scopes):
        if scope not in known:
            errors.add(("scopes", str(i)), ErrorCode.INVALID, f"Неизвестное разрешение: {', '.join(sorted(known))}")
    errors.raise_if_any()
    return clean, sorted(set(scopes))


async def create_integration(
    session: AsyncSession, *, actor: Actor, school_id: int, name: str, scopes: Sequence[str]
) -> NewSecret:
    """A new integration of the school, ACTIVE, with its first secret."""
    school = await session.get(School, school_id)
    if school is None:
        raise not_found("schoolId", "Школа не найдена")
    policy.ensure(policy.can_manage_integrations(actor, school_id), _MAY_MANAGE)
    clean, granted = _check(name, scopes)
    now = utcnow()
    user = User(
        last_name=USER_LAST_NAME,
        first_name=clean[:100],
        password_hash=NO_PASSWORD,
        status=UserStatus.CONFIRMED,
    )
    session.add(user)
    await session.flush()
    integration = Integration(
        school_id=school_id,
        user_id=user.id,
        name=clean,
        client_id=CLIENT_ID_PREFIX + secrets.token_urlsafe(18),
        scopes=granted,
        status=IntegrationStatus.ACTIVE,
        created_by_id=None if actor.is_system else actor.user_id,
    )
    session.add(integration)
    # the one session its tokens name; it lasts as long as the latest token (issue_token)
    session.add(
        AuthSession(
            user_id=user.id,
            refresh_hash=tokens.hash_secret(tokens.new_secret()),  # no refresh token is ever given out
            created_at=now,
            last_used_at=now,
            expires_at=now,
            user_agent=f"integration:{clean}"[:300],
        )
    )
    await session.flush()
    secret = tokens.new_secret()
    session.add(IntegrationSecret(integration_id=integration.id, secret_hash=tokens.hash_secret(secret)))
    audit.record(
        session,
        actor=actor,
        action="createIntegration",
        entity_type="Integration",
        entity_id=integration.id,
        after={"name": clean, "clientId": integration.client_id, "scopes": granted, "userId": user.id},
        school_id=school_id,
    )
    return NewSecret(integration, secret)


async def _managed(session: AsyncSession, actor: Actor, integration_id: int) -> Integration:
    """The integration, locked, once the actor may manage it; NOT_FOUND otherwise (another
    school's integration is not told apart from none)."""
    integration = await session.get(Integration, integration_id, with_for_update=True)
    if integration is None or not policy.can_manage_integrations(actor, integration.school_id):
        raise not_found("integrationId", "Интеграция не найдена")
    return integration


def _active(integration: Integration) -> None:
    if integration.status != IntegrationStatus.ACTIVE:
        raise DomainError(ErrorCode.INVALID_STATE, "Интеграция отозвана", field="integrationId")


async def rotate_secret(session: AsyncSession, *, actor: Actor, integration_id: int, grace: dt.timedelta) -> NewSecret:
    """A new secret; the ones that worked keep working for `grace` more (not beyond an
    earlier end already set), then stop."""
    integration = await _managed(session, actor, integration_id)
    _active(integration)
    now = utcnow()
    ends = now + grace
    await session.execute(
        update(IntegrationSecret)
        .where(
            IntegrationSecret.integration_id == integration.id,
            or_(IntegrationSecret.expires_at.is_(None), IntegrationSecret.expires_at > ends),
        )
        .values(expires_at=ends)
    )
    secret = tokens.new_secret()
    session.add(IntegrationSecret(integration_id=integration.id, secret_hash=tokens.hash_secret(secret)))
    audit.record(
        session,
        actor=actor,
        action="rotateIntegrationSecret",
        entity_type="Integration",
        entity_id=integration.id,
        after={"previousSecretsUntil": ends.isoformat()},
        school_id=integration.school_id,
    )
    return NewSecret(integration, secret, ends)


async def revoke_integration(session: AsyncSession, *, actor: Actor, integration_id: int) -> Integration:
    """REVOKED for good: its secrets stop working, its tokens are refused from now on, and
    its open subscriptions end once this commits, and the webhooks it registered are
    disabled (nothing more, nor anything still pending, is sent to them)."""
    integration = await _managed(session, actor, integration_id)
    _active(integration)
    now = utcnow()
    integration.status = IntegrationStatus.REVOKED
    integration.revoked_at = now
    await session.execute(
        update(IntegrationSecret)
        .where(
            IntegrationSecret.integration_id == integration.id,
            or_(IntegrationSecret.expires_at.is_(None), IntegrationSecret.expires_at > now),
        )
        .values(expires_at=now)
    )
    await session_ends.revoke_all(session, user_id=integration.user_id)  # its tokens and open sockets end at once
    await session.execute(
        update(Webhook)
        .where(Webhook.integration_id == integration.id, Webhook.status == WebhookStatus.ACTIVE)
        .values(status=WebhookStatus.DISABLED, disabled_at=now)
        .execution_options(synchronize_session=False)
    )
    audit.record(
        session,
        actor=actor,
        action="revokeIntegration",
        entity_type="Integration",
        entity_id=integration.id,
        before={"status": IntegrationStatus.ACTIVE.value},
        after={"status": IntegrationStatus.REVOKED.value},
        school_id=integration.school_id,
    )
    return integration


# --- the token endpoint ----------------------------------------------------------------


async def client_of(session: AsyncSession, client_id: str) -> Client | None:
    """The active integration `client_id` names, as the token endpoint's client: its
    session and the secrets that work now. None for no such active integration."""
    now = utcnow()
    row = (
        await session.execute(
            select(Integration, AuthSession.id)
            .join(AuthSession, AuthSession.user_id == Integration.user_id)
            .where(
                Integration.client_id == client_id,
                Integration.status == IntegrationStatus.ACTIVE,
                AuthSession.revoked_at.is_(None),
            )
            .order_by(AuthSession.id)
            .limit(1)
        )
    ).first()
    if row is None:
        return None
    integration, session_id = row
    hashes = await session.scalars(
        select(IntegrationSecret.secret_hash).where(
            IntegrationSecret.integration_id == integration.id,
            or_(IntegrationSecret.expires_at.is_(None), IntegrationSecret.expires_at > now),
        )
    )
    return Client(
        client_id=integration.client_id,
        integration_id=integration.id,
        user_id=integration.user_id,
        session_id=int(session_id),
        school_id=integration.school_id,
        scopes=frozenset(integration.scopes),
        secret_hashes=tuple(hashes),
    )


async def record_token(session: AsyncSession, *, client: Client, expires_at: dt.datetime) -> bool:
    """Keep an issued token's session open until the token expires; False (the token is
    not to be given out) if the integration was revoked meanwhile."""
    integration = await session.get(Integration, client.integration_id, with_for_update=True)
    if integration is None or integration.status != IntegrationStatus.ACTIVE:
        return False
    auth = await session.get(AuthSession, client.session_id, with_for_update=True)
    if auth is None or auth.revoked_at is not None:
        return False
    now = utcnow()
    auth.expires_at = max(auth.expires_at, expires_at)
    auth.last_used_at = now
    integration.last_token_at = now
    return True


# --- reads -----------------------------------------------------------------------------


def school_integrations_query(actor: Actor | None, school_id: int) -> Select[Integration] | None:
    """A school's integrations, newest first; None unless the actor may manage them."""
    if not policy.can_manage_integrations(actor, school_id):
        return None
    return select(Integration).where(Integration.school_id == school_id).order_by(Integration.id.desc())


def may_view(actor: Actor | None, integration: Integration) -> bool:
    return policy.can_manage_integrations(actor, integration.school_id)
