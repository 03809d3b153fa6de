"""Users: creating accounts and reading them."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from ediary_gql.auth import policy
from ediary_gql.auth.actor import Actor
from ediary_gql.auth.passwords import hash_password
from ediary_gql.db.base import utcnow
from ediary_gql.db.models.enums import UserStatus
from ediary_gql.db.models.users import User
from ediary_gql.errors import DomainError, ErrorCode, ErrorCollector
from ediary_gql.services import audit
from ediary_gql.services.contacts import normalize_email, normalize_phone
from ediary_gql.services.person_names import check_name

MIN_PASSWORD_LENGTH = 8


@dataclass(frozen=True, slots=True)
class NewUser:
    last_name: str
    first_name: str
    password: str
    middle_name: str | None = None
    phone: str | None = None
    email: str | None = None
    birth_date: dt.date | None = None
    status: UserStatus = UserStatus.TEMPORARY
    is_operator: bool = False


async def create_user(session: AsyncSession, *, actor: Actor, data: NewUser) -> User:
    """Create an account directly (operators and the command line)."""
    policy.ensure(policy.can_manage_users(actor))
    errors = ErrorCollector()
    last = check_name(errors, "lastName", data.last_name, required=True)
    first = check_name(errors, "firstName", data.first_name, required=True)
    middle = check_name(errors, "middleName", data.middle_name, required=False)
    phone = errors.check(lambda: normalize_phone(data.phone or "")) if data.phone else None
    email = errors.check(lambda: normalize_email(data.email or "")) if data.email else None
    if not data.phone and not data.email:
        errors.add("phone", ErrorCode.REQUIRED, "Укажите телефон или электронную почту")
    if len(data.password) < MIN_PASSWORD_LENGTH:
        errors.add("password", ErrorCode.INVALID, f"Пароль не короче {MIN_PASSWORD_LENGTH} символов")
    errors.raise_if_any()

    clash = await find_by_contacts(session, phone=phone, email=email)
    if clash is not None:
        field = "phone" if phone and clash.phone == phone else "email"
        raise DomainError(ErrorCode.DUPLICATE, "Учётная запись с такими данными уже есть", field=field)

    now = utcnow()
    confirmed = data.status == UserStatus.CONFIRMED
    user = User(
        last_name=last,
        first_name=first,
        middle_name=middle,
        phone=phone,
        email=email,
        birth_date=data.birth_date,
        password_hash=hash_password(data.password),
        status=data.status,
        is_operator=data.is_operator,
        phone_confirmed_at=now if confirmed and phone else None,
        email_confirmed_at=now if confirmed and email else None,
        notification_prefs={},
    )
    session.add(user)
    await session.flush()
    audit.record(
        session,
        actor=actor,
        action="createUser",
        entity_type="User",
        entity_id=user.id,
        after={"phone": phone, "email": email, "status": user.status.value, "isOperator": user.is_operator},
    )
    return user


async def find_by_contacts(session: AsyncSession, *, phone: str | None, email: str | None) -> User | None:
    conds = []
    if phone:
        conds.append(User.phone == phone)
    if email:
        conds.append(User.email == email)
    if not conds:
        return None
    return (await session.scalars(select(User).where(or_(*conds)).limit(1))).first()
