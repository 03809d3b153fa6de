"""Homework files over real HTTP: GET /files/{id} and node(id:) for each role.

Families of the children enrolled in the lesson's class on its date, the class's
teachers and the school's admins download them; everyone else is told the file
does not exist.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass

import pytest
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from ediary_gql.db.models.schools import StaffMembership
from ediary_gql.db.models.users import User
from ediary_gql.settings import Settings
from ediary_gql.storage import storage_for
from tests.diary_writes_support import MONDAY, PASSWORD, World, gid
from tests.factories import (
    make_attachment,
    make_child,
    make_enrollment,
    make_guardianship,
    make_homework,
    make_homework_attachment,
    make_school_class,
    make_subject,
    make_teacher,
    make_teaching_assignment,
    make_user,
)
from tests.sample_files import tiny_pdf
from tests.support import GraphQLClient

NODE = "query($id: ID!) { node(id: $id) { ... on Attachment { id fileName url } } }"
HOMEWORK = "query($id: ID!) { node(id: $id) { ... on Homework { attachments { id url } } } }"
NOT_FOUND = {"error": "NOT_FOUND", "message": "Файл не найден"}


class _Bytes:
    def __init__(self, data: bytes) -> None:
        self.data = data

    async def read(self, size: int = -1, /) -> bytes:
        chunk, self.data = (self.data, b"") if size < 0 else (self.data[:size], self.data[size:])
        return chunk


@dataclass
class Cast:
    """Beyond the world's people: the class's other teachers and families at its edges."""

    homeroom: User  # the class's homeroom teacher, teaching nothing in it
    class_teacher: User  # teaches another subject in the class
    substitute: User  # stands in for the lesson's teacher that day
    late_parent: User  # their child joined the class after the lesson
    former_parent: User  # their child left the class before the lesson
    neighbour_parent: User  # their child is in another class of the school


@dataclass
class HomeworkFile:
    attachment_id: int
    homework_id: int


@pytest.fixture
async def cast(session: AsyncSession, world: World) -> Cast:
    school_id = world.school.id
    homeroom = await make_teacher(session, password=PASSWORD, school_id=school_id)
    world.school_class.homeroom_teacher_id = homeroom.id
    class_teacher = await make_teacher(session, password=PASSWORD, school_id=school_id)
    russian = await make_subject(session, school_id=school_id, name="Русский язык")
    await make_teaching_assignment(
        session, teacher_id=class_teacher.id, class_id=world.school_class.id, subject_id=russian.id
    )
    substitute = await make_teacher(session, password=PASSWORD, school_id=school_id)

    async def family(**enrolment: object) -> User:
        parent = await make_user(session, password=PASSWORD)
        child = await make_child(session)
        await make_enrollment(session, child_id=child.id, **enrolment)
        await make_guardianship(session, parent_id=parent.id, child_id=child.id)
        return parent

    late_parent = await family(class_id=world.school_class.id, starts_on=MONDAY + dt.timedelta(days=1))
    former_parent = await family(
        class_id=world.school_class.id, starts_on=world.year.starts_on, ends_on=MONDAY - dt.timedelta(days=1)
    )
    neighbour = await make_school_class(session, academic_year_id=world.year.id)
    neighbour_parent = await family(class_id=neighbour.id)
    await session.commit()
    return Cast(homeroom, class_teacher, substitute, late_parent, former_parent, neighbour_parent)


@pytest.fixture
async def homework_file(session: AsyncSession, settings: Settings, world: World, cast: Cast) -> HomeworkFile:
    """A PDF the maths teacher attached to Monday's homework (the substitute gave the lesson)."""
    key = await storage_for(settings.upload_dir).save(_Bytes(tiny_pdf("Задачи")))
    attachment = await make_attachment(
        session,
        owner_id=world.teacher.id,
        file_name="Задачи.pdf",
        size_bytes=len(tiny_pdf("Задачи")),
        sha256=hashlib.sha256(tiny_pdf("Задачи")).hexdigest(),
        storage_key=key,
    )
    lesson = await world.lesson(session, substitute_teacher_id=cast.substitute.id)
    homework = await make_homework(session, lesson_id=lesson.id)
    await make_homework_attachment(session, homework_id=homework.id, attachment_id=attachment.id)
    await session.commit()
    return HomeworkFile(attachment_id=attachment.id, homework_id=homework.id)


