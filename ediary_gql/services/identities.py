"""Accounts at the portal's identity provider linked to ours (OpenID Connect).

A first sign-in with an identity not linked yet links it to the existing account whose
contact the provider asserts as verified, and only then:

- `email` with `email_verified: true` → the account with that email, confirmed there too;
- `phone_number` with `phone_number_verified: true` → the account with that phone, confirmed there too;
- `snils` (the portal's claim; ESIA verifies SNILS against the Pension Fund register, so a
  SNILS it sends is verified by the provider) → the account already linked to an identity
  asserting that SNILS.

Claims that point to two different accounts are refused (CONFLICT): nothing is linked.
With no match a new CONFIRMED account is made from the verified claims (`family_name`,
`given_name`, `middle_name`, `birthdate`, and the verified email and phone), with no
codes to type and no password: it signs in through the provider only.

`linkIdentity` adds an identity to the signed-in account, `unlinkIdentity` removes one;
an account never loses its last way to sign in (no password and one identity: refused).

One-use requests: the browser flow's `state` (with its nonce and PKCE verifier) is kept
in `oidc_logins` until the callback takes it; an app's sign-in keeps the ID token's nonce
there. A second use of either is refused.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from ediary_gql.auth import oidc, policy
from ediary_gql.auth.actor import Actor
from ediary_gql.db.base import utcnow
from ediary_gql.db.models.enums import UserStatus
from ediary_gql.db.models.identities import ConsentMethod, OidcLogin, UserIdentity
from ediary_gql.db.models.users import User
from ediary_gql.errors import DomainError, ErrorCode, RecordedRefusal, forbidden
from ediary_gql.services import audit, consents, rate_limits, sessions
from ediary_gql.services.contacts import normalize_email, normalize_phone
from ediary_gql.settings import Settings

# A password hash that no password matches: the account signs in through its identities.
NO_PASSWORD = "!provider"
LOGIN_TTL = dt.timedelta(minutes=10)
SNILS_CLAIMS = ("snils",)


def has_password(user: User) -> bool:
    """Hashes starting with "!" are no password (provider accounts, integrations, imports)."""
    return bool(user.password_hash) and not user.password_hash.startswith("!")


# --- one-use authorization requests -----------------------------------------


async def begin_login(
    session: AsyncSession, *, settings: Settings, request: oidc.AuthorizationRequest, address: str | None
) -> OidcLogin:
    """A portal sign-in started: its state, nonce and PKCE verifier kept for the callback.
    RATE_LIMITED (a RecordedRefusal) past OIDC_LOGIN_LIMIT_PER_ADDRESS in the window."""
    now = utcnow()
    counters = [rate_limits.Counter(rate_limits.oidc_login_per_address(settings), address)]
    await rate_limits.take(session, settings=settings, counters=counters, now=now)
    # trimming: requests nobody came back from
    await session.execute(delete(OidcLogin).where(OidcLogin.expires_at < now - LOGIN_TTL))
    login = OidcLogin(
        state=request.state,
        nonce=request.nonce,
        code_verifier=request.code_verifier,
        created_at=now,
        expires_at=now + LOGIN_TTL,
    )
    session.add(login)
    await session.flush()
    return login


async def take_login(session: AsyncSession, *, state: str) -> OidcLogin:
    """The authorization request `state` names, marked used; a spent, unknown or expired one is refused."""
    login = (await session.scalars(select(OidcLogin).where(OidcLogin.state == state).with_for_update())).first()
    now = utcnow()
    if login is None or login.consumed_at is not None:
        raise DomainError(ErrorCode.INVALID_CREDENTIALS, "Запрос входа уже использован или неизвестен", field="state")
    login.consumed_at = now
    if login.expires_at <= now:
        raise RecordedRefusal(
            DomainError(ErrorCode.CODE_EXPIRED, "Вход занял слишком долго, начните снова", field="state")
        )
    return login


async def _spend_nonce(session: AsyncSession, identity: oidc.VerifiedIdentity) -> None:
    """An app's ID token's nonce, good once: kept as long as the token could be shown."""
    nonce = identity.nonce
    if nonce is None:
        return
    seen = await session.scalar(select(OidcLogin.id).where(OidcLogin.nonce == nonce))
    if seen is not None:
        raise DomainError(
            ErrorCode.INVALID_CREDENTIALS, "Портал не подтвердил вход: nonce уже использован", field="code"
        )
    now = utcnow()
    until = max(now, identity.expires_at + dt.timedelta(seconds=oidc.LEEWAY))
    # trimming (begin_login) keeps a row LOGIN_TTL past its expiry
    session.add(OidcLogin(nonce=nonce, created_at=now, expires_at=until, consumed_at=now))
    try:
        async with session.begin_nested():
            await session.flush()
    except IntegrityError:  # the same token at once, twice
        raise DomainError(
            ErrorCode.INVALID_CREDENTIALS, "Портал не подтвердил вход: nonce уже использован", field="code"
        ) from None


# --- verified claims ----------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Verified:
    email: str | None
    phone: str | None
    snils: str | None


def _verified(claims: dict[str, Any]) -> _Verified:
    email = phone = snils = None
    if claims.get("email_verified") is True and isinstance(claims.get("email"), str):
        try:
            email = normalize_email(claims["email"])
        except DomainError:
            email = None
    if claims.get("phone_number_verified") is True and isinstance(claims.get("phone_number"), str):
        try:
            phone = normalize_phone(claims["phone_number"])
        except DomainError:
            phone = None
    for name in SNILS_CLAIMS:
        raw = claims.get(name)
        if isinstance(raw, str):
            digits = re.sub(r"\D", "", raw)
            snils = digits if len(digits) == 11 else None
    return _Verified(email=email, phone=phone, snils=snils)


async def _matches(session: AsyncSession, found: _Verified) -> set[int]:
    """The accounts the verified claims point to."""
    users: set[int] = set()
    contacts = []
    # only contacts the account has confirmed too: an unconfirmed one may have been typed by
    # someone else, who must not get the person's portal sign-in
    if found.email:
        contacts.append((User.email == found.email) & User.email_confirmed_at.is_not(None))
    if found.phone:
        contacts.append((User.phone == found.phone) & User.phone_confirmed_at.is_not(None))
    if contacts:
        users |= set(await session.scalars(select(User.id).where(or_(*contacts))))
    if found.snils:
        users |= set(await session.scalars(select(UserIdentity.user_id).where(UserIdentity.snils == found.snils)))
    return users


def _name(claims: dict[str, Any], key: str) -> str | None:
    value = claims.get(key)
    return value.strip()[:100] or None if isinstance(value, str) else None


def _birth_date(claims: dict[str, Any]) -> dt.date | None:
    value = claims.get("birthdate")
    try:
        return dt.date.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        return None


async def _new_account(session: AsyncSession, claims: dict[str, Any], found: _Verified) -> User:
    last, first = _name(claims, "family_name"), _name(claims, "given_name")
    if last is None or first is None:
        raise DomainError(
            ErrorCode.INVALID, "Портал не передал фамилию и имя: разрешите доступ к ним и войдите снова", field="code"
        )
    # a contact another account holds unconfirmed stays with it; the new account goes without
    if found.email and await session.scalar(select(User.id).where(User.email == found.email)):
        found = _Verified(email=None, phone=found.phone, snils=found.snils)
    if found.phone and await session.scalar(select(User.id).where(User.phone == found.phone)):
        found = _Verified(email=found.email, phone=None, snils=found.snils)
    now = utcnow()
    user = User(
        phone=found.phone,
        email=found.email,
        password_hash=NO_PASSWORD,
        last_name=last,
        first_name=first,
        middle_name=_name(claims, "middle_name"),
        birth_date=_birth_date(claims),
        status=UserStatus.CONFIRMED,  # the provider verified the person: no codes to type
        phone_confirmed_at=now if found.phone else None,
        email_confirmed_at=now if found.email else None,
        notification_prefs={},
    )
    session.add(user)
    await session.flush()
    audit.record(
        session,
        actor=Actor(user_id=user.id, session_id=None, status=user.status),
        action="registerWithProvider",
        entity_type="User",
        entity_id=user.id,
        after={"status": user.status.value, "email": found.email is not None, "phone": found.phone is not None},
    )
    return user


def _link(session: AsyncSession, user: User, identity: oidc.VerifiedIdentity, snils: str | None) -> UserIdentity:
    now = utcnow()
    row = UserIdentity(
        user_id=user.id,
        provider=identity.issuer,
        subject=identity.subject,
        claims=oidc.provider_claims(identity.claims),
        snils=snils,
        linked_at=now,
        last_sign_in_at=now,
    )
    session.add(row)
    return row


async def _linked(session: AsyncSession, identity: oidc.VerifiedIdentity) -> UserIdentity | None:
    return (
        await session.scalars(
            select(UserIdentity)
            .where(UserIdentity.provider == identity.issuer, UserIdentity.subject == identity.subject)
            .with_for_update()
        )
    ).first()


def _audit_link(session: AsyncSession, actor: Actor, row: UserIdentity, how: str) -> None:
    audit.record(
        session,
        actor=actor,
        action="linkIdentity",
        entity_type="UserIdentity",
        entity_id=row.id,
        after={"userId": row.user_id, "provider": row.provider, "how": how},
    )


# --- sign-in ----------------------------------------------------------------


async def verify(
    settings: Settings, *, code: str, code_verifier: str, redirect_uri: str, nonce: str | None
) -> oidc.VerifiedIdentity:
    """The provider's answer for a code, its ID token verified."""
    client = oidc.client_for(settings)
    return await client.sign_in(code=code, code_verifier=code_verifier, redirect_uri=redirect_uri, nonce=nonce)


