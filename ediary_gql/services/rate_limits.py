"""Per-address and per-login limits on public workflows that send codes (SMS, email).

Counters live in the database (`rate_limit_hits`), so every server process
sees the same ones, on SQLite and PostgreSQL alike. A limit allows `max_hits`
counted requests per key within a sliding `window`; a request over it is
refused with RATE_LIMITED, telling when to try again, and is not counted.
A request is counted in the workflow's own transaction, so one that fails
(and rolls back) costs nothing.

The sliding window and the "when to retry" wording are the ones sign-in
throttling uses (services/sign_in_guard.py).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import math
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import ColumnElement, delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute

from ediary_gql.db.models.users import RateLimitHit
from ediary_gql.errors import RateLimited, RecordedRefusal
from ediary_gql.services import audit
from ediary_gql.settings import Settings

# Moscow time (UTC+3, no daylight saving since 2014): how times are told to people.
MSK = dt.timezone(dt.timedelta(hours=3), "МСК")


def wait_text(until: dt.datetime, now: dt.datetime) -> str:
    """ "через 15 мин (в 13:57 МСК)": how long to wait, and until when."""
    seconds = max(1, math.ceil((until - now).total_seconds()))
    span = f"{seconds} с" if seconds < 60 else f"{math.ceil(seconds / 60)} мин"
    return f"через {span} (в {until.astimezone(MSK):%H:%M} МСК)"


def seconds_until(until: dt.datetime, now: dt.datetime) -> int:
    return max(1, math.ceil((until - now).total_seconds()))


async def window_full_until(
    session: AsyncSession,
    created_at: InstrumentedAttribute[dt.datetime],
    *conditions: ColumnElement[bool],
    max_hits: int,
    window: dt.timedelta,
    now: dt.datetime,
) -> dt.datetime | None:
    """A sliding window of rows matching `conditions`: None while it holds fewer than
    `max_hits` rows newer than `window`, else when the oldest that counts leaves it."""
    oldest_counted = await session.scalar(
        select(created_at)
        .where(*conditions, created_at > now - window)
        .order_by(created_at.desc())
        .offset(max_hits - 1)
        .limit(1)
    )
    return None if oldest_counted is None else oldest_counted + window


@dataclass(frozen=True, slots=True)
class Limit:
    """At most `max_hits` requests per key within `window` (0: no limit)."""

    bucket: str  # the workflow and what it counts by, e.g. "register:address"
    max_hits: int
    window: dt.timedelta
    message: str  # what is refused, e.g. "Слишком много регистраций с этого адреса"
    field: str | tuple[str, ...] = ()


def register_per_address(settings: Settings) -> Limit:
    return Limit(
        bucket="register:address",
        max_hits=settings.register_limit_per_address,
        window=dt.timedelta(seconds=settings.register_limit_window_seconds),
        message="Слишком много регистраций с этого адреса",
    )


def password_reset_per_address(settings: Settings) -> Limit:
    return Limit(
        bucket="passwordReset:address",
        max_hits=settings.password_reset_limit_per_address,
        window=dt.timedelta(seconds=settings.password_reset_limit_window_seconds),
        message="Слишком много запросов на восстановление пароля с этого адреса",
    )


def password_reset_per_login(settings: Settings) -> Limit:
    return Limit(
        bucket="passwordReset:login",
        max_hits=settings.password_reset_limit_per_login,
        window=dt.timedelta(seconds=settings.password_reset_limit_window_seconds),
        message="Слишком много запросов на восстановление пароля для этого телефона или адреса почты",
        field="login",
    )


def oidc_login_per_address(settings: Settings) -> Limit:
    return Limit(
        bucket="oidcLogin:address",
        max_hits=settings.oidc_login_limit_per_address,
        window=dt.timedelta(seconds=settings.oidc_login_limit_window_seconds),
        message="Слишком много попыток входа через портал с этого адреса",
    )


@dataclass(frozen=True, slots=True)
class Counter:
    """One limit applied to one key (an address, a login); a None key is not limited."""

    limit: Limit
    key: str | None


def _digest(settings: Settings, counter: Counter) -> str:
    message = f"{counter.limit.bucket}:{counter.key}".encode()
    return hmac.new(settings.secret_key.encode(), message, hashlib.sha256).hexdigest()


def _active(counters: Sequence[Counter]) -> list[Counter]:
    return [c for c in counters if c.key and c.limit.max_hits > 0]


async def check(session: AsyncSession, *, settings: Settings, counters: Sequence[Counter], now: dt.datetime) -> None:
    """RATE_LIMITED (naming the first full counter) if any counter is full, as a
    RecordedRefusal: its audit entry is committed (see resolvers/transaction.py).

    On PostgreSQL each key's counter is locked until the transaction ends, so
    requests of one key sent at once (to any server process) are decided one
    after another; SQLite's write transactions are serial already."""
    active = _active(counters)
    if not active:
        return
    digests = {id(c): _digest(settings, c) for c in active}
    connection = await session.connection()
    if connection.dialect.name == "postgresql":
        # in one order, so two requests locking the same keys cannot deadlock
        for lock_key in sorted(int.from_bytes(bytes.fromhex(d[:16]), "big", signed=True) for d in digests.values()):
            await session.execute(select(func.pg_advisory_xact_lock(lock_key)))
    for counter in active:
        until = await window_full_until(
            session,
            RateLimitHit.created_at,
            RateLimitHit.bucket == counter.limit.bucket,
            RateLimitHit.key == digests[id(counter)],
            max_hits=counter.limit.max_hits,
            window=counter.limit.window,
            now=now,
        )
        if until is not None:
            refusal = RateLimited(
                f"{counter.limit.message}. Повторите попытку {wait_text(until, now)}",
                retry_after_seconds=seconds_until(until, now),
                field=counter.limit.field,
            )
            # the refusal itself is audited (with the request's address, not the counted key)
            audit.record(
                session,
                actor=None,
                action="rateLimited",
                entity_type="RateLimit",
                entity_id=None,
                after={"bucket": counter.limit.bucket, "retryAfterSeconds": refusal.retry_after_seconds},
            )
            raise RecordedRefusal(refusal)


async def count(session: AsyncSession, *, settings: Settings, counters: Sequence[Counter], now: dt.datetime) -> None:
    """Count one request against each counter (after `check` let it through)."""
    for counter in _active(counters):
        session.add(RateLimitHit(bucket=counter.limit.bucket, key=_digest(settings, counter), created_at=now))
        # keep the table small: rows past this bucket's window decide nothing any more
        await session.execute(
            delete(RateLimitHit)
            .where(RateLimitHit.created_at <= now - counter.limit.window, RateLimitHit.bucket == counter.limit.bucket)
            .execution_options(synchronize_session=False)
        )
    await session.flush()


async def take(session: AsyncSession, *, settings: Settings, counters: Sequence[Counter], now: dt.datetime) -> None:
    """`check`, then `count`: a request counted against every counter, or refused by none."""
    await check(session, settings=settings, counters=counters, now=now)
    await count(session, settings=settings, counters=counters, now=now)
