"""POST /oauth/token over real HTTP: the client-credentials grant of RFC 6749 §4.4 (a form
body, HTTP Basic or the form's credentials), its errors as JSON (§5.2), and what its
tokens may do at /graphql: scoped, at their one school, refused once expired or revoked,
and a revoked integration's open subscription ended at once."""

from __future__ import annotations

import base64
import datetime as dt
from typing import Any

import httpx
import pytest
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from ediary_gql.auth import tokens
from ediary_gql.context import AppServices
from ediary_gql.db.base import utcnow
from ediary_gql.db.models.audit import AuditEntry
from ediary_gql.db.models.grades import Grade
from ediary_gql.db.models.integrations import Integration, IntegrationSecret
from ediary_gql.db.models.lessons import Lesson
from ediary_gql.db.models.users import AuthSession
from ediary_gql.events import channels
from ediary_gql.settings import Settings
from tests.diary_writes_support import World, error_codes, gid, make_world
from tests.integration_support import TOKEN_PATH, integration_token, make_integration, request_token
from tests.support import GraphQLClient, data_of, error_code, wait_subscribed, ws_connect

ALL_SCOPES = ["attendance:write", "diary:read", "events:read", "grades:write", "roster:read", "roster:write"]
ME = "{ me { id lastName firstName } }"
ENTER = "mutation($i: EnterGradeInput!) { enterGrade(input: $i) { grade { id teacher { id } } userErrors { code } } }"
MARK = "mutation($i: MarkAttendanceInput!) { markAttendance(input: $i) { userErrors { code field } } }"
REVOKE = (
    "mutation($i: IntegrationInput!) { revokeIntegration(input: $i) { integration { status } userErrors { code } } }"
)
ROTATE = """mutation($i: IntegrationInput!) {
  rotateIntegrationSecret(input: $i) { clientSecret previousSecretExpiresAt userErrors { code } }
}"""
EVENTS = "subscription($school: ID) { attendanceEvents(schoolId: $school) { lesson { id } marks { status } } }"
AT_ONCE = 2.0


@pytest.fixture
async def world(session: AsyncSession) -> World:
    return await make_world(session)


@pytest.fixture
async def lesson(session: AsyncSession, world: World) -> Lesson:
    row = await world.lesson(session)
    await session.commit()
    return row


async def _integration(gql: GraphQLClient, session: AsyncSession, world: World, *scopes: str) -> tuple[str, str]:
    admin = await world.token(gql, world.admin)
    return await make_integration(session, gql, school_id=world.school.id, admin_token=admin, scopes=list(scopes))


def _grade(world: World, lesson: Lesson, value: str = "5") -> dict[str, Any]:
    return {"i": {"childId": gid("Child", world.child.id), "lessonId": gid("Lesson", lesson.id), "value": value}}


def _mark(world: World, lesson: Lesson, status: str = "PRESENT") -> dict[str, Any]:
    return {
        "i": {
            "lessonId": gid("Lesson", lesson.id),
            "marks": [{"childId": gid("Child", world.child.id), "status": status}],
        }
    }


async def _row(session: AsyncSession, client_id: str) -> Integration:
    """The integration as committed now. Only this row is reloaded: expiring the whole
    session would expire the world's users too, and reading one of those later (their id,
    for a token) would be a lazy load outside the async session."""
    row = await session.scalar(
        select(Integration).where(Integration.client_id == client_id).execution_options(populate_existing=True)
    )
    assert row is not None
    return row


# --- the grant -----------------------------------------------------------------------


async def test_a_form_body_with_the_credentials_gets_a_bearer_token_of_every_scope(
    gql: GraphQLClient, session: AsyncSession, world: World, settings: Settings
) -> None:
    client_id, secret = await _integration(gql, session, world, "grades:write", "diary:read")
    response = await gql.http.post(
        TOKEN_PATH, data={"grant_type": "client_credentials", "client_id": client_id, "client_secret": secret}
    )
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/json")
    assert response.headers["cache-control"] == "no-store"
    assert response.headers["pragma"] == "no-cache"
    body = response.json()
    assert body["token_type"] == "Bearer"
    assert body["expires_in"] == settings.integration_token_ttl_seconds
    assert body["scope"] == "diary:read grades:write"
    assert "refresh_token" not in body  # §4.4.3
    # the token acts as the integration's own user, named after it
    me = (await gql.data(ME, token=body["access_token"]))["me"]
    integration = await _row(session, client_id)
    assert me["id"] == gid("User", integration.user_id)
    assert (me["lastName"], me["firstName"]) == ("Интеграция", "Школьная МИС")
    assert integration.last_token_at is not None


