"""What every setup step begins with: the actor may set up that school, the class it
names exists, its text fields are filled in and not too long."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from ediary_gql.auth import policy
from ediary_gql.auth.actor import Actor
from ediary_gql.db.models.classes import SchoolClass
from ediary_gql.db.models.enums import StaffRole
from ediary_gql.db.models.schools import StaffMembership
from ediary_gql.errors import DomainError, ErrorCode, ErrorCollector


def clean_text(value: str | None) -> str | None:
    value = (value or "").strip()
    return value or None


def required_text(errors: ErrorCollector, path: Sequence[str], value: str | None, max_len: int) -> str | None:
    text = clean_text(value)
    if text is None:
        errors.add(path, ErrorCode.REQUIRED, "Заполните поле")
    elif len(text) > max_len:
        errors.add(path, ErrorCode.TOO_LONG, f"Не длиннее {max_len} символов")
    return text


def require_setup(actor: Actor, school_id: int) -> None:
    """Only a confirmed school admin of that school sets it up (FORBIDDEN otherwise)."""
    policy.require_confirmed(actor)
    policy.ensure(
        policy.can_set_up_school(actor, school_id),
        "Настраивать школу может только ответственный за дневник этой школы",
    )


async def get_class(session: AsyncSession, class_id: int, *, field: str) -> SchoolClass:
    klass = await session.get(SchoolClass, class_id)
    if klass is None:
        # An admin of no school learns nothing from NOT_FOUND vs FORBIDDEN: both refuse.
        raise DomainError(ErrorCode.NOT_FOUND, "Класс не найден", field=field)
    return klass


async def is_active_teacher(session: AsyncSession, user_id: int, school_id: int) -> bool:
    found = await session.scalar(
        select(StaffMembership.id).where(
            StaffMembership.user_id == user_id,
            StaffMembership.school_id == school_id,
            StaffMembership.role == StaffRole.TEACHER,
            StaffMembership.active.is_(True),
        )
    )
    return found is not None
