"""What the applications tests share: a school with its admin and a parent, signed in, and
the GraphQL operations of the workflow."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession
from strawberry.relay import to_base64

from ediary_gql.db.models.classes import SchoolClass
from ediary_gql.db.models.enums import StaffRole
from ediary_gql.db.models.schools import School
from tests.factories import make_school, make_school_class, make_staff_membership, make_user
from tests.sample_files import tiny_pdf
from tests.support import GraphQLClient

PASSWORD = "correct horse battery"

APPLICATION = """
  id number status dueOn extended rejectionReason submittedAt overdue availableActions className
  child { lastName firstName middleName birthDate sex snils citizenship
          birthCertificate { series number issuedOn } }
  school { id }
  history { fromStatus toStatus action comment at actor { id } }
  attachments { kind file { id url contentType } }
"""
CREATE = (
    "mutation($i: CreateApplicationInput!) { createApplication(input: $i) { application {"
    + APPLICATION
    + "} userErrors { field code message } } }"
)
UPDATE = (
    "mutation($i: UpdateApplicationInput!) { updateApplication(input: $i) { application {"
    + APPLICATION
    + "} userErrors { field code message } } }"
)
SUBMIT = (
    "mutation($i: SubmitApplicationInput!) { submitApplication(input: $i) { application {"
    + APPLICATION
    + "} userErrors { field code message } } }"
)
REVIEW = (
    "mutation($i: ReviewApplicationInput!) { reviewApplication(input: $i) { application {"
    + APPLICATION
    + "} userErrors { field code message } } }"
)
SCAN = ("свидетельство.pdf", tiny_pdf("Свидетельство о рождении"), "application/pdf")


@dataclass
class Person:
    user_id: int
    token: str


@dataclass
class World:
    school: School
    school_class: SchoolClass
    admin: Person
    parent: Person

    @property
    def school_gid(self) -> str:
        return to_base64("School", self.school.id)

    @property
    def class_gid(self) -> str:
        return to_base64("SchoolClass", self.school_class.id)


async def person(session: AsyncSession, gql: GraphQLClient, email: str, **kw: Any) -> Person:
    user = await make_user(session, email=email, password=PASSWORD, **kw)
    await session.commit()
    return Person(user.id, await gql.sign_in(email, PASSWORD))


async def staff(
    session: AsyncSession, gql: GraphQLClient, email: str, school: School, role: StaffRole = StaffRole.SCHOOL_ADMIN
) -> Person:
    user = await make_user(session, email=email, password=PASSWORD)
    await make_staff_membership(session, user_id=user.id, school_id=school.id, role=role)
    await session.commit()
    return Person(user.id, await gql.sign_in(email, PASSWORD))


async def make_world(session: AsyncSession, gql: GraphQLClient, **school_kw: Any) -> World:
    school = await make_school(session, **school_kw)
    school_class = await make_school_class(session, school_id=school.id, level=1, letter="А")
    await session.commit()
    admin = await staff(session, gql, "admin@school.example.ru", school)
    parent = await person(session, gql, "mama@example.ru")
    return World(school=school, school_class=school_class, admin=admin, parent=parent)


def form(world: World, **child: Any) -> dict[str, Any]:
    """A complete, valid application form."""
    return {
        "child": {
            "lastName": "Иванова-Петрова",
            "firstName": "Мария",
            "middleName": "Сергеевна",
            "birthDate": "2019-05-10",
            "sex": "FEMALE",
            "snils": "112-233-445 95",
            "birthCertificate": {"series": "iv-аб", "number": "123456", "issuedOn": "2019-05-20"},
            "citizenship": "643",
            **child,
        },
        "regionCode": None,
        "settlementId": None,
        "schoolId": world.school_gid,
        "classId": world.class_gid,
    }


async def with_place(session: AsyncSession, world: World, data: dict[str, Any]) -> dict[str, Any]:
    from ediary_gql.db.models.geo import Settlement

    settlement = await session.get(Settlement, world.school.settlement_id)
    assert settlement is not None
    return {**data, "regionCode": settlement.region_code, "settlementId": to_base64("Settlement", settlement.id)}


async def create(
    gql: GraphQLClient,
    token: str,
    data: dict[str, Any],
    files: list[tuple[str, tuple[str, bytes, str]]] | None = None,
) -> dict[str, Any]:
    """createApplication; `files` as (kind, (name, bytes, content type)) go as a multipart request."""
    if files is None:
        return (await gql.data(CREATE, {"i": data}, token=token))["createApplication"]  # type: ignore[no-any-return]
    variables = {"i": {**data, "attachments": [{"kind": kind, "file": None} for kind, _ in files]}}
    upload = {f"i.attachments.{n}.file": spec for n, (_, spec) in enumerate(files)}
    response = await gql.upload(CREATE, variables, upload, token=token)
    assert response.status_code == 200, response.text
    body = response.json()
    assert "errors" not in body, body["errors"]
    return body["data"]["createApplication"]  # type: ignore[no-any-return]


async def submit(gql: GraphQLClient, token: str, application_id: str) -> dict[str, Any]:
    return (await gql.data(SUBMIT, {"i": {"applicationId": application_id}}, token=token))["submitApplication"]  # type: ignore[no-any-return]


async def review(
    gql: GraphQLClient, token: str, application_id: str, action: str, comment: str | None = None
) -> dict[str, Any]:
    variables = {"i": {"applicationId": application_id, "action": action, "comment": comment}}
    return (await gql.data(REVIEW, variables, token=token))["reviewApplication"]  # type: ignore[no-any-return]


async def submitted(session: AsyncSession, gql: GraphQLClient, world: World) -> dict[str, Any]:
    """A submitted application of the world's parent, with its birth certificate scan."""
    data = await with_place(session, world, form(world))
    draft = await create(gql, world.parent.token, data, [("BIRTH_CERTIFICATE", SCAN)])
    assert draft["userErrors"] == [], draft
    result = await submit(gql, world.parent.token, draft["application"]["id"])
    assert result["userErrors"] == [], result
    return result["application"]  # type: ignore[no-any-return]
