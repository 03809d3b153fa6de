"""The TOTP second factor (RFC 6238: 6 digits, 30-second steps, SHA-1, as every
authenticator app reads an otpauth:// URI).

Turning it on takes two steps: `begin` (with the password) makes a secret and
shows it; `confirm` (with a code from the app) switches it on, proving the app
holds the secret. From then on signing in takes a code too.

Codes are accepted one time step either side of now, and each step only once
(`User.totp_last_step`), so a code seen over someone's shoulder is no good
again. The secret is stored as is: it must be readable to check codes, and
keying it to SECRET_KEY would tie every second factor to the token-signing key
(which may be rotated, or left random in development).
"""

from __future__ import annotations

import datetime as dt
import enum
import hmac
from dataclasses import dataclass

import pyotp
from sqlalchemy.ext.asyncio import AsyncSession

from ediary_gql.auth import policy
from ediary_gql.auth.actor import Actor
from ediary_gql.auth.passwords import verify_password
from ediary_gql.db.base import utcnow
from ediary_gql.db.models.enums import NotificationKind
from ediary_gql.db.models.users import User
from ediary_gql.errors import DomainError, ErrorCode, RecordedRefusal
from ediary_gql.services import audit, sign_in_guard
from ediary_gql.services.notifications import notify
from ediary_gql.text import is_digits

ISSUER = "Электронный дневник"
VALID_WINDOW = 1  # steps either side of now
CODE_DIGITS = 6


@dataclass(frozen=True, slots=True)
class TwoFactorSetup:
    secret: str
    otpauth_uri: str


class CodeCheck(enum.Enum):
    ACCEPTED = "accepted"
    REUSED = "reused"  # the code of a step already used (e.g. the one that turned the factor on)
    WRONG = "wrong"


# A reused code is right but spent: told apart, so the person waits for the app's next one
# instead of doubting the app (it tells no one anything: the password came first).
REUSED_CODE_MESSAGE = (
    "Этот код из приложения-аутентификатора уже использован: каждый код годится один раз. "
    "Дождитесь следующего кода (он сменится в течение 30 секунд) и введите его"
)
WRONG_CODE_MESSAGE = "Неверный код из приложения-аутентификатора"


def check_code(user: User, code: str, now: dt.datetime) -> CodeCheck:
    """Whether `code` is the user's TOTP for a step near `now` not used before (ACCEPTED:
    that step is then used up), the code of a step used already (REUSED), or neither."""
    code = "".join(code.split())
    if not user.totp_secret or len(code) != CODE_DIGITS or not is_digits(code):
        return CodeCheck.WRONG
    totp = pyotp.TOTP(user.totp_secret)
    current = totp.timecode(now)
    verdict = CodeCheck.WRONG
    for step in range(current - VALID_WINDOW, current + VALID_WINDOW + 1):
        if not hmac.compare_digest(totp.generate_otp(step), code):
            continue
        if user.totp_last_step is not None and step <= user.totp_last_step:
            verdict = CodeCheck.REUSED
            continue
        user.totp_last_step = step
        return CodeCheck.ACCEPTED
    return verdict


def accept_code(user: User, code: str, now: dt.datetime) -> bool:
    """True if `code` is the user's TOTP for a step near `now` not used before; that step is then used up."""
    return check_code(user, code, now) is CodeCheck.ACCEPTED


def _state(user: User) -> dict[str, object]:
    return {"twoFactorEnabled": user.totp_enabled, "pending": bool(user.totp_secret) and not user.totp_enabled}


async def _own_account(session: AsyncSession, actor: Actor) -> User:
    policy.ensure(policy.can_manage_own_account(actor))
    user = await session.get(User, actor.user_id, with_for_update=True)
    if user is None:
        raise DomainError(ErrorCode.TOKEN_INVALID, "Учётная запись не найдена")
    return user


def _audit(session: AsyncSession, actor: Actor, action: str, user: User, before: dict[str, object]) -> None:
    audit.record(
        session, actor=actor, action=action, entity_type="User", entity_id=user.id, before=before, after=_state(user)
    )