async def _download(gql: GraphQLClient, world: World, user: User, attachment_id: int) -> tuple[int, bytes]:
    token = await world.token(gql, user)
    response = await gql.http.get(
        f"/files/{gid('Attachment', attachment_id)}", headers={"Authorization": f"Bearer {token}"}
    )
    return response.status_code, response.content


async def test_families_of_the_class_download_the_files(
    gql: GraphQLClient, world: World, homework_file: HomeworkFile
) -> None:
    # the child's parent, the child with their own login, a classmate's parent
    for user in (world.parent, world.student, world.other_parent):
        status, content = await _download(gql, world, user, homework_file.attachment_id)
        assert (status, content) == (200, tiny_pdf("Задачи")), user.email
        node = await gql.data(
            NODE, {"id": gid("Attachment", homework_file.attachment_id)}, token=await world.token(gql, user)
        )
        assert node["node"]["fileName"] == "Задачи.pdf"


async def test_the_class_teachers_and_the_school_admin_download_the_files(
    gql: GraphQLClient, world: World, cast: Cast, homework_file: HomeworkFile
) -> None:
    for user in (world.teacher, cast.class_teacher, cast.homeroom, cast.substitute, world.admin):
        status, content = await _download(gql, world, user, homework_file.attachment_id)
        assert (status, content) == (200, tiny_pdf("Задачи")), user.email


async def test_everyone_else_is_told_the_file_does_not_exist(
    gql: GraphQLClient, world: World, cast: Cast, homework_file: HomeworkFile
) -> None:
    refused = (
        world.other_teacher,  # same school, teaches nothing in this class
        world.foreign_teacher,
        world.foreign_admin,
        world.operator,  # operators see no diary content
        cast.late_parent,  # the child was not yet in the class on the lesson's date
        cast.former_parent,  # the child had left the class by then
        cast.neighbour_parent,  # the child is in the parallel class
    )
    for user in refused:
        token = await world.token(gql, user)
        headers = {"Authorization": f"Bearer {token}"}
        theirs = await gql.http.get(f"/files/{gid('Attachment', homework_file.attachment_id)}", headers=headers)
        missing = await gql.http.get(f"/files/{homework_file.attachment_id + 1000}", headers=headers)
        for response in (theirs, missing):
            assert response.status_code == 404, user.email
            assert response.json() == NOT_FOUND
        node = await gql.data(NODE, {"id": gid("Attachment", homework_file.attachment_id)}, token=token)
        assert node["node"] is None, user.email


async def test_without_a_token_the_answer_is_401(gql: GraphQLClient, homework_file: HomeworkFile) -> None:
    response = await gql.http.get(f"/files/{homework_file.attachment_id}")
    assert response.status_code == 401


async def test_the_url_listed_on_the_homework_is_where_the_parent_downloads(
    gql: GraphQLClient, world: World, homework_file: HomeworkFile
) -> None:
    token = await world.token(gql, world.parent)
    found = await gql.data(HOMEWORK, {"id": gid("Homework", homework_file.homework_id)}, token=token)
    [listed] = found["node"]["attachments"]
    response = await gql.http.get(listed["url"], headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200
    assert response.content == tiny_pdf("Задачи")


async def test_a_teacher_who_leaves_the_school_loses_the_files(
    gql: GraphQLClient, session: AsyncSession, world: World, cast: Cast, homework_file: HomeworkFile
) -> None:
    status, _ = await _download(gql, world, cast.class_teacher, homework_file.attachment_id)
    assert status == 200
    # the assignment stays, the membership ends
    await session.execute(
        update(StaffMembership).where(StaffMembership.user_id == cast.class_teacher.id).values(active=False)
    )
    await session.commit()
    status, _ = await _download(gql, world, cast.class_teacher, homework_file.attachment_id)
    assert status == 404
