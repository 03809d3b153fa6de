"""Managing a school's integrations over GraphQL: createIntegration (the secret shown
once and kept hashed), School.integrations, rotateIntegrationSecret and
revokeIntegration; who is refused each (another school's admin, a teacher, an operator,
an integration itself); bad input; and what an integration's scopes open at its school
(diary:read, events:read on attendanceEvents(schoolId)) and what they do not."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from ediary_gql.auth import tokens
from ediary_gql.context import AppServices
from ediary_gql.db.models.audit import AuditEntry
from ediary_gql.db.models.integrations import Integration, IntegrationSecret
from ediary_gql.db.models.schools import StaffMembership
from ediary_gql.db.models.users import User
from ediary_gql.events import channels
from tests.diary_writes_support import World, error_codes, gid, make_world
from tests.integration_support import create_integration, integration_token, make_integration, request_token
from tests.support import GraphQLClient, error_code, wait_subscribed, ws_connect

SCHOOL_INTEGRATIONS = """
query($s: ID!) { node(id: $s) { ... on School { integrations { id name clientId scopes status user { id } } } } }
"""
NODE = "query($id: ID!) { node(id: $id) { id ... on Integration { name } } }"
ROTATE = """mutation($i: IntegrationInput!) {
  rotateIntegrationSecret(input: $i) { clientSecret previousSecretExpiresAt userErrors { field code } }
}"""
REVOKE = """mutation($i: IntegrationInput!) {
  revokeIntegration(input: $i) { integration { status revokedAt } userErrors { field code } }
}"""
DIARY = 'query($c: ID!) { diary(childId: $c, from: "2026-09-07", to: "2026-09-07") { date } }'
EVENTS = "subscription($school: ID) { attendanceEvents(schoolId: $school) { lesson { id } } }"


@pytest.fixture
async def world(session: AsyncSession) -> World:
    return await make_world(session)


async def _foreign_school(session: AsyncSession, world: World) -> int:
    school = await session.scalar(
        select(StaffMembership.school_id).where(StaffMembership.user_id == world.foreign_admin.id)
    )
    assert school is not None
    return int(school)


async def _counts(session: AsyncSession) -> tuple[int, int, int]:
    integrations = await session.scalar(select(func.count()).select_from(Integration))
    secrets = await session.scalar(select(func.count()).select_from(IntegrationSecret))
    users = await session.scalar(select(func.count()).select_from(User))
    await session.commit()  # end the read, so the next one sees the server's commits
    return int(integrations or 0), int(secrets or 0), int(users or 0)


def _ids(integration_id: str) -> dict[str, Any]:
    return {"i": {"integrationId": integration_id}}


# --- createIntegration -------------------------------------------------------------


async def test_an_admin_creates_one_and_sees_its_secret_once_stored_hashed(
    gql: GraphQLClient, session: AsyncSession, world: World
) -> None:
    admin = await world.token(gql, world.admin)
    made = await create_integration(
        gql, school_id=world.school.id, admin_token=admin, scopes=["grades:write", "roster:read", "grades:write"]
    )
    assert made["userErrors"] == []
    assert made["integration"]["scopes"] == ["grades:write", "roster:read"]
    assert made["integration"]["status"] == "ACTIVE"
    secret = made["clientSecret"]
    assert made["clientId"].startswith("ed_")
    assert len(secret) >= 40
    # only the secret's hash is kept, and the audit entry names no secret
    stored = list(await session.scalars(select(IntegrationSecret.secret_hash)))
    assert stored == [tokens.hash_secret(secret)]
    entry = await session.scalar(select(AuditEntry).where(AuditEntry.action == "createIntegration"))
    assert entry is not None
    assert secret not in repr(entry.after)
    await session.commit()
    # the school's list shows it, with no secret to read again
    listed = (await gql.data(SCHOOL_INTEGRATIONS, {"s": gid("School", world.school.id)}, token=admin))["node"]
    assert [(i["id"], i["clientId"], i["status"]) for i in listed["integrations"]] == [
        (made["integration"]["id"], made["clientId"], "ACTIVE")
    ]
    assert "clientSecret" not in listed["integrations"][0]
    # and the secret works at the token endpoint
    assert (await request_token(gql.http, made["clientId"], secret)).status_code == 200


@pytest.mark.parametrize(
    ("name", "scopes", "expected"),
    [
        ("  ", ["roster:read"], {(("name",), "REQUIRED")}),
        ("x" * 121, ["roster:read"], {(("name",), "TOO_LONG")}),
        ("МИС", [], {(("scopes",), "REQUIRED")}),
        ("МИС", ["roster:read", "admin:everything"], {(("scopes", "1"), "INVALID")}),
        ("", ["nope"], {(("name",), "REQUIRED"), (("scopes", "0"), "INVALID")}),
    ],
)
async def test_bad_input_names_the_field_and_writes_nothing(
    gql: GraphQLClient, session: AsyncSession, world: World, name: str, scopes: list[str], expected: set[Any]
) -> None:
    admin = await world.token(gql, world.admin)
    before = await _counts(session)
    made = await create_integration(gql, school_id=world.school.id, admin_token=admin, scopes=scopes, name=name)
    assert {(tuple(e["field"]), e["code"]) for e in made["userErrors"]} == expected
    assert made["clientSecret"] is None
    assert await _counts(session) == before


@pytest.mark.parametrize("who", ["foreign_admin", "teacher", "operator", "parent"])
async def test_only_the_schools_admin_may_create_one(
    gql: GraphQLClient, session: AsyncSession, world: World, who: str
) -> None:
    token = await world.token(gql, getattr(world, who))
    before = await _counts(session)
    body = await gql.post(
        "mutation($i: CreateIntegrationInput!) { createIntegration(input: $i) { clientSecret } }",
        {"i": {"schoolId": gid("School", world.school.id), "name": "МИС", "scopes": ["roster:read"]}},
        token=token,
    )
    assert error_codes(body) == ["FORBIDDEN"]
    assert await _counts(session) == before


async def test_anonymous_and_an_integration_itself_may_not_create_one(
    gql: GraphQLClient, session: AsyncSession, world: World
) -> None:
    admin = await world.token(gql, world.admin)
    client_id, secret = await make_integration(
        session, gql, school_id=world.school.id, admin_token=admin, scopes=["roster:write", "roster:read"]
    )
    token = await integration_token(gql.http, client_id, secret)
    variables = {"i": {"schoolId": gid("School", world.school.id), "name": "МИС", "scopes": ["roster:read"]}}
    query = "mutation($i: CreateIntegrationInput!) { createIntegration(input: $i) { clientSecret } }"
    assert error_codes(await gql.post(query, variables, token=token)) == ["FORBIDDEN"]
    assert error_codes(await gql.post(query, variables)) == ["UNAUTHENTICATED"]


# --- who sees, rotates and revokes ---------------------------------------------------


@pytest.mark.parametrize("who", ["foreign_admin", "teacher", "operator"])
async def test_others_neither_see_rotate_nor_revoke_it(
    gql: GraphQLClient, session: AsyncSession, world: World, who: str
) -> None:
    admin = await world.token(gql, world.admin)
    made = await create_integration(gql, school_id=world.school.id, admin_token=admin, scopes=["roster:read"])
    integration_id = made["integration"]["id"]
    token = await world.token(gql, getattr(world, who))
    listed = await gql.data(SCHOOL_INTEGRATIONS, {"s": gid("School", world.school.id)}, token=token)
    assert listed["node"] is None or listed["node"]["integrations"] is None
    assert (await gql.data(NODE, {"id": integration_id}, token=token))["node"] is None
    # another school's integration is not told apart from none
    rotated = (await gql.data(ROTATE, _ids(integration_id), token=token))["rotateIntegrationSecret"]
    assert rotated == {
        "clientSecret": None,
        "previousSecretExpiresAt": None,
        "userErrors": [{"field": ["integrationId"], "code": "NOT_FOUND"}],
    }
    revoked = (await gql.data(REVOKE, _ids(integration_id), token=token))["revokeIntegration"]
    assert revoked["userErrors"] == [{"field": ["integrationId"], "code": "NOT_FOUND"}]
    # nothing changed: one secret, still active, and the admin sees it
    assert await session.scalar(select(func.count()).select_from(IntegrationSecret)) == 1
    await session.commit()
    assert (await gql.data(NODE, {"id": integration_id}, token=admin))["node"]["name"] == "Школьная МИС"
    assert (await request_token(gql.http, made["clientId"], made["clientSecret"])).status_code == 200


async def test_an_integration_may_not_rotate_or_revoke_itself(
    gql: GraphQLClient, session: AsyncSession, world: World
) -> None:
    admin = await world.token(gql, world.admin)
    made = await create_integration(gql, school_id=world.school.id, admin_token=admin, scopes=["roster:read"])
    token = await integration_token(gql.http, made["clientId"], made["clientSecret"])
    ids = _ids(made["integration"]["id"])
    assert (await gql.data(ROTATE, ids, token=token))["rotateIntegrationSecret"]["userErrors"] == [
        {"field": ["integrationId"], "code": "NOT_FOUND"}
    ]
    assert (await gql.data(REVOKE, ids, token=token))["revokeIntegration"]["userErrors"] == [
        {"field": ["integrationId"], "code": "NOT_FOUND"}
    ]
    listed = await gql.data(SCHOOL_INTEGRATIONS, {"s": gid("School", world.school.id)}, token=token)
    assert listed["node"] is None or listed["node"]["integrations"] is None


async def test_a_revoked_integration_is_neither_rotated_nor_revoked_again_nor_given_tokens(
    gql: GraphQLClient, session: AsyncSession, world: World
) -> None:
    admin = await world.token(gql, world.admin)
    made = await create_integration(gql, school_id=world.school.id, admin_token=admin, scopes=["roster:read"])
    ids = _ids(made["integration"]["id"])
    first = (await gql.data(REVOKE, ids, token=admin))["revokeIntegration"]
    assert first["userErrors"] == []
    assert first["integration"]["status"] == "REVOKED"
    assert first["integration"]["revokedAt"] is not None
    again = (await gql.data(REVOKE, ids, token=admin))["revokeIntegration"]
    assert again["userErrors"] == [{"field": ["integrationId"], "code": "INVALID_STATE"}]
    rotated = (await gql.data(ROTATE, ids, token=admin))["rotateIntegrationSecret"]
    assert rotated["userErrors"] == [{"field": ["integrationId"], "code": "INVALID_STATE"}]
    assert rotated["clientSecret"] is None
    response = await request_token(gql.http, made["clientId"], made["clientSecret"])
    assert (response.status_code, response.json()["error"]) == (401, "invalid_client")
    # the admin still lists it, as revoked
    listed = (await gql.data(SCHOOL_INTEGRATIONS, {"s": gid("School", world.school.id)}, token=admin))["node"]
    assert [i["status"] for i in listed["integrations"]] == ["REVOKED"]


# --- what its scopes open ------------------------------------------------------------


async def test_diary_read_reads_its_schools_diary_and_no_other_scope_does(
    gql: GraphQLClient, session: AsyncSession, world: World
) -> None:
    admin = await world.token(gql, world.admin)
    reader_id, reader_secret = await make_integration(
        session, gql, school_id=world.school.id, admin_token=admin, scopes=["diary:read"]
    )
    writer_id, writer_secret = await make_integration(
        session, gql, school_id=world.school.id, admin_token=admin, scopes=["grades:write", "events:read"]
    )
    child = {"c": gid("Child", world.child.id)}
    reader = await integration_token(gql.http, reader_id, reader_secret)
    assert (await gql.data(DIARY, child, token=reader))["diary"] is not None
    writer = await integration_token(gql.http, writer_id, writer_secret)
    assert error_codes(await gql.post(DIARY, child, token=writer)) == ["FORBIDDEN"]


async def test_attendance_events_of_the_school_need_events_read_at_that_school(
    gql: GraphQLClient, session: AsyncSession, world: World, app_services: AppServices, ws_url: str
) -> None:
    admin = await world.token(gql, world.admin)
    foreign_admin = await world.token(gql, world.foreign_admin)
    school = {"school": gid("School", world.school.id)}
    # with events:read at the school: it listens
    client_id, secret = await make_integration(
        session, gql, school_id=world.school.id, admin_token=admin, scopes=["events:read", "grades:write"]
    )
    listening = await integration_token(gql.http, client_id, secret)
    async with ws_connect(ws_url) as ws:
        await ws.start(EVENTS, school, token=listening)
        await wait_subscribed(app_services, channels.school_attendance(world.school.id))
    # without events:read (the integration's, or its token's, narrowed), and with it at
    # another school: refused
    other_scopes, other_secret = await make_integration(
        session, gql, school_id=world.school.id, admin_token=admin, scopes=["attendance:write", "diary:read"]
    )
    foreign_id, foreign_secret = await make_integration(
        session, gql, school_id=await _foreign_school(session, world), admin_token=foreign_admin, scopes=["events:read"]
    )
    for refused in (
        await integration_token(gql.http, other_scopes, other_secret),
        await integration_token(gql.http, foreign_id, foreign_secret),
        await integration_token(gql.http, client_id, secret, ["grades:write"]),
    ):
        async with ws_connect(ws_url) as ws:
            op = await ws.start(EVENTS, school, token=refused)
            message = await ws.receive()
            assert (message["id"], error_code(message)) == (op, "FORBIDDEN")
