"""The public-ID walk of webhooks: registering, changing, redelivering, disabling (after
failures, with the admins' notice) and deleting one leave audit entries and notices that
name rows only by global IDs, under camelCase keys."""

from __future__ import annotations

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from ediary_gql.context import AppServices
from ediary_gql.db.models.enums import NotificationKind
from ediary_gql.services.delivery.dispatcher import RetryPolicy
from ediary_gql.settings import Settings
from tests.changes_support import (
    CREATE_WEBHOOK,
    DELETE_WEBHOOK,
    REDELIVER,
    SCHOOL_WEBHOOKS,
    SECRET,
    UPDATE_WEBHOOK,
    grade,
    receiver,
    school_gid,
    sender,
)
from tests.diary_writes_support import make_world
from tests.graphql.test_public_ids import _assert_public_everywhere
from tests.support import GraphQLClient

ACTIONS: set[str] = {"createWebhook", "updateWebhook", "redeliverWebhook", "disableWebhook", "deleteWebhook"}
KINDS: set[NotificationKind] = {NotificationKind.SYSTEM}


async def test_webhooks(
    gql: GraphQLClient,
    session: AsyncSession,
    app_services: AppServices,
    settings: Settings,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(settings, "webhook_allow_private_urls", True)  # the receiver is on loopback
    world = await make_world(session)
    lesson = await world.lesson(session)
    await session.commit()
    admin, teacher, operator = [await world.token(gql, u) for u in (world.admin, world.teacher, world.operator)]
    # the first delivery is accepted, its redelivery refused: a sender that gives up at once
    # and disables after one failure disables the webhook and tells the admin
    async with receiver(statuses=[200, 500]) as got:
        made = await gql.data(
            CREATE_WEBHOOK,
            {"i": {"schoolId": school_gid(world), "url": got.url, "events": ["GRADE"], "secret": SECRET}},
            token=admin,
        )
        assert made["createWebhook"]["userErrors"] == []
        hook_id = made["createWebhook"]["webhook"]["id"]
        await grade(gql, teacher, world, lesson)
        s = sender(app_services, retry=RetryPolicy(max_attempts=1), disable_after=1)
        try:
            assert (await s.send_once()).sent == 1
            listed = await gql.data(SCHOOL_WEBHOOKS, {"id": school_gid(world)}, token=admin)
            (delivery,) = listed["node"]["webhooks"][0]["deliveries"]["nodes"]
            again = await gql.data(REDELIVER, {"i": {"deliveryId": delivery["id"]}}, token=admin)
            assert again["redeliverWebhook"]["userErrors"] == []
            assert (await s.send_once()).failed == 1
        finally:
            await s.close()
        await got.wait_for(2)
    enabled = await gql.data(UPDATE_WEBHOOK, {"i": {"webhookId": hook_id, "active": True}}, token=admin)
    assert enabled["updateWebhook"]["userErrors"] == []
    deleted = await gql.data(DELETE_WEBHOOK, {"i": {"webhookId": hook_id}}, token=admin)
    assert deleted["deleteWebhook"]["userErrors"] == []
    await _assert_public_everywhere(
        gql, app_services, actions=ACTIONS, kinds=KINDS, inbox_readers=[admin], operator=operator, admins=[admin]
    )
