"""One-time codes sent to a phone or an email: confirming contacts, resetting a password.

* A code is 6 digits; only its HMAC (keyed with SECRET_KEY) is stored, so a
  copy of the table does not give the codes away.
* It expires after `CODE_TTL`; it takes at most `MAX_ATTEMPTS` wrong entries,
  after which it is dead and a new one must be requested. Only the latest
  code of a purpose is good: sending a new one ends the older ones.
* Sending is throttled per contact and purpose: one code per `RESEND_INTERVAL`,
  at most `HOURLY_LIMIT` per hour. Purposes are counted apart, so the codes a
  registration sends do not hold up a password reset asked for straight after.
* Delivery goes through the notification outbox (SMS or email), in the same
  transaction as the code.
"""

from __future__ import annotations

import datetime as dt
import enum
import hashlib
import hmac
import secrets
from dataclasses import dataclass

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from ediary_gql.auth import policy
from ediary_gql.auth.actor import Actor
from ediary_gql.db.base import utcnow
from ediary_gql.db.models.enums import Channel, NotificationKind, UserStatus
from ediary_gql.db.models.users import User, VerificationCode
from ediary_gql.errors import DomainError, ErrorCode, RateLimited, RecordedRefusal
from ediary_gql.services import audit
from ediary_gql.services.notifications import notify
from ediary_gql.services.rate_limits import seconds_until, wait_text
from ediary_gql.settings import Settings
from ediary_gql.text import is_digits

CODE_LENGTH = 6
CODE_TTL = dt.timedelta(minutes=10)
MAX_ATTEMPTS = 5
RESEND_INTERVAL = dt.timedelta(seconds=60)
HOURLY_LIMIT = 5
_HOUR = dt.timedelta(hours=1)


class Purpose(enum.StrEnum):
    CONFIRM_PHONE = "CONFIRM_PHONE"
    CONFIRM_EMAIL = "CONFIRM_EMAIL"
    RESET_PASSWORD = "RESET_PASSWORD"


class ContactChannel(enum.StrEnum):
    """Where a code goes: the two contacts an account has."""

    SMS = "SMS"
    EMAIL = "EMAIL"

    @property
    def channel(self) -> Channel:
        return Channel(self.value)

    @property
    def purpose(self) -> Purpose:
        return Purpose.CONFIRM_PHONE if self is ContactChannel.SMS else Purpose.CONFIRM_EMAIL


@dataclass(frozen=True, slots=True)
class SentCode:
    channel: ContactChannel
    expires_at: dt.datetime


_TITLES = {
    Purpose.CONFIRM_PHONE: "Подтверждение телефона",
    Purpose.CONFIRM_EMAIL: "Подтверждение электронной почты",
    Purpose.RESET_PASSWORD: "Восстановление пароля",
}


def _hash(settings: Settings, purpose: Purpose, target: str, code: str) -> str:
    message = f"{purpose.value}:{target}:{code}".encode()
    return hmac.new(settings.secret_key.encode(), message, hashlib.sha256).hexdigest()


def normalize_code(raw: str, *, field: str = "code") -> str:
    """The code as typed, spaces and dashes removed; INVALID unless it is 6 digits."""
    code = "".join(ch for ch in raw if ch not in " -\t")
    if len(code) != CODE_LENGTH or not is_digits(code):
        raise DomainError(ErrorCode.INVALID, f"Код состоит из {CODE_LENGTH} цифр", field=field)
    return code


def target_of(user: User, channel: ContactChannel) -> str | None:
    return user.phone if channel is ContactChannel.SMS else user.email


def confirmed_at(user: User, channel: ContactChannel) -> dt.datetime | None:
    return user.phone_confirmed_at if channel is ContactChannel.SMS else user.email_confirmed_at