async def begin(session: AsyncSession, *, actor: Actor, password: str, ip: str | None = None) -> TwoFactorSetup:
    """A new secret for the actor's authenticator app; the second factor is on only after `confirm`."""
    policy.require_confirmed(actor)
    user = await _own_account(session, actor)
    if user.totp_enabled:
        raise DomainError(
            ErrorCode.INVALID_STATE, "Вход с кодом уже включён; чтобы сменить приложение, сначала отключите его"
        )
    now = utcnow()
    try:
        await sign_in_guard.confirm_password(session, user=user, password=password, ip=ip, now=now)
    except RecordedRefusal as exc:
        audit.record(
            session,
            actor=actor,
            action="enableTwoFactor",
            entity_type="User",
            entity_id=user.id,
            after={"refused": exc.code.value},
        )
        raise
    before = _state(user)
    user.totp_secret = pyotp.random_base32()
    user.totp_last_step = None
    _audit(session, actor, "enableTwoFactor", user, before)
    account_name = user.email or user.phone or str(user.id)
    uri = pyotp.TOTP(user.totp_secret).provisioning_uri(name=account_name, issuer_name=ISSUER)
    return TwoFactorSetup(secret=user.totp_secret, otpauth_uri=uri)


async def confirm(session: AsyncSession, *, actor: Actor, code: str) -> User:
    """Switch the second factor on with the first code from the app."""
    policy.require_confirmed(actor)
    user = await _own_account(session, actor)
    if user.totp_enabled:
        raise DomainError(ErrorCode.INVALID_STATE, "Вход с кодом уже включён")
    if not user.totp_secret:
        raise DomainError(ErrorCode.INVALID_STATE, "Сначала начните подключение приложения (enableTwoFactor)")
    if not accept_code(user, code, utcnow()):
        raise DomainError(
            ErrorCode.INVALID,
            "Код не подошёл: проверьте, что время на телефоне точное, и введите новый код из приложения",
            field="code",
        )
    before = _state(user)
    user.totp_enabled = True
    _audit(session, actor, "confirmTwoFactor", user, before)
    await notify(
        session,
        user=user,
        kind=NotificationKind.SECURITY,
        title="Включён вход с кодом",
        body="Теперь для входа нужен код из приложения-аутентификатора. Если это были не вы, обратитесь в поддержку.",
    )
    return user


async def disable(
    session: AsyncSession,
    *,
    actor: Actor,
    code: str | None = None,
    password: str | None = None,
    ip: str | None = None,
) -> User:
    """Switch the second factor off, with a current code or the password (counted like a sign-in)."""
    user = await _own_account(session, actor)
    if not user.totp_enabled:
        raise DomainError(ErrorCode.INVALID_STATE, "Вход с кодом не включён")
    code = (code or "").strip()
    if not code and not password:
        raise DomainError(ErrorCode.REQUIRED, "Введите код из приложения или пароль", field="code")
    now = utcnow()
    field = "code" if code else "password"
    locked_until = await sign_in_guard.account_locked_until(session, user_id=user.id, now=now)
    if locked_until is not None:
        raise sign_in_guard.account_locked(locked_until, now, field=field)
    checked = check_code(user, code, now) if code else None
    proven = checked is CodeCheck.ACCEPTED if code else verify_password(user.password_hash, password or "")
    if not proven:
        await sign_in_guard.record_failure(session, user_id=user.id, ip=ip, now=now)
        audit.record(
            session,
            actor=actor,
            action="disableTwoFactor",
            entity_type="User",
            entity_id=user.id,
            after={"refused": ErrorCode.INVALID_CREDENTIALS.value},
        )
        message = (
            (REUSED_CODE_MESSAGE if checked is CodeCheck.REUSED else WRONG_CODE_MESSAGE) if code else "Неверный пароль"
        )
        raise RecordedRefusal(DomainError(ErrorCode.INVALID_CREDENTIALS, message, field=field))
    before = _state(user)
    user.totp_enabled = False
    user.totp_secret = None
    user.totp_last_step = None
    _audit(session, actor, "disableTwoFactor", user, before)
    await notify(
        session,
        user=user,
        kind=NotificationKind.SECURITY,
        title="Вход с кодом отключён",
        body="Для входа снова достаточно пароля. Если это были не вы, смените пароль.",
    )
    return user
