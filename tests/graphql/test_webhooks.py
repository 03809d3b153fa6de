"""Webhooks over GraphQL: createWebhook, updateWebhook, deleteWebhook and School.webhooks —
who may, what a URL may be (http(s), public addresses only: SSRF), what is checked."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from ediary_gql.db.models.audit import AuditEntry
from ediary_gql.db.models.integrations import Webhook
from ediary_gql.db.models.schools import StaffMembership
from ediary_gql.settings import Settings
from tests.changes_support import (
    CREATE_WEBHOOK,
    DELETE_WEBHOOK,
    SCHOOL_WEBHOOKS,
    SECRET,
    UPDATE_WEBHOOK,
    school_gid,
)
from tests.diary_writes_support import World, codes, error_codes, gid
from tests.support import GraphQLClient

RECEIVER = "http://127.0.0.1:9/hooks"  # never called in these tests


@pytest.fixture
def loopback(monkeypatch: pytest.MonkeyPatch, settings: Settings) -> None:
    """The server accepts loopback receivers (WEBHOOK_ALLOW_PRIVATE_URLS), as a test needs."""
    monkeypatch.setattr(settings, "webhook_allow_private_urls", True)


def _input(world: World, **overrides: object) -> dict[str, object]:
    return {"schoolId": school_gid(world), "url": RECEIVER, "events": ["GRADE"], "secret": SECRET, **overrides}


async def test_an_admin_registers_lists_changes_and_deletes_a_webhook(
    gql: GraphQLClient, session: AsyncSession, world: World, loopback: None
) -> None:
    admin = await world.token(gql, world.admin)
    data = await gql.data(CREATE_WEBHOOK, {"i": _input(world, events=["GRADE", "ATTENDANCE", "GRADE"])}, token=admin)
    payload = data["createWebhook"]
    assert payload["userErrors"] == []
    hook = payload["webhook"]
    assert (hook["url"], hook["events"], hook["status"]) == (RECEIVER, ["ATTENDANCE", "GRADE"], "ACTIVE")
    # the secret is kept to sign with, never shown, nor written in the audit log
    entry = await session.scalar(select(AuditEntry).where(AuditEntry.action == "createWebhook"))
    assert entry is not None
    assert SECRET not in str(entry.after)
    listed = await gql.data(SCHOOL_WEBHOOKS, {"id": school_gid(world)}, token=admin)
    assert [w["id"] for w in listed["node"]["webhooks"]] == [hook["id"]]
    assert listed["node"]["webhooks"][0]["deliveries"] == {"totalCount": 0, "nodes": []}
    # changed: disabled, then enabled with other events
    data = await gql.data(UPDATE_WEBHOOK, {"i": {"webhookId": hook["id"], "active": False}}, token=admin)
    assert data["updateWebhook"]["webhook"]["status"] == "DISABLED"
    data = await gql.data(
        UPDATE_WEBHOOK, {"i": {"webhookId": hook["id"], "active": True, "events": ["LESSON"]}}, token=admin
    )
    assert (data["updateWebhook"]["webhook"]["status"], data["updateWebhook"]["webhook"]["events"]) == (
        "ACTIVE",
        ["LESSON"],
    )
    # deleted
    data = await gql.data(DELETE_WEBHOOK, {"i": {"webhookId": hook["id"]}}, token=admin)
    assert data["deleteWebhook"] == {"deletedWebhookId": hook["id"], "userErrors": []}
    assert await session.scalar(select(func.count(Webhook.id))) == 0


async def test_a_webhook_must_point_to_a_public_http_address(gql: GraphQLClient, world: World) -> None:
    # given the server's default: no private addresses (WEBHOOK_ALLOW_PRIVATE_URLS false)
    admin = await world.token(gql, world.admin)
    refused = [
        "http://127.0.0.1:8080/hook",
        "http://localhost/hook",
        "http://10.1.2.3/hook",
        "https://192.168.0.10/hook",
        "http://169.254.169.254/latest/meta-data/",  # the cloud's metadata service
        "http://[::1]/hook",
        "http://[::ffff:127.0.0.1]/hook",
        "http://224.0.0.1/hook",
        "http://0.0.0.0/hook",
        "ftp://example.com/hook",
        "file:///etc/passwd",
        "https://user:pass@example.com/hook",
        "https:///nohost",
        "http://name.that.does.not.exist.invalid/hook",
    ]
    for url in refused:
        data = await gql.data(CREATE_WEBHOOK, {"i": _input(world, url=url)}, token=admin)
        assert codes(data["createWebhook"]) == [("INVALID", ["url"])], url
    assert await _count(gql, admin, world) == 0
    # a public address is accepted (written as an IP: the tests resolve no names)
    data = await gql.data(CREATE_WEBHOOK, {"i": _input(world, url="https://93.184.215.14/hooks")}, token=admin)
    assert data["createWebhook"]["userErrors"] == []


async def _count(gql: GraphQLClient, token: str, world: World) -> int:
    listed = await gql.data(SCHOOL_WEBHOOKS, {"id": school_gid(world)}, token=token)
    return len(listed["node"]["webhooks"])


async def test_events_and_the_secret_are_checked(gql: GraphQLClient, world: World, loopback: None) -> None:
    admin = await world.token(gql, world.admin)
    data = await gql.data(CREATE_WEBHOOK, {"i": _input(world, events=[], secret="short")}, token=admin)
    assert sorted(codes(data["createWebhook"])) == [("INVALID", ["secret"]), ("REQUIRED", ["events"])]
    data = await gql.data(CREATE_WEBHOOK, {"i": _input(world)}, token=admin)
    hook = data["createWebhook"]["webhook"]["id"]
    data = await gql.data(
        UPDATE_WEBHOOK,
        {"i": {"webhookId": hook, "url": "http://10.0.0.1/x", "secret": " padded secret value "}},
        token=admin,
    )
    assert sorted(codes(data["updateWebhook"])) == [("INVALID", ["secret"])]  # loopback allowed here, padding not


async def test_an_update_is_checked_against_private_addresses_too(
    gql: GraphQLClient, world: World, monkeypatch: pytest.MonkeyPatch, settings: Settings
) -> None:
    admin = await world.token(gql, world.admin)
    monkeypatch.setattr(settings, "webhook_allow_private_urls", True)
    data = await gql.data(CREATE_WEBHOOK, {"i": _input(world)}, token=admin)
    hook = data["createWebhook"]["webhook"]["id"]
    monkeypatch.setattr(settings, "webhook_allow_private_urls", False)
    data = await gql.data(UPDATE_WEBHOOK, {"i": {"webhookId": hook, "url": "http://192.168.1.1/x"}}, token=admin)
    assert codes(data["updateWebhook"]) == [("INVALID", ["url"])]


async def test_only_the_schools_admins_register_and_see_its_webhooks(
    gql: GraphQLClient, world: World, loopback: None
) -> None:
    admin = await world.token(gql, world.admin)
    data = await gql.data(CREATE_WEBHOOK, {"i": _input(world)}, token=admin)
    hook = data["createWebhook"]["webhook"]["id"]
    for user in (world.teacher, world.parent, world.foreign_admin, world.operator):
        token = await world.token(gql, user)
        body = await gql.post(CREATE_WEBHOOK, {"i": _input(world)}, token=token)
        assert error_codes(body) == ["FORBIDDEN"], user.id
        listed = await gql.post(SCHOOL_WEBHOOKS, {"id": school_gid(world)}, token=token)
        node = (listed.get("data") or {}).get("node")
        assert node is None or node["webhooks"] is None, user.id
        # another's webhook is as if it were none
        data = await gql.data(UPDATE_WEBHOOK, {"i": {"webhookId": hook, "active": False}}, token=token)
        assert codes(data["updateWebhook"]) == [("NOT_FOUND", ["webhookId"])], user.id
        data = await gql.data(DELETE_WEBHOOK, {"i": {"webhookId": hook}}, token=token)
        assert codes(data["deleteWebhook"]) == [("NOT_FOUND", ["webhookId"])], user.id
        found = await gql.data("query($id: ID!) { node(id: $id) { id } }", {"id": hook}, token=token)
        assert found["node"] is None


support = pytest.importorskip("tests.integration_support")


async def test_an_integration_with_events_read_manages_its_own_webhooks_only(
    gql: GraphQLClient, session: AsyncSession, world: World, loopback: None
) -> None:
    admin = await world.token(gql, world.admin)
    people = (await gql.data(CREATE_WEBHOOK, {"i": _input(world)}, token=admin))["createWebhook"]["webhook"]["id"]
    client_id, secret = await support.make_integration(
        session, gql, school_id=world.school.id, admin_token=admin, scopes=["events:read"]
    )
    token = await support.integration_token(gql.http, client_id, secret)
    # it registers one of its own (no school named: its own), and sees that one only
    mine = {k: v for k, v in _input(world, events=["LESSON"]).items() if k != "schoolId"}
    data = await gql.data(CREATE_WEBHOOK, {"i": mine}, token=token)
    assert data["createWebhook"]["userErrors"] == []
    own = data["createWebhook"]["webhook"]["id"]
    listed = await gql.data(SCHOOL_WEBHOOKS, {"id": school_gid(world)}, token=token)
    assert [w["id"] for w in listed["node"]["webhooks"]] == [own]
    data = await gql.data(UPDATE_WEBHOOK, {"i": {"webhookId": people, "active": False}}, token=token)
    assert codes(data["updateWebhook"]) == [("NOT_FOUND", ["webhookId"])]
    # the admin sees both, the integration's named
    listed = await gql.data(SCHOOL_WEBHOOKS, {"id": school_gid(world)}, token=admin)
    assert {w["id"] for w in listed["node"]["webhooks"]} == {own, people}
    # without events:read, an integration registers none
    client_id, secret = await support.make_integration(
        session, gql, school_id=world.school.id, admin_token=admin, scopes=["grades:write"]
    )
    writer = await support.integration_token(gql.http, client_id, secret)
    body = await gql.post(CREATE_WEBHOOK, {"i": _input(world)}, token=writer)
    assert error_codes(body) == ["FORBIDDEN"]


async def test_an_integration_registers_none_at_another_school_nor_to_a_private_address(
    gql: GraphQLClient, session: AsyncSession, world: World, monkeypatch: pytest.MonkeyPatch, settings: Settings
) -> None:
    admin = await world.token(gql, world.admin)
    client_id, secret = await support.make_integration(
        session, gql, school_id=world.school.id, admin_token=admin, scopes=["events:read"]
    )
    token = await support.integration_token(gql.http, client_id, secret)
    other = await session.scalar(
        select(StaffMembership.school_id).where(StaffMembership.user_id == world.foreign_admin.id)
    )
    assert other is not None
    monkeypatch.setattr(settings, "webhook_allow_private_urls", True)
    body = await gql.post(CREATE_WEBHOOK, {"i": _input(world, schoolId=gid("School", other))}, token=token)
    assert error_codes(body) == ["FORBIDDEN"]
    # by default (no private addresses), its own school's webhook to a private address is refused
    monkeypatch.setattr(settings, "webhook_allow_private_urls", False)
    for url in ("http://127.0.0.1:8080/hook", "http://10.0.0.7/hook", "http://[fd00::1]/hook"):
        data = await gql.data(CREATE_WEBHOOK, {"i": _input(world, url=url)}, token=token)
        assert codes(data["createWebhook"]) == [("INVALID", ["url"])], url
    assert await session.scalar(select(func.count(Webhook.id))) == 0
