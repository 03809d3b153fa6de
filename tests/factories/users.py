"""Users, sign-in sessions, verification codes and rate-limit counters."""

from __future__ import annotations

import datetime as dt
import hashlib
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from ediary_gql.auth.passwords import hash_password
from ediary_gql.db.models.enums import UserStatus
from ediary_gql.db.models.users import AuthSession, RateLimitHit, SignInFailure, User, VerificationCode
from tests.factories._base import (
    FAKE_PASSWORD_HASH,
    fake,
    now,
    persist,
    person_name,
    phone,
    random_sex,
    seq,
    take_parents,
)


async def make_user(session: AsyncSession, password: str | None = None, **overrides: Any) -> User:
    """A confirmed account (pass `status=UserStatus.TEMPORARY` for a new one); with a
    `password`, one that signs in with it."""
    if password is not None:
        overrides["password_hash"] = hash_password(password)
    n = seq()
    fields: dict[str, Any] = {
        "phone": phone(n),
        "email": f"user{n}@example.ru",
        "password_hash": FAKE_PASSWORD_HASH,
        **person_name(random_sex()),
        "birth_date": fake.date_of_birth(minimum_age=25, maximum_age=60),
        "status": UserStatus.CONFIRMED,
        "phone_confirmed_at": now(),
        "consent_at": now(),
    }
    fields.update(take_parents(overrides))
    return await persist(session, User(**fields))


async def make_operator(session: AsyncSession, **overrides: Any) -> User:
    """A portal operator."""
    return await make_user(session, **{"is_operator": True, **overrides})


async def make_auth_session(session: AsyncSession, **overrides: Any) -> AuthSession:
    o = take_parents(overrides)
    if "user_id" not in o:
        o["user_id"] = (await make_user(session)).id
    n = seq()
    fields: dict[str, Any] = {
        "refresh_hash": hashlib.sha256(f"refresh-{n}".encode()).hexdigest(),
        "expires_at": now() + dt.timedelta(days=30),
        "user_agent": fake.user_agent(),
        "ip": fake.ipv4(),
    }
    fields.update(o)
    return await persist(session, AuthSession(**fields))


async def make_verification_code(session: AsyncSession, **overrides: Any) -> VerificationCode:
    o = take_parents(overrides)
    if "user_id" not in o:
        o["user_id"] = (await make_user(session)).id
    user = await session.get(User, o["user_id"])
    n = seq()
    fields: dict[str, Any] = {
        "purpose": "CONFIRM_PHONE",
        "target": (user.phone if user else None) or phone(n),
        "code_hash": hashlib.sha256(f"code-{n}".encode()).hexdigest(),
        "expires_at": now() + dt.timedelta(minutes=10),
    }
    fields.update(o)
    return await persist(session, VerificationCode(**fields))


async def make_sign_in_failure(session: AsyncSession, **overrides: Any) -> SignInFailure:
    """A failed sign-in of an account (pass `user_id=None` for an unknown login) from an address."""
    o = take_parents(overrides)
    if "user_id" not in o:
        o["user_id"] = (await make_user(session)).id
    fields: dict[str, Any] = {"ip": fake.ipv4(), "created_at": now()}
    fields.update(o)
    return await persist(session, SignInFailure(**fields))


async def make_rate_limit_hit(session: AsyncSession, **overrides: Any) -> RateLimitHit:
    """A registration counted against an address (its key an HMAC hex digest)."""
    o = take_parents(overrides)
    fields: dict[str, Any] = {
        "bucket": "register:address",
        "key": hashlib.sha256(fake.ipv4().encode()).hexdigest(),
        "created_at": now(),
    }
    fields.update(o)
    return await persist(session, RateLimitHit(**fields))