async def sign_in_with_identity(
    session: AsyncSession,
    *,
    settings: Settings,
    identity: oidc.VerifiedIdentity,
    app_nonce: bool,
    consent_text_version: str | None,
    user_agent: str | None,
    ip: str | None,
) -> sessions.TokenPair:
    """Open a session for the person the provider vouched for (linking or creating the account).

    `app_nonce`: the nonce was not ours to check (an app made the request): it is kept, good once.
    Without consent to the text in force this raises CONSENT_REQUIRED as a RecordedRefusal:
    the link (or the new account) stands, and the error carries the token to give consent with."""
    if app_nonce:
        await _spend_nonce(session, identity)
    found = _verified(identity.claims)
    row = await _linked(session, identity)
    if row is not None:
        user = await session.get(User, row.user_id)
        if user is None:
            raise forbidden()
        row.claims = oidc.provider_claims(identity.claims)
        row.snils = found.snils or row.snils
        row.last_sign_in_at = utcnow()
    else:
        matched = await _matches(session, found)
        if len(matched) > 1:
            raise DomainError(
                ErrorCode.CONFLICT,
                "Подтверждённые порталом контакты принадлежат разным учётным записям: войдите в свою и привяжите "
                "портал в настройках",
                field="code",
            )
        if matched:
            user = await session.get(User, matched.pop(), with_for_update=True)
            if user is None:
                raise forbidden()
            how = "verifiedClaim"
        else:
            user = await _new_account(session, identity.claims, found)
            how = "newAccount"
        row = _link(session, user, identity, found.snils)
        await session.flush()
        _audit_link(session, Actor(user_id=user.id, session_id=None, status=user.status), row, how)
    if user.status == UserStatus.BLOCKED:
        raise RecordedRefusal(DomainError(ErrorCode.FORBIDDEN, "Учётная запись заблокирована", field="code"))
    if consent_text_version is not None:
        await consents.give(
            session,
            settings=settings,
            user=user,
            actor=None,
            text_version=consent_text_version,
            address=ip,
            method=ConsentMethod.PROVIDER,
        )
    if (await consents.state(session, user=user, settings=settings)).required:
        raise RecordedRefusal(consents.required_error(settings, user.id))
    return await sessions.open_session(
        session, settings=settings, user=user, user_agent=user_agent, ip=ip, action="signInWithProvider"
    )


