"""Helpers of the registration and sign-in security tests: registering over
HTTP, reading the codes "sent" (the Notification rows), moving time back."""

from __future__ import annotations

import base64
import datetime as dt
import re
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from ediary_gql.context import AppServices
from ediary_gql.db.models.audit import AuditEntry
from ediary_gql.db.models.enums import Channel, NotificationKind, UserStatus
from ediary_gql.db.models.notifications import Notification, NotificationDelivery
from ediary_gql.db.models.users import RateLimitHit, SignInFailure, User, VerificationCode
from tests.factories import make_user
from tests.support import GraphQLClient

PASSWORD = "Синий-трактор-2026"
NEW_PASSWORD = "Зелёный-паровоз-1917"
PHONE = "+79161234567"
EMAIL = "anna.petrova@example.ru"

REGISTER = """
mutation($i: RegisterInput!) {
  register(input: $i) {
    user { id status phone email lastName firstName middleName birthDate }
    accessToken refreshToken codesSentTo
    userErrors { field code message }
  }
}"""
SIGN_IN = """
mutation($i: SignInInput!) {
  signIn(input: $i) { accessToken retryAfterSeconds user { status } userErrors { field code message } }
}"""
CONFIRM_CONTACT = """
mutation($i: ConfirmContactInput!) {
  confirmContact(input: $i) { user { status } userErrors { field code message } }
}"""
RESEND = """
mutation($i: ResendConfirmationCodeInput!) {
  resendConfirmationCode(input: $i) { sent codeExpiresAt retryAfterSeconds userErrors { field code message } }
}"""


def registration(**overrides: Any) -> dict[str, Any]:
    """A valid registerInput; override any field."""
    return {
        "phone": "8 (916) 123-45-67",
        "email": "Anna.Petrova@Example.ru",
        "password": PASSWORD,
        "lastName": "Петрова",
        "firstName": "Анна",
        "middleName": "Сергеевна",
        "birthDate": "1990-05-17",
        "consentToProcessing": True,
        **overrides,
    }


async def register(gql: GraphQLClient, **overrides: Any) -> dict[str, Any]:
    """Register over HTTP; the payload, which must carry no userErrors."""
    payload: dict[str, Any] = (await gql.data(REGISTER, {"i": registration(**overrides)}))["register"]
    assert payload["userErrors"] == [], payload
    return payload


async def confirmed_user(session: AsyncSession, *, email: str = EMAIL, phone: str = PHONE, **kw: Any) -> User:
    """A CONFIRMED account with a real password hash, committed."""
    user = await make_user(
        session,
        email=email,
        phone=phone,
        password=PASSWORD,
        status=UserStatus.CONFIRMED,
        email_confirmed_at=dt.datetime.now(dt.UTC),
        **kw,
    )
    await session.commit()
    return user


async def latest_code(services: AppServices, user_id: int, channel: Channel) -> str:
    """The code in the newest verification notification delivered through `channel`."""
    async with services.session_factory() as s:
        body = await s.scalar(
            select(Notification.body)
            .join(NotificationDelivery, NotificationDelivery.notification_id == Notification.id)
            .where(
                Notification.user_id == user_id,
                Notification.kind == NotificationKind.VERIFICATION_CODE,
                NotificationDelivery.channel == channel,
            )
            .order_by(Notification.id.desc())
            .limit(1)
        )
    assert body is not None, f"no code was sent by {channel}"
    found = re.search(r"\b(\d{6})\b", body)
    assert found, body
    return found.group(1)


async def codes_sent(services: AppServices, user_id: int) -> list[tuple[Channel, str]]:
    """(channel, address) of every verification code delivery of the user, oldest first."""
    async with services.session_factory() as s:
        rows = await s.execute(
            select(NotificationDelivery.channel, NotificationDelivery.address)
            .join(Notification, NotificationDelivery.notification_id == Notification.id)
            .where(Notification.user_id == user_id, Notification.kind == NotificationKind.VERIFICATION_CODE)
            .order_by(NotificationDelivery.id)
        )
        return [(Channel(c), str(a)) for c, a in rows.all()]


async def user_row(services: AppServices, user_id: int) -> User:
    async with services.session_factory() as s:
        user = await s.get(User, user_id)
    assert user is not None
    return user


async def audit_entries(services: AppServices, action: str) -> list[AuditEntry]:
    async with services.session_factory() as s:
        rows = await s.scalars(select(AuditEntry).where(AuditEntry.action == action).order_by(AuditEntry.id))
        return list(rows.all())


async def move_codes_back(services: AppServices, user_id: int, by: dt.timedelta) -> None:
    """As if the user's codes had been sent `by` earlier (and expired `by` earlier)."""
    async with services.session_factory() as s, s.begin():
        for code in await s.scalars(select(VerificationCode).where(VerificationCode.user_id == user_id)):
            code.created_at -= by
            code.expires_at -= by


async def move_rate_limits_back(services: AppServices, by: dt.timedelta) -> None:
    """As if every request counted by a rate limit had come `by` earlier."""
    async with services.session_factory() as s, s.begin():
        for hit in await s.scalars(select(RateLimitHit)):
            hit.created_at -= by


async def move_failures_back(services: AppServices, by: dt.timedelta) -> None:
    """As if every recorded sign-in failure had happened `by` earlier."""
    async with services.session_factory() as s, s.begin():
        for failure in await s.scalars(select(SignInFailure)):
            failure.created_at -= by


def user_pk(global_id: str) -> int:
    type_name, _, pk = base64.b64decode(global_id).decode().partition(":")
    assert type_name == "User"
    return int(pk)
