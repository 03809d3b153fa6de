"""Resetting a forgotten password with a code sent to the phone or email given.

`request_password_reset` answers the same whether or not the account exists,
so it tells nobody which contacts are registered: its limits (per client
address, per login, and one request a minute per login, as codes are sent) are
counted by the login as typed, never by the account, and a refusal says when
to ask again (RATE_LIMITED with retryAfterSeconds) for any login alike.
`reset_password` checks the code by the rules of services/verification.py,
sets the new password by the rules of registration, and ends every session of
the account.
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from ediary_gql.auth import policy
from ediary_gql.auth.actor import Actor
from ediary_gql.auth.passwords import hash_password
from ediary_gql.db.base import utcnow
from ediary_gql.db.models.enums import NotificationKind, UserStatus
from ediary_gql.db.models.users import User
from ediary_gql.errors import DomainError, ErrorCode, ErrorCollector, RateLimited, RecordedRefusal
from ediary_gql.services import audit, rate_limits, session_ends, sessions, sign_in_guard, verification
from ediary_gql.services.contacts import looks_like_email, normalize_email, normalize_phone
from ediary_gql.services.notifications import notify
from ediary_gql.services.registration import check_new_password, personal_words
from ediary_gql.services.verification import ContactChannel, Purpose
from ediary_gql.settings import Settings


def _contact(login: str, *, field: str = "login") -> tuple[ContactChannel, str]:
    """The channel and canonical form of a login; INVALID if it is neither a phone nor an email."""
    login = login.strip()
    if not login:
        raise DomainError(ErrorCode.REQUIRED, "Укажите телефон или адрес электронной почты", field=field)
    if looks_like_email(login):
        return ContactChannel.EMAIL, normalize_email(login, field=field)
    return ContactChannel.SMS, normalize_phone(login, field=field)


def _resend_per_login() -> rate_limits.Limit:
    """One request a minute per login, known or not: a code is sent at most that often
    (verification.RESEND_INTERVAL), and counting by the login rather than by the
    account's codes answers an unknown login exactly as a known one."""
    return rate_limits.Limit(
        bucket="passwordReset:resend",
        max_hits=1,
        window=verification.RESEND_INTERVAL,
        message="Код для этого телефона или адреса почты уже запрошен",
        field="login",
    )


async def _account(session: AsyncSession, login: str) -> User | None:
    user = await sessions.find_by_login(session, login, for_update=True)
    return None if user is None or user.status == UserStatus.BLOCKED else user


async def request_password_reset(
    session: AsyncSession, *, settings: Settings, actor: Actor | None, login: str, ip: str | None = None
) -> None:
    """Send a reset code to `login` if it is an account's contact; the same answer either way.

    Requests are limited per client address, per login and to one a minute per
    login, whether or not the login is an account's (services/rate_limits.py):
    RATE_LIMITED over any, with the time to ask again."""
    policy.ensure(policy.can_reset_password(actor))
    channel, target = _contact(login)
    now = utcnow()
    await rate_limits.take(
        session,
        settings=settings,
        counters=[
            rate_limits.Counter(rate_limits.password_reset_per_address(settings), ip),
            rate_limits.Counter(rate_limits.password_reset_per_login(settings), target),
            # last: the hour-long limits above, when full, tell the longer wait
            rate_limits.Counter(_resend_per_login(), target),
        ],
        now=now,
    )
    user = await _account(session, login)
    outcome = "unknown"
    if user is not None:
        try:
            await verification.send_code(
                session, settings=settings, user=user, purpose=Purpose.RESET_PASSWORD, channel=channel, now=now
            )
            outcome = "sent"
        except RateLimited:
            # the account's own hourly cap on codes, reached only with a per-login limit
            # above it: said to nobody, as it would tell that the account exists
            outcome = "throttled"
    audit.record(
        session,
        actor=actor,
        action="requestPasswordReset",
        entity_type="User",
        entity_id=user.id if user else None,
        after={"channel": channel.value, "outcome": outcome},
    )


async def reset_password(
    session: AsyncSession, *, settings: Settings, actor: Actor | None, login: str, code: str, new_password: str
) -> User:
    """Set a new password with a reset code; every session of the account ends."""
    policy.ensure(policy.can_reset_password(actor))
    errors = ErrorCollector()
    contact = errors.check(lambda: _contact(login))
    typed_code = errors.check(lambda: verification.normalize_code(code))
    user = await _account(session, login) if contact else None
    personal = (
        personal_words(
            phone=user.phone,
            email=user.email,
            names=(user.last_name, user.first_name, user.middle_name),
            birth_date=user.birth_date,
        )
        if user
        else []
    )
    check_new_password(errors, "newPassword", new_password, personal=personal)
    # the code is checked (and an attempt spent) only for an otherwise good input
    errors.raise_if_any()
    if contact is None or typed_code is None:  # each was reported above
        raise DomainError(ErrorCode.INVALID, "Проверьте введённые данные")
    channel, target = contact
    if user is None:  # as for an account without a live code: nothing tells them apart
        raise DomainError(ErrorCode.CODE_EXPIRED, "Код устарел или не запрашивался: запросите новый код", field="code")
    now = utcnow()
    try:
        await verification.use_code(
            session,
            settings=settings,
            user_id=user.id,
            purpose=Purpose.RESET_PASSWORD,
            target=target,
            code=typed_code,
            now=now,
        )
    except RecordedRefusal as exc:
        audit.record(
            session,
            actor=actor,
            action="resetPassword",
            entity_type="User",
            entity_id=user.id,
            after={"refused": exc.code.value},
        )
        raise
    before_status = user.status.value
    user.password_hash = hash_password(new_password)
    verification.mark_confirmed(user, channel, now)
    revoked = await session_ends.revoke_all(session, user_id=user.id)
    await sign_in_guard.reset_account(session, user_id=user.id)
    audit.record(
        session,
        actor=actor,
        action="resetPassword",
        entity_type="User",
        entity_id=user.id,
        before={"status": before_status},
        after={"status": user.status.value, "channel": channel.value, "revokedSessions": revoked},
    )
    await notify(
        session,
        user=user,
        kind=NotificationKind.SECURITY,
        title="Пароль изменён",
        body=(
            "Пароль от электронного дневника изменён, все сеансы завершены. "
            "Если это были не вы, обратитесь в поддержку."
        ),
    )
    return user
