"""assignHomework and markHomeworkDone over HTTP; completion counts for the teacher."""

from __future__ import annotations

import datetime as dt
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from ediary_gql.context import AppServices
from ediary_gql.db.models.attachments import Attachment
from ediary_gql.db.models.homework import Homework
from ediary_gql.db.models.lessons import Lesson
from tests.diary_writes_support import World, codes, error_codes, gid
from tests.factories import make_attachment, make_homework
from tests.sample_files import tiny_pdf, tiny_png, windows_exe
from tests.support import GraphQLClient, stored_files

ASSIGN = """
mutation($i: AssignHomeworkInput!) {
  assignHomework(input: $i) {
    homework { id text publishedOn dueOn expectedMinutes lesson { id } attachments { id fileName } }
    userErrors { field code message }
  }
}"""
DONE = """
mutation($i: MarkHomeworkDoneInput!) {
  markHomeworkDone(input: $i) { done homework { id } userErrors { field code message } }
}"""
COMPLETION = "query($id: ID!) { node(id: $id) { ... on Homework { id completion { done total } } } }"


def _assign(lesson: Lesson, **overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "lessonId": gid("Lesson", lesson.id),
        "text": "№ 125, 126",
        "dueOn": (lesson.date + dt.timedelta(days=2)).isoformat(),
        "expectedMinutes": 30,
    }
    data.update(overrides)
    return {"i": data}


async def test_the_teacher_assigns_homework_with_a_file(
    gql: GraphQLClient, session: AsyncSession, world: World, lesson: Lesson
) -> None:
    file = await make_attachment(session, owner_id=world.teacher.id)
    await session.commit()
    token = await world.token(gql, world.teacher)
    data = await gql.data(ASSIGN, _assign(lesson, attachmentIds=[gid("Attachment", file.id)]), token=token)
    homework = data["assignHomework"]["homework"]
    assert data["assignHomework"]["userErrors"] == []
    assert (homework["text"], homework["publishedOn"], homework["expectedMinutes"]) == (
        "№ 125, 126",
        lesson.date.isoformat(),
        30,
    )
    assert [a["id"] for a in homework["attachments"]] == [gid("Attachment", file.id)]


FILES = """
mutation($i: AssignHomeworkInput!) {
  assignHomework(input: $i) {
    homework { id attachments { fileName contentType url } }
    userErrors { field code message }
  }
}"""


async def test_files_go_with_the_homework_and_the_family_downloads_them(
    gql: GraphQLClient, session: AsyncSession, world: World, lesson: Lesson
) -> None:
    earlier = await make_attachment(session, owner_id=world.teacher.id)
    await session.commit()
    teacher = await world.token(gql, world.teacher)
    variables = _assign(lesson, attachmentIds=[gid("Attachment", earlier.id)], files=[None, None])
    files = {
        "i.files.0": ("plan.pdf", tiny_pdf(), "application/pdf"),
        "i.files.1": ("map.png", tiny_png(), "image/png"),
    }

    response = await gql.upload(FILES, variables, files, token=teacher)

    payload = response.json()["data"]["assignHomework"]
    assert payload["userErrors"] == []
    attached = payload["homework"]["attachments"]
    assert [(a["fileName"], a["contentType"]) for a in attached] == [
        (earlier.file_name, earlier.content_type),
        ("plan.pdf", "application/pdf"),
        ("map.png", "image/png"),
    ]
    # the class's family downloads the new file as sent; a parent of another class may not
    parent, stranger = await world.token(gql, world.parent), await world.token(gql, world.foreign_teacher)
    async with httpx.AsyncClient() as http:
        got = await http.get(attached[1]["url"], headers={"Authorization": f"Bearer {parent}"})
        refused = await http.get(attached[1]["url"], headers={"Authorization": f"Bearer {stranger}"})
    assert (got.status_code, got.content) == (200, tiny_pdf())
    assert refused.status_code == 404


async def test_a_refused_file_is_named_and_nothing_is_kept(
    gql: GraphQLClient, session: AsyncSession, world: World, lesson: Lesson, app_services: AppServices
) -> None:
    stored_before = stored_files(app_services.settings)
    teacher = await world.token(gql, world.teacher)
    files = {
        "i.files.0": ("plan.pdf", tiny_pdf(), "application/pdf"),
        "i.files.1": ("x.pdf", windows_exe(), "application/pdf"),
    }

    response = await gql.upload(FILES, _assign(lesson, text=" ", files=[None, None]), files, token=teacher)

    assert sorted(codes(response.json()["data"]["assignHomework"])) == [
        ("FILE_TYPE_NOT_ALLOWED", ["files", "1"]),
        ("REQUIRED", ["text"]),
    ]
    assert await session.scalar(select(func.count(Homework.id))) == 0
    assert await session.scalar(select(func.count(Attachment.id))) == 0
    assert stored_files(app_services.settings) == stored_before  # the good file went too