async def link_identity(
    session: AsyncSession, *, actor: Actor, identity: oidc.VerifiedIdentity, app_nonce: bool
) -> UserIdentity:
    """Link the provider's identity to the signed-in account."""
    if not policy.can_manage_identities(actor):
        raise forbidden()
    if app_nonce:
        await _spend_nonce(session, identity)
    row = await _linked(session, identity)
    if row is not None:
        if row.user_id != actor.user_id:
            raise DomainError(
                ErrorCode.CONFLICT, "Эта учётная запись портала уже привязана к другому пользователю", field="code"
            )
        return row
    user = await session.get(User, actor.user_id)
    if user is None:
        raise forbidden()
    found = _verified(identity.claims)
    row = _link(session, user, identity, found.snils)
    try:
        async with session.begin_nested():
            await session.flush()
    except IntegrityError:
        raise DomainError(ErrorCode.CONFLICT, "Эта учётная запись портала уже привязана", field="code") from None
    _audit_link(session, actor, row, "linkIdentity")
    return row


async def unlink_identity(session: AsyncSession, *, actor: Actor, identity_id: int) -> UserIdentity:
    """Remove one of the signed-in account's identities, unless it is the last way to sign in."""
    if not policy.can_manage_identities(actor):
        raise forbidden()
    row = await session.get(UserIdentity, identity_id, with_for_update=True)
    if row is None or not policy.can_unlink_identity(actor, owner_id=row.user_id):
        raise DomainError(ErrorCode.NOT_FOUND, "Привязка не найдена", field="identityId")
    user = await session.get(User, row.user_id, with_for_update=True)
    if user is None:
        raise forbidden()
    count = int(await session.scalar(select(func.count()).where(UserIdentity.user_id == user.id)) or 0)
    if not has_password(user) and count <= 1:
        raise DomainError(
            ErrorCode.INVALID_STATE,
            "Это последний способ входа: сначала задайте пароль или привяжите другую учётную запись портала",
            field="identityId",
        )
    audit.record(
        session,
        actor=actor,
        action="unlinkIdentity",
        entity_type="UserIdentity",
        entity_id=row.id,
        before={"userId": row.user_id, "provider": row.provider},
    )
    await session.delete(row)
    await session.flush()
    return row


def identities_query(user_id: int) -> Any:
    return select(UserIdentity).where(UserIdentity.user_id == user_id).order_by(UserIdentity.linked_at, UserIdentity.id)


async def open_consented_session(
    session: AsyncSession, *, settings: Settings, user: User, user_agent: str | None, ip: str | None
) -> sessions.TokenPair:
    """A session for a person who has just given consent (after a sign-in refused for want of it)."""
    if user.status == UserStatus.BLOCKED:
        raise DomainError(ErrorCode.FORBIDDEN, "Учётная запись заблокирована", field="consentToken")
    await consents.require(session, user=user, settings=settings)
    return await sessions.open_session(
        session, settings=settings, user=user, user_agent=user_agent, ip=ip, action="signIn"
    )
