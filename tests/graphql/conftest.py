"""Fixtures of the diary's write tests: a school world and one of its lessons."""

from __future__ import annotations

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from ediary_gql.db.models.lessons import Lesson
from tests.diary_writes_support import World, make_world


@pytest.fixture
async def world(session: AsyncSession) -> World:
    return await make_world(session)


@pytest.fixture
async def lesson(session: AsyncSession, world: World) -> Lesson:
    row = await world.lesson(session)
    await session.commit()
    return row
