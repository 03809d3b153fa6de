"""Consent to the processing of personal data (152-FZ art. 9): each one recorded with
the text's version, the time, the client address and how it was given.

A person has consent when a record of the version now in force (CONSENT_TEXT_VERSION)
is not withdrawn. Without it no new session is opened: a sign-in answers
CONSENT_REQUIRED with a short-lived `consentToken`, and `giveConsent` with that token
records the consent and signs in. A new version of the text so asks again at the next
sign-in. Withdrawing ends every session of the account, so its diary access ends at
once; what the school must keep (grades, attendance, applications, the guardianship)
stays. Accounts from before the records (only `users.consent_at`) count as consenting
until a record of theirs says otherwise.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import jwt
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from ediary_gql.auth import policy
from ediary_gql.auth.actor import Actor
from ediary_gql.db.base import utcnow
from ediary_gql.db.models.identities import ConsentMethod, ConsentRecord
from ediary_gql.db.models.users import User
from ediary_gql.errors import DomainError, ErrorCode, forbidden
from ediary_gql.services import audit
from ediary_gql.services.session_ends import revoke_all
from ediary_gql.settings import Settings

CONSENT_TOKEN_TTL = dt.timedelta(minutes=15)
_PURPOSE = "consent"
WITHDRAWAL_CONSEQUENCE = (
    "Согласие отозвано: доступ к дневнику прекращён, все сеансы завершены. "
    "Записи, которые школа обязана хранить (оценки, посещаемость, заявления), сохраняются."
)


@dataclass(frozen=True, slots=True)
class ConsentState:
    required: bool
    text_version: str


async def records_of(session: AsyncSession, user_id: int) -> list[ConsentRecord]:
    rows = await session.scalars(
        select(ConsentRecord)
        .where(ConsentRecord.user_id == user_id)
        .order_by(ConsentRecord.given_at.desc(), ConsentRecord.id.desc())
    )
    return list(rows)


async def state(session: AsyncSession, *, user: User, settings: Settings) -> ConsentState:
    version = settings.consent_text_version
    records = await records_of(session, user.id)
    if records:
        has = any(r.text_version == version and r.withdrawn_at is None for r in records)
    else:
        has = user.consent_at is not None  # an account from before consent records
    return ConsentState(required=not has, text_version=version)


def consent_token(settings: Settings, user_id: int, now: dt.datetime | None = None) -> str:
    """Lets the person just authenticated give consent and sign in, once they have read the text."""
    now = now or utcnow()
    # "at": the moment of issue to the microsecond ("iat" has whole seconds), to tell
    # consent changes after it from those before (user_of_unspent_consent_token)
    payload = {
        "sub": str(user_id),
        "purpose": _PURPOSE,
        "iat": now,
        "at": now.isoformat(),
        "exp": now + CONSENT_TOKEN_TTL,
    }
    return jwt.encode(payload, settings.secret_key, algorithm="HS256")


def user_of_consent_token(settings: Settings, token: str) -> int:
    return _consent_claims(settings, token)[0]


def _consent_claims(settings: Settings, token: str) -> tuple[int, dt.datetime]:
    """(user id, issued at) of a consent token; TOKEN_EXPIRED or TOKEN_INVALID otherwise."""
    try:
        payload = jwt.decode(token, settings.secret_key, algorithms=["HS256"], options={"require": ["exp", "sub"]})
    except jwt.ExpiredSignatureError as exc:
        raise DomainError(ErrorCode.TOKEN_EXPIRED, "Срок действия истёк, войдите снова", field="consentToken") from exc
    except jwt.PyJWTError as exc:
        raise DomainError(ErrorCode.TOKEN_INVALID, "Недействительный токен согласия", field="consentToken") from exc
    try:
        issued_at = dt.datetime.fromisoformat(payload["at"])
    except (KeyError, TypeError, ValueError):
        issued_at = None
    if payload.get("purpose") != _PURPOSE or issued_at is None or issued_at.tzinfo is None:
        raise DomainError(ErrorCode.TOKEN_INVALID, "Недействительный токен согласия", field="consentToken")
    return int(payload["sub"]), issued_at


async def user_of_unspent_consent_token(session: AsyncSession, *, settings: Settings, token: str) -> User:
    """The person a consent token was issued to, while it is unspent: a token is issued
    only when consent is required, so once consent to the text in force is on record (by
    this token or otherwise) it opens no further session; nor does it once consent has
    been given or withdrawn since it was issued. The account's row is locked, so two
    uses at once are decided one after the other."""
    user_id, issued_at = _consent_claims(settings, token)
    user = await session.get(User, user_id, with_for_update=True)
    spent = user is None or not (await state(session, user=user, settings=settings)).required
    if user is not None and not spent:
        spent = any(
            r.given_at > issued_at or (r.withdrawn_at is not None and r.withdrawn_at > issued_at)
            for r in await records_of(session, user.id)
        )
    if user is None or spent:
        raise DomainError(
            ErrorCode.TOKEN_INVALID, "Токен согласия уже использован или недействителен", field="consentToken"
        )
    return user


def required_error(settings: Settings, user_id: int) -> DomainError:
    return DomainError(
        ErrorCode.CONSENT_REQUIRED,
        f"Нужно согласие на обработку персональных данных (редакция {settings.consent_text_version})",
        field="consent",
        extra={"consentToken": consent_token(settings, user_id), "textVersion": settings.consent_text_version},
    )


async def require(session: AsyncSession, *, user: User, settings: Settings) -> None:
    """Refuse a new session without consent to the text now in force."""
    if (await state(session, user=user, settings=settings)).required:
        raise required_error(settings, user.id)


async def give(
    session: AsyncSession,
    *,
    settings: Settings,
    user: User,
    actor: Actor | None,
    text_version: str,
    address: str | None,
    method: ConsentMethod,
) -> ConsentRecord:
    """Record consent to the version now in force (the one the person was shown)."""
    if text_version.strip() != settings.consent_text_version:
        raise DomainError(
            ErrorCode.INVALID,
            f"Действует редакция {settings.consent_text_version}: прочитайте её и дайте согласие на неё",
            field="textVersion",
        )
    records = await records_of(session, user.id)
    for record in records:
        if record.text_version == settings.consent_text_version and record.withdrawn_at is None:
            return record  # already given: nothing new to record
    now = utcnow()
    record = ConsentRecord(
        user_id=user.id,
        text_version=settings.consent_text_version,
        given_at=now,
        address=address,
        method=method,
    )
    session.add(record)
    user.consent_at = now
    await session.flush()
    audit.record(
        session,
        actor=actor or Actor(user_id=user.id, session_id=None, status=user.status),
        action="giveConsent",
        entity_type="ConsentRecord",
        entity_id=record.id,
        after={"textVersion": record.text_version, "method": method.value},
    )
    return record


async def give_own(
    session: AsyncSession, *, settings: Settings, actor: Actor, text_version: str, address: str | None
) -> ConsentRecord:
    if not policy.can_manage_consent(actor):
        raise forbidden()
    user = await session.get(User, actor.user_id)
    if user is None:
        raise forbidden()
    return await give(
        session,
        settings=settings,
        user=user,
        actor=actor,
        text_version=text_version,
        address=address,
        method=ConsentMethod.FORM,
    )


async def withdraw(session: AsyncSession, *, actor: Actor) -> list[ConsentRecord]:
    """Withdraw every standing consent of the signed-in person and end their sessions.

    Returns the records withdrawn. Every session of the account ends with them (open
    subscriptions close at once), in the same transaction."""
    if not policy.can_manage_consent(actor):
        raise forbidden()
    user = await session.get(User, actor.user_id, with_for_update=True)
    if user is None:
        raise forbidden()
    now = utcnow()
    records = [r for r in await records_of(session, user.id) if r.withdrawn_at is None]
    if not records and user.consent_at is None:
        raise DomainError(ErrorCode.INVALID_STATE, "Согласие не было дано или уже отозвано", field="consent")
    if not records:
        # an account from before consent records: keep its consent as a record, withdrawn now
        records = [
            ConsentRecord(
                user_id=user.id,
                text_version="legacy",
                given_at=user.consent_at or now,
                method=ConsentMethod.MIGRATED,
            )
        ]
        session.add(records[0])
    for record in records:
        record.withdrawn_at = now
    user.consent_at = None
    await revoke_all(session, user_id=user.id)
    await session.flush()
    audit.record(
        session,
        actor=actor,
        action="withdrawConsent",
        entity_type="User",
        entity_id=user.id,
        after={"withdrawn": [r.text_version for r in records]},
    )
    return records
