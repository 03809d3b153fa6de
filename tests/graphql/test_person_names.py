"""One rule for people's names in every workflow that takes one (services/person_names.py):
register, createApplication, enrollChild and importRoster's children, teachers and
guardians answer the same code and message for the same name, and store it tidied the
same way. (`ediary-gql users create`: tests/test_cli.py.)"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from ediary_gql.db.models.children import Child
from ediary_gql.db.models.users import User
from ediary_gql.services import person_names
from tests.application_support import create, form, make_world
from tests.factories import make_school_class
from tests.registration_support import REGISTER, registration
from tests.roster_import_support import EXAMPLES, ORDER, add_quarter
from tests.school_setup_support import build_world, gid, token
from tests.support import GraphQLClient

# (code, message) of each problem on the last name, and the last name stored (None: nothing stored)
Outcome = tuple[list[tuple[str, str]], str | None]
Workflow = Callable[[GraphQLClient, AsyncSession, str], Awaitable[Outcome]]

ENROLL = """mutation($i: EnrollChildInput!) {
  enrollChild(input: $i) { child { lastName } userErrors { field code message } }
}"""
IMPORT = """mutation($i: ImportRosterInput!) {
  importRoster(input: $i) { applied problems { file line column code message } userErrors { code } }
}"""


def _on(errors: list[dict[str, Any]], *path: str) -> list[tuple[str, str]]:
    return [(e["code"], e["message"]) for e in errors if e["field"] == list(path)]


async def _register(gql: GraphQLClient, session: AsyncSession, last_name: str) -> Outcome:
    payload = (await gql.data(REGISTER, {"i": registration(lastName=last_name)}))["register"]
    user = payload["user"]
    return _on(payload["userErrors"], "lastName"), user["lastName"] if user else None


async def _apply(gql: GraphQLClient, session: AsyncSession, last_name: str) -> Outcome:
    world = await make_world(session, gql)
    payload = await create(gql, world.parent.token, form(world, lastName=last_name))
    application = payload["application"]
    return _on(payload["userErrors"], "child", "lastName"), application["child"]["lastName"] if application else None


async def _enroll(gql: GraphQLClient, session: AsyncSession, last_name: str) -> Outcome:
    w = await build_world(session)
    klass = await make_school_class(session, academic_year_id=w.year.id)
    await session.commit()
    child_input = {
        "lastName": last_name,
        "firstName": "Пётр",
        "birthDate": "2015-03-14",
        "sex": "MALE",
        "snils": "112-233-445 95",
    }
    i = {"classId": gid("SchoolClass", klass.id), "child": child_input, "startsOn": "2026-09-01"}
    payload = (await gql.data(ENROLL, {"i": i}, token=await token(gql, w.admin)))["enrollChild"]
    child = payload["child"]
    return _on(payload["userErrors"], "child", "lastName"), child["lastName"] if child else None


def _importing(file: str, stored: Callable[[AsyncSession], Awaitable[str | None]]) -> Workflow:
    """importRoster of the example files, the first row of `file` with the given last name."""

    async def run(gql: GraphQLClient, session: AsyncSession, last_name: str) -> Outcome:
        w = await build_world(session)
        await add_quarter(session, w.year)
        await session.commit()
        files = []
        for name in ORDER:
            text = (EXAMPLES / f"{name}.csv").read_text(encoding="utf-8")
            if name == file:
                lines = text.splitlines()
                cells = lines[1].split(",")
                cells[lines[0].split(",").index("lastName")] = last_name
                lines[1] = ",".join(cells)
                text = "\n".join(lines) + "\n"
            files.append((f"{name}.csv", text.encode(), "text/csv"))
        variables = {"i": {"schoolId": w.school_gid, "files": [None] * len(files), "dryRun": False}}
        upload = {f"i.files.{n}": f for n, f in enumerate(files)}
        response = await gql.upload(IMPORT, variables, upload, token=await token(gql, w.admin))
        payload = response.json()["data"]["importRoster"]
        problems = [
            (p["code"], p["message"])
            for p in payload["problems"]
            if (p["file"], p["line"], p["column"]) == (f"{file}.csv", 2, "lastName")
        ]
        await session.commit()
        return problems, await stored(session) if payload["applied"] else None

    return run


async def _child_ch001(session: AsyncSession) -> str | None:
    return await session.scalar(select(Child.last_name).where(Child.external_id == "CH-001"))


def _user_by_email(email: str) -> Callable[[AsyncSession], Awaitable[str | None]]:
    async def read(session: AsyncSession) -> str | None:
        return await session.scalar(select(User.last_name).where(User.email == email))

    return read


WORKFLOWS: dict[str, Workflow] = {
    "register": _register,
    "createApplication": _apply,
    "enrollChild": _enroll,
    "importRoster children": _importing("children", _child_ch001),
    "importRoster teachers": _importing("teachers", _user_by_email("petrova@school.example.ru")),
    "importRoster guardians": _importing("guardians", _user_by_email("ivanova.parent@example.ru")),
}
INVALID = [("INVALID", person_names.INVALID_MESSAGE)]


@pytest.mark.parametrize("workflow", WORKFLOWS)
@pytest.mark.parametrize(
    "last_name",
    ["Smith", "Петроva", "-Петрова", "Салтыков--Щедрин", "Петров2"],
    ids=["latin", "half-latin", "leading-hyphen", "double-hyphen", "digit"],
)
async def test_a_name_refused_in_one_workflow_is_refused_in_every_one_alike(
    workflow: str, last_name: str, gql: GraphQLClient, session: AsyncSession
) -> None:
    # when a workflow is given a last name in Latin letters, a half-Latin one, or one with a stray hyphen or digit
    problems, stored = await WORKFLOWS[workflow](gql, session, last_name)
    # then it is refused on that field with the one code and message, and nothing is stored
    assert problems == INVALID
    assert stored is None


@pytest.mark.parametrize("workflow", WORKFLOWS)
async def test_every_workflow_stores_a_name_tidied_the_same_way(
    workflow: str, gql: GraphQLClient, session: AsyncSession
) -> None:
    # given a name with a typographic dash and apostrophe, a Ё, and extra spaces
    typed = "  Д’Артаньян–Семёнова  "
    # when a workflow takes it
    problems, stored = await WORKFLOWS[workflow](gql, session, typed)
    # then it is accepted and kept as the one canonical spelling
    assert problems == []
    assert stored == "Д'Артаньян-Семёнова"


@pytest.mark.parametrize("workflow", WORKFLOWS)
async def test_the_same_length_limit_everywhere(workflow: str, gql: GraphQLClient, session: AsyncSession) -> None:
    problems, stored = await WORKFLOWS[workflow](gql, session, "Ы" * (person_names.MAX_LENGTH + 1))
    assert problems == [("TOO_LONG", person_names.TOO_LONG_MESSAGE)]
    assert stored is None