def mark_confirmed(user: User, channel: ContactChannel, now: dt.datetime) -> None:
    """A code that reached a contact proves it; with every contact proven the account is confirmed."""
    if channel is ContactChannel.SMS:
        user.phone_confirmed_at = user.phone_confirmed_at or now
    else:
        user.email_confirmed_at = user.email_confirmed_at or now
    proven = [
        at for contact, at in ((user.phone, user.phone_confirmed_at), (user.email, user.email_confirmed_at)) if contact
    ]
    if user.status == UserStatus.TEMPORARY and proven and all(proven):
        user.status = UserStatus.CONFIRMED


async def check_throttle(session: AsyncSession, *, target: str, purpose: Purpose, now: dt.datetime) -> None:
    """RATE_LIMITED if a code for `purpose` may not be sent to `target` yet."""
    recent = (
        await session.scalars(
            select(VerificationCode.created_at)
            .where(
                VerificationCode.target == target,
                VerificationCode.purpose == purpose.value,
                VerificationCode.created_at > now - _HOUR,
            )
            .order_by(VerificationCode.created_at.desc())
            .limit(HOURLY_LIMIT)
        )
    ).all()
    if recent and recent[0] + RESEND_INTERVAL > now:
        until = recent[0] + RESEND_INTERVAL
        raise RateLimited(
            f"Код уже отправлен. Новый можно запросить {wait_text(until, now)}",
            retry_after_seconds=seconds_until(until, now),
            field="channel",
        )
    if len(recent) >= HOURLY_LIMIT:
        until = recent[-1] + _HOUR
        raise RateLimited(
            f"На этот адрес отправлено {HOURLY_LIMIT} кодов за час. Новый можно запросить {wait_text(until, now)}",
            retry_after_seconds=seconds_until(until, now),
            field="channel",
        )


