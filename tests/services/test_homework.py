"""Homework without GraphQL: completion counted in one statement for many homeworks."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from ediary_gql.context import AppServices
from ediary_gql.services import homework as service
from tests.diary_writes_support import make_world
from tests.factories import make_homework, make_homework_completion
from tests.support import StatementCounter


async def test_completions_in_one_statement(
    session: AsyncSession, app_services: AppServices, sql_counter: StatementCounter
) -> None:
    world = await make_world(session)
    lesson = await world.lesson(session)
    first = await make_homework(session, lesson_id=lesson.id)
    second = await make_homework(session, lesson_id=lesson.id)
    await make_homework_completion(session, homework_id=first.id, child_id=world.child.id, marked_by_id=world.parent.id)
    await session.commit()

    with sql_counter:
        found = await service.completions(session, [first.id, second.id])

    assert sql_counter.count == 1
    assert {c.homework_id: (c.done, c.total) for c in found} == {first.id: (1, 2), second.id: (0, 2)}