async def test_files_from_someone_who_may_not_assign_are_not_kept(
    gql: GraphQLClient, session: AsyncSession, world: World, lesson: Lesson, app_services: AppServices
) -> None:
    stored_before = stored_files(app_services.settings)
    stranger = await world.token(gql, world.foreign_teacher)
    files = {"i.files.0": ("plan.pdf", tiny_pdf(), "application/pdf")}

    response = await gql.upload(FILES, _assign(lesson, files=[None]), files, token=stranger)

    assert error_codes(response.json()) == ["FORBIDDEN"]
    assert await session.scalar(select(func.count(Attachment.id))) == 0
    assert stored_files(app_services.settings) == stored_before


async def test_homework_problems_at_once(
    gql: GraphQLClient, session: AsyncSession, world: World, lesson: Lesson
) -> None:
    someone_elses = await make_attachment(session, owner_id=world.admin.id)
    await session.commit()
    token = await world.token(gql, world.teacher)
    data = await gql.data(
        ASSIGN,
        _assign(
            lesson,
            text=" ",
            dueOn=(lesson.date - dt.timedelta(days=1)).isoformat(),
            expectedMinutes=0,
            attachmentIds=[gid("Attachment", someone_elses.id)],
        ),
        token=token,
    )
    assert sorted(codes(data["assignHomework"])) == [
        ("INVALID", ["dueOn"]),
        ("INVALID", ["expectedMinutes"]),
        ("NOT_FOUND", ["attachmentIds", "0"]),
        ("REQUIRED", ["text"]),
    ]


@pytest.mark.parametrize("who", ["other_teacher", "foreign_teacher", "parent", "foreign_admin", "operator"])
async def test_others_may_not_assign(
    gql: GraphQLClient, session: AsyncSession, world: World, lesson: Lesson, who: str
) -> None:
    body = await gql.post(ASSIGN, _assign(lesson), token=await world.token(gql, getattr(world, who)))
    assert error_codes(body) == ["FORBIDDEN"]
    assert await session.scalar(select(func.count(Homework.id))) == 0


async def test_student_and_parent_mark_done_and_the_teacher_sees_completion(
    gql: GraphQLClient, session: AsyncSession, world: World, lesson: Lesson
) -> None:
    homework = await make_homework(session, lesson_id=lesson.id)
    await session.commit()
    hid = gid("Homework", homework.id)
    teacher = await world.token(gql, world.teacher)
    assert (await gql.data(COMPLETION, {"id": hid}, token=teacher))["node"]["completion"] == {"done": 0, "total": 2}

    # the student marks their own; the classmate's parent marks theirs
    for who, child in (("student", world.child), ("other_parent", world.other_child)):
        data = await gql.data(
            DONE,
            {"i": {"homeworkId": hid, "childId": gid("Child", child.id)}},
            token=await world.token(gql, getattr(world, who)),
        )
        assert (data["markHomeworkDone"]["done"], data["markHomeworkDone"]["userErrors"]) == (True, [])
    assert (await gql.data(COMPLETION, {"id": hid}, token=teacher))["node"]["completion"] == {"done": 2, "total": 2}

    # and unmarks it
    parent = await world.token(gql, world.parent)
    await gql.data(
        DONE, {"i": {"homeworkId": hid, "childId": gid("Child", world.child.id), "done": False}}, token=parent
    )
    assert (await gql.data(COMPLETION, {"id": hid}, token=teacher))["node"]["completion"] == {"done": 1, "total": 2}

    # families see the homework but not the class's completion
    node = (await gql.data(COMPLETION, {"id": hid}, token=parent))["node"]
    assert node["id"] == hid
    assert node["completion"] is None


@pytest.mark.parametrize("who", ["other_parent", "teacher", "admin", "operator"])
async def test_only_the_child_or_their_guardian_marks_done(
    gql: GraphQLClient, session: AsyncSession, world: World, lesson: Lesson, who: str
) -> None:
    homework = await make_homework(session, lesson_id=lesson.id)
    await session.commit()
    body = await gql.post(
        DONE,
        {"i": {"homeworkId": gid("Homework", homework.id), "childId": gid("Child", world.child.id)}},
        token=await world.token(gql, getattr(world, who)),
    )
    assert error_codes(body) == ["FORBIDDEN"]


async def test_homework_is_hidden_from_other_schools(
    gql: GraphQLClient, session: AsyncSession, world: World, lesson: Lesson
) -> None:
    homework = await make_homework(session, lesson_id=lesson.id)
    await session.commit()
    for who in ("foreign_teacher", "foreign_admin", "operator"):
        data = await gql.data(
            COMPLETION, {"id": gid("Homework", homework.id)}, token=await world.token(gql, getattr(world, who))
        )
        assert data["node"] is None, who