async def test_http_basic_credentials_and_a_narrower_scope(
    gql: GraphQLClient, session: AsyncSession, world: World
) -> None:
    client_id, secret = await _integration(gql, session, world, "grades:write", "attendance:write")
    basic = base64.b64encode(f"{client_id}:{secret}".encode()).decode()
    response = await gql.http.post(
        TOKEN_PATH,
        content="grant_type=client_credentials&scope=grades%3Awrite",
        headers={"Authorization": f"Basic {basic}", "Content-Type": "application/x-www-form-urlencoded"},
    )
    assert response.status_code == 200, response.text
    assert response.json()["scope"] == "grades:write"


async def _error(response: httpx.Response, status: int, error: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    body: dict[str, Any] = response.json()
    assert body["error"] == error, body
    return body


async def test_a_wrong_secret_is_invalid_client(gql: GraphQLClient, session: AsyncSession, world: World) -> None:
    client_id, _ = await _integration(gql, session, world, "grades:write")
    # HTTP Basic: 401 with a Basic challenge (§5.2)
    response = await request_token(gql.http, client_id, "not-the-secret")
    await _error(response, 401, "invalid_client")
    assert response.headers["www-authenticate"].startswith("Basic ")
    # the form's credentials: 401 too, with the challenge naming the scheme the server
    # supports (§5.2 allows it; a 400 would be allowed as well, Authlib answers 401)
    form = {"grant_type": "client_credentials", "client_id": client_id, "client_secret": "not-the-secret"}
    response = await gql.http.post(TOKEN_PATH, data=form)
    await _error(response, 401, "invalid_client")
    assert response.headers["www-authenticate"].startswith("Basic ")
    # an unknown client, and no credentials at all
    await _error(await request_token(gql.http, "ed_nobody", "whatever"), 401, "invalid_client")
    await _error(await gql.http.post(TOKEN_PATH, data={"grant_type": "client_credentials"}), 401, "invalid_client")


async def test_a_scope_beyond_the_integrations_or_unknown_is_invalid_scope(
    gql: GraphQLClient, session: AsyncSession, world: World
) -> None:
    client_id, secret = await _integration(gql, session, world, "grades:write")
    await _error(await request_token(gql.http, client_id, secret, ["attendance:write"]), 400, "invalid_scope")
    await _error(await request_token(gql.http, client_id, secret, ["admin:everything"]), 400, "invalid_scope")


async def test_other_grants_and_malformed_requests(gql: GraphQLClient, session: AsyncSession, world: World) -> None:
    client_id, secret = await _integration(gql, session, world, "grades:write")
    auth = (client_id, secret)
    password = {"grant_type": "password", "username": "x", "password": "y"}
    await _error(await gql.http.post(TOKEN_PATH, data=password, auth=auth), 400, "unsupported_grant_type")
    await _error(await gql.http.post(TOKEN_PATH, data={}, auth=auth), 400, "invalid_request")
    as_json = await gql.http.post(TOKEN_PATH, json={"grant_type": "client_credentials"}, auth=auth)
    await _error(as_json, 400, "invalid_request")
    twice = await gql.http.post(
        TOKEN_PATH,
        content="grant_type=client_credentials&scope=grades%3Awrite&scope=grades%3Awrite",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
        auth=auth,
    )
    await _error(twice, 400, "invalid_request")
    both = {"grant_type": "client_credentials", "client_id": client_id, "client_secret": secret}
    await _error(await gql.http.post(TOKEN_PATH, data=both, auth=auth), 400, "invalid_request")
    assert (await gql.http.get(TOKEN_PATH)).status_code == 405


# --- the token at /graphql ----------------------------------------------------------------


async def test_an_expired_token_is_refused(
    gql: GraphQLClient, session: AsyncSession, world: World, settings: Settings
) -> None:
    client_id, secret = await _integration(gql, session, world, "grades:write")
    await integration_token(gql.http, client_id, secret)
    integration = await _row(session, client_id)
    auth = await session.scalar(select(AuthSession).where(AuthSession.user_id == integration.user_id))
    assert auth is not None
    # a token of the same integration issued two hours ago for an hour
    expired, _ = tokens.issue_integration_token(
        secret_key=settings.secret_key,
        user_id=integration.user_id,
        session_id=auth.id,
        integration_id=integration.id,
        school_id=integration.school_id,
        scopes=["grades:write"],
        ttl=dt.timedelta(hours=1),
        now=utcnow() - dt.timedelta(hours=2),
    )
    response = await gql.http.post("/graphql", json={"query": ME}, headers={"Authorization": f"Bearer {expired}"})
    assert response.status_code == 401
    assert error_codes(response.json()) == ["TOKEN_EXPIRED"]


async def test_grades_write_enters_a_grade_authored_and_audited_as_the_integration(
    gql: GraphQLClient, session: AsyncSession, world: World, lesson: Lesson
) -> None:
    client_id, secret = await _integration(gql, session, world, "grades:write")
    token = await integration_token(gql.http, client_id, secret)
    data = await gql.data(ENTER, _grade(world, lesson), token=token)
    assert data["enterGrade"]["userErrors"] == []
    integration = await _row(session, client_id)
    assert data["enterGrade"]["grade"]["teacher"]["id"] == gid("User", integration.user_id)
    entry = await session.scalar(select(AuditEntry).where(AuditEntry.action == "enterGrade"))
    assert entry is not None
    assert entry.actor_user_id == integration.user_id
    # the school's admin reads it in the audit log under the integration's name
    log = await gql.data(
        '{ auditLog(filter: {action: "enterGrade"}) { nodes { actor { lastName firstName } } } }',
        token=await world.token(gql, world.admin),
    )
    assert log["auditLog"]["nodes"] == [{"actor": {"lastName": "Интеграция", "firstName": "Школьная МИС"}}]


async def test_attendance_write_marks_attendance(
    gql: GraphQLClient, session: AsyncSession, world: World, lesson: Lesson
) -> None:
    client_id, secret = await _integration(gql, session, world, "attendance:write")
    token = await integration_token(gql.http, client_id, secret)
    data = await gql.data(MARK, _mark(world, lesson), token=token)
    assert data["markAttendance"]["userErrors"] == []


@pytest.mark.parametrize("scopes", [["roster:read", "diary:read", "events:read", "roster:write"], ["attendance:write"]])
async def test_a_token_without_grades_write_may_not_enter_grades(
    gql: GraphQLClient, session: AsyncSession, world: World, lesson: Lesson, scopes: list[str]
) -> None:
    client_id, secret = await _integration(gql, session, world, *scopes)
    token = await integration_token(gql.http, client_id, secret)
    assert error_codes(await gql.post(ENTER, _grade(world, lesson), token=token)) == ["FORBIDDEN"]
    assert await session.scalar(select(Grade.id)) is None


async def test_a_token_narrowed_to_one_scope_has_only_that_one(
    gql: GraphQLClient, session: AsyncSession, world: World, lesson: Lesson
) -> None:
    client_id, secret = await _integration(gql, session, world, "grades:write", "attendance:write")
    token = await integration_token(gql.http, client_id, secret, ["grades:write"])
    assert (await gql.data(ENTER, _grade(world, lesson), token=token))["enterGrade"]["userErrors"] == []
    assert error_codes(await gql.post(MARK, _mark(world, lesson), token=token)) == ["FORBIDDEN"]


async def test_another_schools_records_are_refused(
    gql: GraphQLClient, session: AsyncSession, world: World, lesson: Lesson
) -> None:
    # an integration of the other school, holding every scope, at this school's lesson
    admin = await world.token(gql, world.foreign_admin)
    school_id = world.foreign_teacher and (await _foreign_school_id(session, world))
    client_id, secret = await make_integration(session, gql, school_id=school_id, admin_token=admin, scopes=ALL_SCOPES)
    token = await integration_token(gql.http, client_id, secret)
    assert error_codes(await gql.post(ENTER, _grade(world, lesson), token=token)) == ["FORBIDDEN"]
    assert error_codes(await gql.post(MARK, _mark(world, lesson), token=token)) == ["FORBIDDEN"]
    diary = await gql.post(
        'query($c: ID!) { diary(childId: $c, from: "2026-09-01", to: "2026-09-30") { date } }',
        {"c": gid("Child", world.child.id)},
        token=token,
    )
    assert error_codes(diary) == ["FORBIDDEN"], diary


async def _foreign_school_id(session: AsyncSession, world: World) -> int:
    from ediary_gql.db.models.schools import StaffMembership

    school = await session.scalar(
        select(StaffMembership.school_id).where(StaffMembership.user_id == world.foreign_admin.id)
    )
    assert school is not None
    return int(school)


# --- rotation and revocation ----------------------------------------------------------


async def test_a_rotated_secret_keeps_working_for_its_grace_period_only(
    gql: GraphQLClient, session: AsyncSession, world: World, settings: Settings
) -> None:
    client_id, old = await _integration(gql, session, world, "grades:write")
    integration = await _row(session, client_id)
    admin = await world.token(gql, world.admin)
    rotated = (await gql.data(ROTATE, {"i": {"integrationId": gid("Integration", integration.id)}}, token=admin))[
        "rotateIntegrationSecret"
    ]
    assert rotated["userErrors"] == []
    new = rotated["clientSecret"]
    until = dt.datetime.fromisoformat(rotated["previousSecretExpiresAt"])
    expected = utcnow() + dt.timedelta(hours=settings.integration_secret_grace_hours)
    assert abs((until - expected).total_seconds()) < 60
    # both work during the grace period
    assert (await request_token(gql.http, client_id, old)).status_code == 200
    assert (await request_token(gql.http, client_id, new)).status_code == 200
    # once it is over, the old one is refused and the new one still works
    await session.execute(
        update(IntegrationSecret)
        .where(IntegrationSecret.integration_id == integration.id, IntegrationSecret.expires_at.is_not(None))
        .values(expires_at=utcnow() - dt.timedelta(seconds=1))
    )
    await session.commit()
    await _error(await request_token(gql.http, client_id, old), 401, "invalid_client")
    assert (await request_token(gql.http, client_id, new)).status_code == 200


async def test_revoking_refuses_its_tokens_and_credentials_and_ends_its_subscription_at_once(
    gql: GraphQLClient, session: AsyncSession, world: World, lesson: Lesson, app_services: AppServices, ws_url: str
) -> None:
    client_id, secret = await _integration(gql, session, world, "events:read", "grades:write")
    token = await integration_token(gql.http, client_id, secret)
    integration = await _row(session, client_id)
    admin = await world.token(gql, world.admin)
    async with ws_connect(ws_url) as ws:
        # events:read follows the whole school's attendance
        first = await ws.start(EVENTS, {"school": gid("School", world.school.id)}, token=token)
        await wait_subscribed(app_services, channels.school_attendance(world.school.id))
        assert (await gql.data(MARK, _mark(world, lesson, "ABSENT"), token=admin))["markAttendance"]["userErrors"] == []
        event = data_of(await ws.receive(within=AT_ONCE), "attendanceEvents")
        assert event["marks"] == [{"status": "ABSENT"}]
        # when its school's admin revokes it, with nothing new on the school's channel
        revoked = await gql.data(REVOKE, {"i": {"integrationId": gid("Integration", integration.id)}}, token=admin)
        assert revoked["revokeIntegration"] == {"integration": {"status": "REVOKED"}, "userErrors": []}
        # then its subscription ends at once
        assert error_code(await ws.receive(within=AT_ONCE)) == "TOKEN_REVOKED"
        assert await ws.receive(within=AT_ONCE) == {"id": first, "type": "complete"}
        # and a new one on the same socket is refused too
        second = await ws.subscribe(EVENTS, {"school": gid("School", world.school.id)})
        refused = await ws.receive(within=AT_ONCE)
        assert (refused["id"], error_code(refused)) == (second, "TOKEN_REVOKED")
    # its token is refused at /graphql, and its credentials at the token endpoint
    response = await gql.http.post("/graphql", json={"query": ME}, headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 401
    assert error_codes(response.json()) == ["TOKEN_REVOKED"]
    await _error(await request_token(gql.http, client_id, secret), 401, "invalid_client")


@pytest.mark.parametrize("protocol", ["graphql-transport-ws", "graphql-ws"])
async def test_a_new_socket_with_a_revoked_token_is_refused(
    protocol: str, gql: GraphQLClient, session: AsyncSession, world: World, ws_url: str
) -> None:
    client_id, secret = await _integration(gql, session, world, "events:read")
    token = await integration_token(gql.http, client_id, secret)
    integration = await _row(session, client_id)
    admin = await world.token(gql, world.admin)
    revoked = await gql.data(REVOKE, {"i": {"integrationId": gid("Integration", integration.id)}}, token=admin)
    assert revoked["revokeIntegration"]["userErrors"] == []
    async with ws_connect(ws_url, protocol) as ws:
        # refused at connection_init: no connection_ack, the socket closed 4403
        await ws.send({"type": "connection_init", "payload": {"authorization": f"Bearer {token}"}})
        if protocol == "graphql-ws":  # the legacy protocol says why first
            message = await ws.receive()
            assert (message["type"], message["payload"]["code"]) == ("connection_error", "TOKEN_REVOKED")
        assert await ws.close_code() == 4403
