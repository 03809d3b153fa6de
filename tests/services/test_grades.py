"""Grades without GraphQL: averages computed in SQL, history, events after commit."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from ediary_gql.auth.actor import Actor
from ediary_gql.context import AppServices
from ediary_gql.db.base import utcnow
from ediary_gql.db.models.enums import GradeKind, StaffRole, UserStatus
from ediary_gql.db.models.grades import GradeRevision
from ediary_gql.errors import DomainError, ErrorCode
from ediary_gql.events.publish import take_events, unit_of_work
from ediary_gql.events.types import GradeChanged
from ediary_gql.services import averages as averages_service
from ediary_gql.services import grades as service
from tests.diary_writes_support import World, make_world
from tests.factories import make_grade, make_subject


def teacher_actor(world: World) -> Actor:
    return Actor(
        user_id=world.teacher.id,
        session_id=None,
        status=UserStatus.CONFIRMED,
        memberships=frozenset({(world.school.id, StaffRole.TEACHER)}),
    )


async def test_averages_plain_and_weighted_on_a_known_set(session: AsyncSession, app_services: AppServices) -> None:
    # given two children's grades in the first quarter
    world = await make_world(session)
    physics = await make_subject(session, school_id=world.school.id, name="Физика")
    lesson = await world.lesson(session)
    in_q = lesson.date
    after_q = world.period.ends_on + dt.timedelta(days=20)

    async def grade(child_id: int, value: str, weight: str, **kw: object) -> None:
        fields: dict[str, object] = {"lesson_id": lesson.id, **kw}
        await make_grade(
            session,
            child_id=child_id,
            value=value,
            numeric_value=int(value) if value.isdigit() else None,
            weight=Decimal(weight),
            **fields,
        )

    # child: maths 5 (×2), 3 (×1), 4 (×1.5) → plain 4.00, weighted (10+3+6)/4.5 = 4.22
    await grade(world.child.id, "5", "2.00")
    await grade(world.child.id, "3", "1.00")
    await grade(world.child.id, "4", "1.50")
    # …left out: a pass, a deleted 2, a period final 2, a 2 after the quarter
    await grade(world.child.id, "PASS", "1.00")
    await grade(world.child.id, "2", "1.00", deleted_at=utcnow())
    await grade(
        world.child.id,
        "2",
        "1.00",
        kind=GradeKind.PERIOD_FINAL,
        period_id=world.period.id,
        lesson_id=None,
        class_id=world.school_class.id,
        subject_id=world.subject.id,
    )
    await grade(world.child.id, "2", "1.00", graded_on=after_q)
    # child: physics 2 (×1), 5 (×3) → plain 3.50, weighted 17/4 = 4.25
    await grade(world.child.id, "2", "1.00", subject_id=physics.id)
    await grade(world.child.id, "5", "3.00", subject_id=physics.id)
    # classmate: maths 4 → 4.00 / 4.00
    await grade(world.other_child.id, "4", "2.00")
    await session.commit()
    assert in_q <= world.period.ends_on

    # when the averages are computed for both at once
    found = await averages_service.averages(
        session,
        child_ids=[world.child.id, world.other_child.id],
        starts_on=world.period.starts_on,
        ends_on=world.period.ends_on,
    )

    # then
    table = {(a.child_id, a.subject_id): (a.average, a.weighted_average, a.count) for v in found.values() for a in v}
    assert table == {
        (world.child.id, world.subject.id): (Decimal("4.00"), Decimal("4.22"), 3),
        (world.child.id, physics.id): (Decimal("3.50"), Decimal("4.25"), 2),
        (world.other_child.id, world.subject.id): (Decimal("4.00"), Decimal("4.00"), 1),
    }


async def test_averages_are_one_statement_for_many_children(
    session: AsyncSession, app_services: AppServices, sql_counter: object
) -> None:
    from tests.support import StatementCounter

    world = await make_world(session)
    lesson = await world.lesson(session)
    for child in (world.child, world.other_child):
        await make_grade(session, lesson_id=lesson.id, child_id=child.id)
    await session.commit()
    assert isinstance(sql_counter, StatementCounter)
    with sql_counter:
        await averages_service.averages(
            session,
            child_ids=[world.child.id, world.other_child.id],
            starts_on=world.period.starts_on,
            ends_on=world.period.ends_on,
        )
    assert sql_counter.count == 1


async def test_enter_correct_delete_write_history_and_queue_events(
    session: AsyncSession, app_services: AppServices
) -> None:
    world = await make_world(session)
    lesson = await world.lesson(session)
    await session.commit()
    actor = teacher_actor(world)
    async with unit_of_work(app_services.session_factory, app_services.bus) as tx:
        grade = await service.enter_grade(
            tx, actor=actor, data=service.GradeData(child_id=world.child.id, value="3", lesson_id=lesson.id)
        )
        await service.correct_grade(
            tx, actor=actor, data=service.GradeCorrection(grade_id=grade.id, value="4", reason="Пересдача")
        )
        await service.delete_grade(tx, actor=actor, grade_id=grade.id, reason="Ошибка")
        events = list(tx.info.get("ediary.pending_events", []))
    # the grade's own events (the change feed's, queued beside them, are its tests' concern)
    assert [e.action for e in events if isinstance(e, GradeChanged)] == ["CREATED", "CORRECTED", "DELETED"]
    steps = (
        await session.scalars(
            select(GradeRevision).where(GradeRevision.grade_id == grade.id).order_by(GradeRevision.id)
        )
    ).all()
    assert [(s.action, s.old_value, s.new_value) for s in steps] == [
        ("CREATED", None, "3"),
        ("CORRECTED", "3", "4"),
        ("DELETED", "4", None),
    ]
    _ = take_events


async def test_a_teacher_of_another_subject_is_refused(session: AsyncSession, app_services: AppServices) -> None:
    world = await make_world(session)
    lesson = await world.lesson(session)
    await session.commit()
    actor = Actor(
        user_id=world.other_teacher.id,
        session_id=None,
        status=UserStatus.CONFIRMED,
        memberships=frozenset({(world.school.id, StaffRole.TEACHER)}),
    )
    with pytest.raises(DomainError) as refused:
        async with unit_of_work(app_services.session_factory, app_services.bus) as tx:
            await service.enter_grade(
                tx, actor=actor, data=service.GradeData(child_id=world.child.id, value="5", lesson_id=lesson.id)
            )
    assert refused.value.code == ErrorCode.FORBIDDEN
