"""Verification codes without GraphQL: what is stored, which code is good, the
throttle per contact and purpose, a changed contact."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from ediary_gql.context import AppServices
from ediary_gql.db.base import utcnow
from ediary_gql.db.models.enums import Channel, NotificationKind, UserStatus
from ediary_gql.db.models.notifications import Notification, NotificationDelivery
from ediary_gql.db.models.users import User, VerificationCode
from ediary_gql.errors import DomainError, ErrorCode, RateLimited, RecordedRefusal
from ediary_gql.services import verification
from ediary_gql.services.verification import ContactChannel, Purpose
from tests.factories import make_user


async def _send(
    session: AsyncSession, services: AppServices, user: User, purpose: Purpose, channel: ContactChannel, at: dt.datetime
) -> str:
    await verification.send_code(
        session, settings=services.settings, user=user, purpose=purpose, channel=channel, now=at
    )
    await session.flush()
    body = await session.scalar(select(Notification.body).order_by(Notification.id.desc()).limit(1))
    found = re.search(r"\d{6}", body or "")
    assert found
    return found.group(0)


async def _use(
    session: AsyncSession, services: AppServices, user: User, purpose: Purpose, target: str, code: str, at: dt.datetime
) -> VerificationCode:
    return await verification.use_code(
        session, settings=services.settings, user_id=user.id, purpose=purpose, target=target, code=code, now=at
    )


async def test_a_code_is_sent_through_one_channel_and_stored_as_a_keyed_hash(
    session: AsyncSession, app_services: AppServices
) -> None:
    user = await make_user(session)
    now = utcnow()
    code = await _send(session, app_services, user, Purpose.CONFIRM_EMAIL, ContactChannel.EMAIL, now)
    row = await session.scalar(select(VerificationCode))
    assert row is not None
    assert row.target == user.email
    assert row.expires_at == now + dt.timedelta(minutes=10)
    assert code not in row.code_hash
    deliveries = (await session.execute(select(NotificationDelivery.channel, NotificationDelivery.address))).all()
    assert deliveries == [(Channel.EMAIL, user.email)]
    assert await session.scalar(select(Notification.kind)) == NotificationKind.VERIFICATION_CODE
    used = await _use(session, app_services, user, Purpose.CONFIRM_EMAIL, user.email or "", code, now)
    assert used.consumed_at == now


async def test_a_new_code_ends_the_older_one_of_the_same_purpose_only(
    session: AsyncSession, app_services: AppServices
) -> None:
    user = await make_user(session)
    start = utcnow()
    reset_code = await _send(session, app_services, user, Purpose.RESET_PASSWORD, ContactChannel.SMS, start)
    first = await _send(
        session, app_services, user, Purpose.CONFIRM_EMAIL, ContactChannel.EMAIL, start + dt.timedelta(seconds=1)
    )
    later = start + dt.timedelta(minutes=2)
    second = await _send(session, app_services, user, Purpose.CONFIRM_EMAIL, ContactChannel.EMAIL, later)
    if first != second:
        with pytest.raises(RecordedRefusal):
            await _use(session, app_services, user, Purpose.CONFIRM_EMAIL, user.email or "", first, later)
    await _use(session, app_services, user, Purpose.CONFIRM_EMAIL, user.email or "", second, later)
    # the reset code, of another purpose, is still good
    await _use(session, app_services, user, Purpose.RESET_PASSWORD, user.phone or "", reset_code, later)


async def test_the_throttle_is_per_contact_and_purpose(session: AsyncSession, app_services: AppServices) -> None:
    user = await make_user(session)
    now = utcnow()
    await _send(session, app_services, user, Purpose.CONFIRM_PHONE, ContactChannel.SMS, now)
    # a second code of the same purpose to the same contact waits for the minute
    with pytest.raises(RateLimited) as limited:
        await _send(
            session, app_services, user, Purpose.CONFIRM_PHONE, ContactChannel.SMS, now + dt.timedelta(seconds=30)
        )
    assert limited.value.retry_after_seconds == 30
    # a code of another purpose is not held up by it
    await _send(session, app_services, user, Purpose.RESET_PASSWORD, ContactChannel.SMS, now + dt.timedelta(seconds=30))
    # and the email is another contact
    await _send(session, app_services, user, Purpose.CONFIRM_EMAIL, ContactChannel.EMAIL, now)


async def test_a_code_sent_to_a_former_contact_is_no_good(session: AsyncSession, app_services: AppServices) -> None:
    user = await make_user(session, status=UserStatus.TEMPORARY)
    now = utcnow()
    code = await _send(session, app_services, user, Purpose.CONFIRM_PHONE, ContactChannel.SMS, now)
    with pytest.raises(DomainError) as refused:
        await _use(session, app_services, user, Purpose.CONFIRM_PHONE, "+79990000000", code, now)
    assert refused.value.code == ErrorCode.CODE_EXPIRED


@pytest.mark.parametrize("raw", ["12345", "1234567", "12a456", "١٢٣٤٥٦"])
def test_codes_are_six_ascii_digits(raw: str) -> None:
    with pytest.raises(DomainError) as refused:
        verification.normalize_code(raw)
    assert refused.value.code == ErrorCode.INVALID


def test_spaces_and_dashes_in_a_typed_code_are_ignored() -> None:
    assert verification.normalize_code(" 123-456 ") == "123456"


def test_confirming_every_contact_confirms_the_account() -> None:
    now = utcnow()
    user = User(phone="+79161234567", email=None, status=UserStatus.TEMPORARY)
    verification.mark_confirmed(user, ContactChannel.SMS, now)
    assert user.status == UserStatus.CONFIRMED
    blocked = User(phone="+79161234567", email="a@example.ru", status=UserStatus.BLOCKED)
    verification.mark_confirmed(blocked, ContactChannel.SMS, now)
    verification.mark_confirmed(blocked, ContactChannel.EMAIL, now)
    assert blocked.status == UserStatus.BLOCKED
