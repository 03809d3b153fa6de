"""Who may sync (policy.can_sync): the school's admins, and its integration holding the
call's scope; not an integration of another school, one without the scope, or a teacher.
The integration acts through its own user row: it is the author of what it writes."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from ediary_gql.auth.actor import Actor
from ediary_gql.context import AppServices
from ediary_gql.db.models.audit import AuditEntry
from ediary_gql.db.models.enums import AttendanceStatus, IntegrationScope, UserStatus
from ediary_gql.db.models.grades import Grade
from ediary_gql.db.models.integrations import Integration
from ediary_gql.errors import DomainError, ErrorCode
from ediary_gql.events.publish import unit_of_work
from ediary_gql.services import sync
from ediary_gql.services.sessions import load_actors
from tests.factories import make_school, make_user
from tests.sync_support import MONDAY, SyncWorld, make_sync_world

GRADE = sync.GradeItem("G-1", "STU-1", "L-1", "5")
MARK = sync.MarkItem("A-1", "STU-1", "L-1", AttendanceStatus.PRESENT)
LESSON = sync.LessonItem("L-NEW", "CLS-1", "SUB-MATH", "T-1", MONDAY, dt.time(14, 0), dt.time(14, 45))


@pytest.fixture
async def sw(session: AsyncSession) -> SyncWorld:
    world = await make_sync_world(session)
    await world.lessons(session, 1)
    return world


async def _integration(session: AsyncSession, school_id: int, *scopes: IntegrationScope) -> Actor:
    """An integration of the school with the scopes, as the actor its tokens give."""
    user = await make_user(session, status=UserStatus.CONFIRMED)
    row = Integration(
        school_id=school_id, user_id=user.id, name="Школьная ИС", client_id=uuid.uuid4().hex, scopes=list(scopes)
    )
    session.add(row)
    await session.commit()
    return Actor(
        user_id=user.id,
        session_id=None,
        status=UserStatus.CONFIRMED,
        integration_id=row.id,
        integration_school_id=school_id,
        scopes=frozenset(scopes),
    )


async def _run(app_services: AppServices, actor: Actor, school_id: int, call: str) -> sync.SyncResult:
    async with unit_of_work(app_services.session_factory, app_services.bus) as tx:
        if call == "grades":
            return await sync.sync_grades(tx, actor=actor, school_id=school_id, items=[GRADE])
        if call == "attendance":
            return await sync.sync_attendance(tx, actor=actor, school_id=school_id, items=[MARK])
        return await sync.sync_lessons(tx, actor=actor, school_id=school_id, items=[LESSON])


SCOPES = {
    "grades": IntegrationScope.GRADES_WRITE,
    "attendance": IntegrationScope.ATTENDANCE_WRITE,
    "lessons": IntegrationScope.ROSTER_WRITE,
}


@pytest.mark.parametrize("call", sorted(SCOPES))
async def test_an_integration_with_the_scope_syncs_and_is_the_author(
    session: AsyncSession, app_services: AppServices, sw: SyncWorld, call: str
) -> None:
    actor = await _integration(session, sw.school.id, SCOPES[call])
    result = await _run(app_services, actor, sw.school.id, call)
    assert [item.action for item in result.items] == [sync.Action.CREATED]
    entry = await session.scalar(select(AuditEntry).where(AuditEntry.action.like("sync%")))
    assert entry is not None
    assert entry.actor_user_id == actor.user_id
    if call == "grades":
        grade = await session.scalar(select(Grade))
        assert grade is not None
        assert grade.teacher_id == actor.user_id


@pytest.mark.parametrize("call", sorted(SCOPES))
async def test_an_integration_without_the_scope_is_refused(
    session: AsyncSession, app_services: AppServices, sw: SyncWorld, call: str
) -> None:
    others = [scope for scope in IntegrationScope if scope != SCOPES[call]]
    actor = await _integration(session, sw.school.id, *others)
    with pytest.raises(DomainError) as refused:
        await _run(app_services, actor, sw.school.id, call)
    assert refused.value.code == ErrorCode.FORBIDDEN


@pytest.mark.parametrize("call", sorted(SCOPES))
async def test_another_schools_integration_is_refused(
    session: AsyncSession, app_services: AppServices, sw: SyncWorld, call: str
) -> None:
    other = await make_school(session)
    actor = await _integration(session, other.id, *IntegrationScope)
    with pytest.raises(DomainError) as refused:
        await _run(app_services, actor, sw.school.id, call)
    assert refused.value.code == ErrorCode.FORBIDDEN


@pytest.mark.parametrize("call", sorted(SCOPES))
async def test_the_classes_own_teacher_is_refused(
    session: AsyncSession, app_services: AppServices, sw: SyncWorld, call: str
) -> None:
    async with app_services.session_factory() as s:
        teacher = (await load_actors(s, [sw.teacher.id]))[sw.teacher.id]
    with pytest.raises(DomainError) as refused:
        await _run(app_services, teacher, sw.school.id, call)
    assert refused.value.code == ErrorCode.FORBIDDEN
