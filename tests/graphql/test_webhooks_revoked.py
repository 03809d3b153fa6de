"""A revoked integration's webhooks get nothing more, to a real HTTP receiver on a local
port: revokeIntegration disables them, a delivery pending at revocation is not sent, and
even a webhook of a revoked integration made ACTIVE again is neither relayed to nor sent."""

from __future__ import annotations

import pytest
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from ediary_gql.context import AppServices
from ediary_gql.db.models.enums import DeliveryStatus, WebhookStatus
from ediary_gql.db.models.integrations import Webhook, WebhookDelivery
from ediary_gql.db.models.lessons import Lesson
from ediary_gql.services.webhooks import relay
from ediary_gql.settings import Settings
from tests.changes_support import CREATE_WEBHOOK, SECRET, grade, receiver, school_gid, sender
from tests.diary_writes_support import World
from tests.support import GraphQLClient

support = pytest.importorskip("tests.integration_support")

INTEGRATIONS = "query($s: ID!) { node(id: $s) { ... on School { integrations { id clientId } } } }"
REVOKE = """mutation($i: IntegrationInput!) {
  revokeIntegration(input: $i) { integration { status } userErrors { field code } }
}"""


@pytest.fixture(autouse=True)
def loopback(monkeypatch: pytest.MonkeyPatch, settings: Settings) -> None:
    monkeypatch.setattr(settings, "webhook_allow_private_urls", True)


async def _deliveries(app_services: AppServices) -> list[tuple[str, DeliveryStatus]]:
    async with app_services.session_factory() as s:
        rows = await s.execute(select(WebhookDelivery.event_type, WebhookDelivery.status).order_by(WebhookDelivery.id))
        return [(r.event_type, r.status) for r in rows]


async def test_a_revoked_integrations_webhook_gets_nothing_more(
    gql: GraphQLClient, session: AsyncSession, app_services: AppServices, world: World, lesson: Lesson
) -> None:
    admin = await world.token(gql, world.admin)
    teacher = await world.token(gql, world.teacher)
    client_id, secret = await support.make_integration(
        session, gql, school_id=world.school.id, admin_token=admin, scopes=["events:read", "grades:write"]
    )
    token = await support.integration_token(gql.http, client_id, secret)
    listed = await gql.data(INTEGRATIONS, {"s": school_gid(world)}, token=admin)
    (integration_id,) = [i["id"] for i in listed["node"]["integrations"] if i["clientId"] == client_id]
    async with receiver() as got:
        # given the integration's webhook, which receives the school's grades
        data = await gql.data(
            CREATE_WEBHOOK,
            {"i": {"schoolId": school_gid(world), "url": got.url, "events": ["GRADE"], "secret": SECRET}},
            token=token,
        )
        assert data["createWebhook"]["userErrors"] == [], data
        await grade(gql, teacher, world, lesson, "5")
        s = sender(app_services)
        try:
            assert (await s.send_once()).sent == 1
            await got.wait_for(1)
            # and a delivery relayed but not yet sent when the integration is revoked
            await grade(gql, teacher, world, lesson, "4")
            assert await relay.relay_all(app_services.session_factory) == 1
            revoked = await gql.data(REVOKE, {"i": {"integrationId": integration_id}}, token=admin)
            assert revoked["revokeIntegration"] == {"integration": {"status": "REVOKED"}, "userErrors": []}
            # then its webhook is disabled
            async with app_services.session_factory() as fresh:
                hook = (await fresh.scalars(select(Webhook))).one()
                assert hook.status == WebhookStatus.DISABLED
                assert hook.disabled_at is not None
            # and neither the pending delivery nor a new grade is sent
            await grade(gql, teacher, world, lesson, "3")
            assert (await s.drain()).claimed == 0
            assert len(got.received) == 1
            # even should the webhook be made ACTIVE again, a revoked integration's gets nothing
            async with app_services.session_factory() as fresh, fresh.begin():
                await fresh.execute(update(Webhook).values(status=WebhookStatus.ACTIVE, disabled_at=None))
            await grade(gql, teacher, world, lesson, "2")
            assert (await s.drain()).claimed == 0
            assert len(got.received) == 1
        finally:
            await s.close()
    assert await _deliveries(app_services) == [
        ("grade.created", DeliveryStatus.SENT),
        ("grade.created", DeliveryStatus.PENDING),
    ]
