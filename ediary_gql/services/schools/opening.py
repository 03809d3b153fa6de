"""The end of the test launch: a connected school opened to parents."""

from __future__ import annotations

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from ediary_gql.auth import policy
from ediary_gql.auth.actor import Actor
from ediary_gql.db.base import utcnow
from ediary_gql.db.models.enums import LaunchMode, SchoolStatus
from ediary_gql.db.models.schools import School
from ediary_gql.errors import DomainError, ErrorCode, forbidden
from ediary_gql.services import audit
from ediary_gql.services.schools.status_names import STATUS_NAMES


async def _visible_school(session: AsyncSession, actor: Actor, school_id: int) -> School:
    school = await session.get(School, school_id)
    if school is None or not policy.can_view_school(
        actor,
        school.id,
        is_active=school.status == SchoolStatus.ACTIVE,
        is_open=school.launch_mode == LaunchMode.OPEN,
        registered_by_id=school.registered_by_id,
    ):
        raise DomainError(ErrorCode.NOT_FOUND, "Школа не найдена", field="schoolId")
    return school


async def open_school(session: AsyncSession, *, actor: Actor, school_id: int) -> School:
    """End the test launch: the school is offered to parents from now on."""
    school = await _visible_school(session, actor, school_id)
    if not policy.can_open_school(actor, school.id):
        raise forbidden("Открыть школу для родителей может ответственный за дневник школы или оператор")
    if school.status != SchoolStatus.ACTIVE:
        raise DomainError(
            ErrorCode.INVALID_STATE,
            f"Открыть можно только подключённую школу; сейчас она {STATUS_NAMES[SchoolStatus(school.status)]}",
            field="schoolId",
        )
    now = utcnow()
    result = await session.execute(
        update(School)
        .where(School.id == school.id, School.launch_mode == LaunchMode.TEST)
        .values(launch_mode=LaunchMode.OPEN, updated_at=now)
        .execution_options(synchronize_session=False)
    )
    if int(result.rowcount or 0) != 1:  # type: ignore[attr-defined]
        raise DomainError(ErrorCode.INVALID_STATE, "Школа уже открыта для родителей", field="schoolId")
    await session.refresh(school)
    audit.record(
        session,
        actor=actor,
        action="openSchool",
        entity_type="School",
        entity_id=school.id,
        school_id=school.id,
        before={"launchMode": LaunchMode.TEST.value},
        after={"launchMode": LaunchMode.OPEN.value},
    )
    return school
