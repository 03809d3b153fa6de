"""User.birthDate: the person and the admins of their schools; operators only for
accounts with no school role. A parent never reads a teacher's through a lesson."""

from __future__ import annotations

import datetime as dt

from sqlalchemy.ext.asyncio import AsyncSession

from ediary_gql.db.models.lessons import Lesson
from tests.diary_writes_support import World, gid
from tests.support import GraphQLClient

TEACHER_OF_LESSON = "query($id: ID!) { node(id: $id) { ... on Lesson { teacher { id birthDate } } } }"
USER = "query($id: ID!) { node(id: $id) { ... on User { id birthDate } } }"


async def test_a_teachers_birth_date_is_for_them_and_their_schools_admins(
    gql: GraphQLClient, session: AsyncSession, world: World, lesson: Lesson
) -> None:
    # given a teacher with a birth date, and a lesson of theirs
    world.teacher.birth_date = dt.date(1985, 4, 12)
    world.parent.birth_date = dt.date(1990, 1, 2)
    await session.commit()
    teacher_gid = gid("User", world.teacher.id)
    seen = {}
    for name in ("parent", "student", "other_teacher", "teacher", "admin"):
        token = await world.token(gql, getattr(world, name))
        node = (await gql.data(TEACHER_OF_LESSON, {"id": gid("Lesson", lesson.id)}, token=token))["node"]
        seen[name] = node["teacher"]["birthDate"]
    # then through the lesson, the parent, the student and a colleague see no birth date
    assert seen == {
        "parent": None,
        "student": None,
        "other_teacher": None,
        "teacher": "1985-04-12",
        "admin": "1985-04-12",
    }
    # and an operator or another school's admin neither
    for other in (world.operator, world.foreign_admin):
        node = (await gql.data(USER, {"id": teacher_gid}, token=await world.token(gql, other)))["node"]
        assert node is None or node["birthDate"] is None
    # while an operator still reads a parent's (an account with no school role)
    parent = await gql.data(USER, {"id": gid("User", world.parent.id)}, token=await world.token(gql, world.operator))
    assert parent["node"]["birthDate"] == "1990-01-02"