async def send_code(
    session: AsyncSession,
    *,
    settings: Settings,
    user: User,
    purpose: Purpose,
    channel: ContactChannel,
    now: dt.datetime | None = None,
) -> SentCode:
    """Make a code for `purpose`, send it to the user's contact of `channel`; RATE_LIMITED if too soon."""
    now = now or utcnow()
    target = target_of(user, channel)
    if not target:
        raise DomainError(ErrorCode.INVALID_STATE, "У учётной записи нет такого контакта", field="channel")
    await check_throttle(session, target=target, purpose=purpose, now=now)
    # only the latest code of a purpose is good
    await session.execute(
        update(VerificationCode)
        .where(
            VerificationCode.user_id == user.id,
            VerificationCode.purpose == purpose.value,
            VerificationCode.consumed_at.is_(None),
            VerificationCode.expires_at > now,
        )
        .values(expires_at=now)
    )
    code = f"{secrets.randbelow(10**CODE_LENGTH):0{CODE_LENGTH}d}"
    row = VerificationCode(
        user_id=user.id,
        purpose=purpose.value,
        target=target,
        code_hash=_hash(settings, purpose, target, code),
        attempts=0,
        created_at=now,
        expires_at=now + CODE_TTL,
    )
    session.add(row)
    minutes = int(CODE_TTL.total_seconds() // 60)
    await notify(
        session,
        user=user,
        kind=NotificationKind.VERIFICATION_CODE,
        title=_TITLES[purpose],
        body=f"Код подтверждения: {code}. Он действует {minutes} минут. Никому его не сообщайте.",
        payload={"purpose": purpose.value, "channel": channel.value},
        channels=[channel.channel],
    )
    return SentCode(channel=channel, expires_at=row.expires_at)


async def use_code(
    session: AsyncSession,
    *,
    settings: Settings,
    user_id: int,
    purpose: Purpose,
    target: str,
    code: str,
    now: dt.datetime,
    field: str = "code",
) -> VerificationCode:
    """Spend the latest code of `purpose` if `code` is it.

    CODE_EXPIRED when there is no live code for `target` (never sent, expired,
    used, or the contact has changed), TOO_MANY_ATTEMPTS when it is dead; a
    wrong code is counted and raised as a RecordedRefusal (commit, then report).
    """
    row = (
        await session.scalars(
            select(VerificationCode)
            .where(
                VerificationCode.user_id == user_id,
                VerificationCode.purpose == purpose.value,
                VerificationCode.consumed_at.is_(None),
            )
            .order_by(VerificationCode.created_at.desc(), VerificationCode.id.desc())
            .limit(1)
            .with_for_update()
        )
    ).first()
    if row is None or row.target != target or row.expires_at <= now:
        raise DomainError(ErrorCode.CODE_EXPIRED, "Код устарел или не запрашивался: запросите новый код", field=field)
    if row.attempts >= MAX_ATTEMPTS:
        raise DomainError(ErrorCode.TOO_MANY_ATTEMPTS, _dead_message(), field=field)
    if not hmac.compare_digest(_hash(settings, purpose, target, code), row.code_hash):
        row.attempts += 1
        left = MAX_ATTEMPTS - row.attempts
        if left <= 0:
            raise RecordedRefusal(DomainError(ErrorCode.TOO_MANY_ATTEMPTS, _dead_message(), field=field))
        raise RecordedRefusal(DomainError(ErrorCode.INVALID, f"Неверный код. Осталось попыток: {left}", field=field))
    row.consumed_at = now
    return row


def _dead_message() -> str:
    return "Слишком много неверных попыток: этот код больше не действует, запросите новый"


# --- the workflows ----------------------------------------------------------


def _contact_state(user: User) -> dict[str, object]:
    return {
        "phoneConfirmed": user.phone_confirmed_at is not None,
        "emailConfirmed": user.email_confirmed_at is not None,
        "status": user.status.value,
    }


async def _own_account(session: AsyncSession, actor: Actor) -> User:
    user = await session.get(User, actor.user_id, with_for_update=True)
    if user is None:
        raise DomainError(ErrorCode.TOKEN_INVALID, "Учётная запись не найдена")
    return user


def _ensure_unconfirmed(user: User, channel: ContactChannel) -> str:
    target = target_of(user, channel)
    if not target:
        what = "телефон" if channel is ContactChannel.SMS else "адрес электронной почты"
        raise DomainError(ErrorCode.INVALID_STATE, f"В учётной записи не указан {what}", field="channel")
    if confirmed_at(user, channel) is not None:
        what = "Телефон уже подтверждён" if channel is ContactChannel.SMS else "Адрес электронной почты уже подтверждён"
        raise DomainError(ErrorCode.INVALID_STATE, what, field="channel")
    return target


async def confirm_contact(
    session: AsyncSession, *, settings: Settings, actor: Actor, channel: ContactChannel, code: str
) -> User:
    """Confirm the actor's phone or email with the code sent there."""
    policy.ensure(policy.can_manage_own_account(actor))
    code = normalize_code(code)
    user = await _own_account(session, actor)
    target = _ensure_unconfirmed(user, channel)
    now = utcnow()
    before = _contact_state(user)
    try:
        await use_code(
            session, settings=settings, user_id=user.id, purpose=channel.purpose, target=target, code=code, now=now
        )
    except RecordedRefusal as exc:
        audit.record(
            session,
            actor=actor,
            action="confirmContact",
            entity_type="User",
            entity_id=user.id,
            after={"channel": channel.value, "refused": exc.code.value},
        )
        raise
    mark_confirmed(user, channel, now)
    audit.record(
        session,
        actor=actor,
        action="confirmContact",
        entity_type="User",
        entity_id=user.id,
        before=before,
        after=_contact_state(user),
    )
    return user


async def resend_confirmation_code(
    session: AsyncSession, *, settings: Settings, actor: Actor, channel: ContactChannel
) -> SentCode:
    """Send a new confirmation code to the actor's unconfirmed phone or email."""
    policy.ensure(policy.can_manage_own_account(actor))
    user = await _own_account(session, actor)
    _ensure_unconfirmed(user, channel)
    sent = await send_code(session, settings=settings, user=user, purpose=channel.purpose, channel=channel)
    audit.record(
        session,
        actor=actor,
        action="resendConfirmationCode",
        entity_type="User",
        entity_id=user.id,
        after={"channel": channel.value},
    )
    return sent
