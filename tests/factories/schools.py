"""Schools, staff memberships (teachers, school admins) and staff bindings."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from ediary_gql.db.models.enums import (
    LaunchMode,
    SchoolStatus,
    SchoolType,
    StaffBindingStatus,
    StaffDocumentKind,
    StaffRole,
)
from ediary_gql.db.models.geo import normalize_name
from ediary_gql.db.models.schools import School, StaffBinding, StaffMembership
from ediary_gql.db.models.users import User
from tests.factories._base import fake, inn10, now, okpo8, persist, seq, take_parents
from tests.factories.attachments import make_attachment
from tests.factories.geo import make_settlement
from tests.factories.users import make_user


async def make_school(session: AsyncSession, **overrides: Any) -> School:
    """An ACTIVE school with a diary UID (pass `status=SchoolStatus.PENDING` for a new one)."""
    o = take_parents(overrides)
    if "settlement_id" not in o:
        o["settlement_id"] = (await make_settlement(session)).id
    n = seq()
    inn = inn10(n)
    status = o.get("status", SchoolStatus.ACTIVE)
    fields: dict[str, Any] = {
        "full_name": (
            f"Муниципальное бюджетное общеобразовательное учреждение «Средняя общеобразовательная школа № {n}»"
        ),
        "short_name": f"МБОУ СОШ № {n}",
        "type": SchoolType.SCHOOL,
        "inn": inn,
        "okpo": okpo8(n),
        "kpp": f"{inn[:4]}01001",
        "address": fake.street_address(),
        "phone": f"+7495{n % 10_000_000:07d}",
        "email": f"school{n}@edu.example.ru",
        "website": f"https://school{n}.example.ru",
        "timezone": "Europe/Moscow",
        "status": status,
        "launch_mode": LaunchMode.OPEN if status is SchoolStatus.ACTIVE else LaunchMode.TEST,
        "diary_uid": f"ED-SCH-{n:08d}" if status is SchoolStatus.ACTIVE else None,
        "rejection_reason": ("Сведения не подтверждены" if status is SchoolStatus.REJECTED else None),
    }
    fields.update(o)
    if "name_normalized" not in o:
        fields["name_normalized"] = normalize_name(f"{fields['full_name']} {fields['short_name']}")
    return await persist(session, School(**fields))


async def make_staff_membership(session: AsyncSession, **overrides: Any) -> StaffMembership:
    o = take_parents(overrides)
    if "school_id" not in o:
        o["school_id"] = (await make_school(session)).id
    if "user_id" not in o:
        o["user_id"] = (await make_user(session)).id
    fields: dict[str, Any] = {"role": StaffRole.TEACHER, "active": True}
    fields.update(o)
    return await persist(session, StaffMembership(**fields))


async def make_staff_user(session: AsyncSession, role: StaffRole = StaffRole.TEACHER, **overrides: Any) -> User:
    """A user with an active membership in `role` at `school` (made if not given)."""
    o = take_parents(overrides)
    school_id = o.pop("school_id", None)
    if school_id is None:
        school_id = (await make_school(session)).id
    user = await make_user(session, **o)
    await make_staff_membership(session, user_id=user.id, school_id=school_id, role=role)
    return user


async def make_teacher(session: AsyncSession, **overrides: Any) -> User:
    return await make_staff_user(session, StaffRole.TEACHER, **overrides)


async def make_school_admin(session: AsyncSession, **overrides: Any) -> User:
    return await make_staff_user(session, StaffRole.SCHOOL_ADMIN, **overrides)


async def make_staff_binding(session: AsyncSession, **overrides: Any) -> StaffBinding:
    """A PENDING request with its appointment order attached."""
    o = take_parents(overrides)
    if "school_id" not in o:
        o["school_id"] = (await make_school(session)).id
    if "user_id" not in o:
        o["user_id"] = (await make_user(session)).id
    if "document_id" not in o:
        o["document_id"] = (await make_attachment(session, owner_id=o["user_id"])).id
    status = o.get("status", StaffBindingStatus.PENDING)
    fields: dict[str, Any] = {
        "role": StaffRole.TEACHER,
        "document_kind": StaffDocumentKind.APPOINTMENT_ORDER,
        "status": status,
    }
    if status is not StaffBindingStatus.PENDING:
        fields["decided_at"] = now()
    if status is StaffBindingStatus.REJECTED:
        fields["reason"] = "Документ не читается"
    fields.update(o)
    return await persist(session, StaffBinding(**fields))
