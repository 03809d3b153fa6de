"""Sign-in throttling: failed attempts per account and per client address.

State lives in the database (`sign_in_failures`), so every server process
sees the same counters, on SQLite and PostgreSQL alike, and a failure is
recorded in the same transaction as its audit entry.

* An account with `ACCOUNT_MAX_FAILURES` failures within `ACCOUNT_WINDOW` is
  locked for `ACCOUNT_LOCK` after the last of them, even for the right
  password. Attempts refused by the lock are not counted (they check nothing).
* A client address with `ADDRESS_MAX_FAILURES` failures within
  `ADDRESS_WINDOW` may not sign in until the oldest of them leaves the window.
* A successful sign-in (or password reset) detaches the account's failures
  from it: they stop counting for the account and keep counting for the
  address, so signing in to one's own account does not buy an attacker more
  guesses against others.

Re-entering the password or a TOTP code for a sensitive change (turning the
second factor on or off) counts exactly like a sign-in.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from ediary_gql.auth.passwords import verify_password
from ediary_gql.db.models.users import SignInFailure, User
from ediary_gql.errors import DomainError, ErrorCode, RateLimited, RecordedRefusal
from ediary_gql.services.rate_limits import seconds_until, wait_text, window_full_until

ACCOUNT_MAX_FAILURES = 5
ACCOUNT_WINDOW = dt.timedelta(minutes=15)
ACCOUNT_LOCK = dt.timedelta(minutes=15)
ADDRESS_MAX_FAILURES = 20
ADDRESS_WINDOW = dt.timedelta(minutes=15)
# Older failures decide nothing any more.
_RELEVANT = max(ACCOUNT_WINDOW + ACCOUNT_LOCK, ADDRESS_WINDOW)


async def account_locked_until(session: AsyncSession, *, user_id: int, now: dt.datetime) -> dt.datetime | None:
    """When the account's lock ends, or None if it is not locked."""
    recent = (
        await session.scalars(
            select(SignInFailure.created_at)
            .where(SignInFailure.user_id == user_id, SignInFailure.created_at > now - _RELEVANT)
            .order_by(SignInFailure.created_at.desc())
            .limit(ACCOUNT_MAX_FAILURES)
        )
    ).all()
    if len(recent) < ACCOUNT_MAX_FAILURES or recent[0] - recent[-1] > ACCOUNT_WINDOW:
        return None
    until = recent[0] + ACCOUNT_LOCK
    return until if until > now else None


async def address_blocked_until(session: AsyncSession, *, ip: str | None, now: dt.datetime) -> dt.datetime | None:
    """When the address may try again, or None if it may now."""
    if not ip:
        return None
    return await window_full_until(
        session,
        SignInFailure.created_at,
        SignInFailure.ip == ip,
        max_hits=ADDRESS_MAX_FAILURES,
        window=ADDRESS_WINDOW,
        now=now,
    )


def account_locked(until: dt.datetime, now: dt.datetime, *, field: str = "login") -> RateLimited:
    return RateLimited(
        f"Слишком много неудачных попыток входа: вход в учётную запись временно заблокирован. "
        f"Повторите попытку {wait_text(until, now)}",
        retry_after_seconds=seconds_until(until, now),
        field=field,
    )


def address_blocked(until: dt.datetime, now: dt.datetime) -> RateLimited:
    return RateLimited(
        f"Слишком много неудачных попыток входа с этого адреса. Повторите попытку {wait_text(until, now)}",
        retry_after_seconds=seconds_until(until, now),
    )


async def record_failure(session: AsyncSession, *, user_id: int | None, ip: str | None, now: dt.datetime) -> bool:
    """Count a failure; True if it has just locked the account."""
    session.add(SignInFailure(user_id=user_id, ip=ip, created_at=now))
    await session.flush()
    # keep the table small: this account's and this address's stale rows go (both indexed)
    stale = SignInFailure.created_at < now - _RELEVANT
    if ip:
        await session.execute(delete(SignInFailure).where(SignInFailure.ip == ip, stale))
    if user_id is None:
        return False
    await session.execute(delete(SignInFailure).where(SignInFailure.user_id == user_id, stale))
    return await account_locked_until(session, user_id=user_id, now=now) is not None


async def reset_account(session: AsyncSession, *, user_id: int) -> None:
    """The account's counter starts again; its failures still count for their addresses."""
    await session.execute(update(SignInFailure).where(SignInFailure.user_id == user_id).values(user_id=None))


async def confirm_password(
    session: AsyncSession, *, user: User, password: str, ip: str | None, now: dt.datetime, field: str = "password"
) -> None:
    """Re-entry of the password for a sensitive change: throttled and counted like a sign-in.

    A wrong password raises a RecordedRefusal (the failure must be committed).
    """
    locked = await account_locked_until(session, user_id=user.id, now=now)
    if locked is not None:
        raise account_locked(locked, now, field=field)
    if not verify_password(user.password_hash, password):
        await record_failure(session, user_id=user.id, ip=ip, now=now)
        raise RecordedRefusal(DomainError(ErrorCode.INVALID_CREDENTIALS, "Неверный пароль", field=field))
