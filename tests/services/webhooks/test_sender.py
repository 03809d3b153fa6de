"""The sender: due deliveries claimed with a lease (disjoint batches for senders at once),
each POSTed to the addresses its URL resolves to at send time — refused at once if they
are internal now (DNS rebinding) — no redirect followed, failures retried then given up."""

from __future__ import annotations

import asyncio
import datetime as dt

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from ediary_gql.context import AppServices
from ediary_gql.db.base import utcnow
from ediary_gql.db.models.enums import DeliveryStatus
from ediary_gql.db.models.integrations import Webhook, WebhookDelivery
from ediary_gql.services.delivery.dispatcher import RetryPolicy
from ediary_gql.services.webhooks.sender import claim_due
from tests.changes_support import LATER, receiver, sender
from tests.factories import make_webhook, make_webhook_delivery
from tests.support import free_port


async def _pending(session: AsyncSession, url: str, count: int) -> tuple[Webhook, list[WebhookDelivery]]:
    hook = await make_webhook(session, url=url, events=["GRADE"])
    rows = [
        await make_webhook_delivery(
            session,
            webhook_id=hook.id,
            event_id=str(n),
            event_type="grade.created",
            payload={"id": str(n)},
            next_attempt_at=utcnow() - dt.timedelta(seconds=1),
        )
        for n in range(count)
    ]
    await session.commit()
    return hook, rows


async def _row(session: AsyncSession, delivery: WebhookDelivery) -> WebhookDelivery:
    row = await session.scalar(
        select(WebhookDelivery).where(WebhookDelivery.id == delivery.id).execution_options(populate_existing=True)
    )
    assert row is not None
    return row


async def test_senders_at_the_same_time_send_each_delivery_once(
    session: AsyncSession, app_services: AppServices
) -> None:
    async with receiver() as got:
        _, rows = await _pending(session, got.url, 12)
        senders = [sender(app_services, batch_size=3, concurrency=2) for _ in range(3)]
        try:
            reports = await asyncio.gather(*(s.drain() for s in senders))
        finally:
            for s in senders:
                await s.close()
        assert sum(r.sent for r in reports) == 12
        received = await got.wait_for(12)
    assert sorted(r.headers["x-ediary-event-id"] for r in received) == sorted(str(n) for n in range(12))
    assert len({r.headers["x-ediary-delivery"] for r in received}) == 12
    assert {(await _row(session, d)).status for d in rows} == {DeliveryStatus.SENT}


async def test_a_claimed_delivery_is_hidden_from_other_senders_until_its_lease_ends(
    session: AsyncSession, app_services: AppServices
) -> None:
    await _pending(session, "https://93.184.215.14/hook", 1)
    factory, now, lease = app_services.session_factory, utcnow(), dt.timedelta(minutes=5)
    (first,) = await claim_due(factory, now=now, limit=10, lease=lease)
    assert await claim_due(factory, now=now + dt.timedelta(minutes=4), limit=10, lease=lease) == []
    (again,) = await claim_due(factory, now=now + dt.timedelta(minutes=6), limit=10, lease=lease)
    assert (again.id, again.attempts) == (first.id, 2)


async def test_an_address_internal_at_send_time_is_refused_at_once(
    session: AsyncSession, app_services: AppServices
) -> None:
    async with receiver() as got:
        # given a webhook registered while its name was public, that resolves to loopback now
        hook, (delivery,) = await _pending(session, got.url, 1)
        s = sender(app_services, allow_private=False)
        try:
            report = await s.send_once()
        finally:
            await s.close()
        # then nothing is sent, and the delivery fails for good at once
        assert report.failed == 1
        assert got.received == []
    row = await _row(session, delivery)
    assert (row.status, row.attempts) == (DeliveryStatus.FAILED, 1)
    assert "внутреннюю сеть" in (row.last_error or "")
    assert await session.scalar(select(Webhook.consecutive_failures).where(Webhook.id == hook.id)) == 1


async def test_a_redirect_is_not_followed(session: AsyncSession, app_services: AppServices) -> None:
    async with receiver(statuses=[302]) as got:
        _, (delivery,) = await _pending(session, got.url, 1)
        s = sender(app_services)
        try:
            assert (await s.send_once()).retrying == 1
        finally:
            await s.close()
        assert len(got.received) == 1
    row = await _row(session, delivery)
    assert (row.status, row.response_status) == (DeliveryStatus.PENDING, 302)
    assert row.next_attempt_at > utcnow() + dt.timedelta(seconds=20)  # backoff: about 30 s, give or take the jitter


@pytest.mark.parametrize("attempts", [2])
async def test_a_receiver_that_is_down_is_retried_then_given_up(
    session: AsyncSession, app_services: AppServices, attempts: int
) -> None:
    _, (delivery,) = await _pending(session, f"http://127.0.0.1:{free_port()}/nobody", 1)
    s = sender(app_services, retry=RetryPolicy(max_attempts=attempts), disable_after=10)
    try:
        assert (await s.send_once()).retrying == 1
        row = await _row(session, delivery)
        assert row.status == DeliveryStatus.PENDING
        assert "Не удалось соединиться" in (row.last_error or "")
        assert (await s.send_once(now=utcnow() + LATER)).failed == 1
    finally:
        await s.close()
    row = await _row(session, delivery)
    assert (row.status, row.attempts, row.response_status) == (DeliveryStatus.FAILED, 2, None)
