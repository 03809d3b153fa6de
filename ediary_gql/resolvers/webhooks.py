"""Webhooks: createWebhook, updateWebhook, deleteWebhook, redeliverWebhook, a school's
list of them with each one's delivery log (its admins, its integration with events:read)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from sqlalchemy.ext.asyncio import AsyncSession

from ediary_gql.auth.actor import Actor
from ediary_gql.db.models.enums import DeliveryStatus
from ediary_gql.db.models.integrations import Integration, Webhook, WebhookDelivery
from ediary_gql.db.models.users import User
from ediary_gql.db.pagination import Page, PageArgs, paginate
from ediary_gql.services.changes import ChangeType
from ediary_gql.services.webhooks import manage

if TYPE_CHECKING:
    from ediary_gql.context import Context


async def create_webhook(
    ctx: Context,
    session: AsyncSession,
    actor: Actor,
    *,
    url: str,
    events: Sequence[ChangeType],
    secret: str,
    school_id: int | None = None,
) -> Webhook:
    return await manage.create_webhook(
        session,
        actor=actor,
        school_id=school_id,
        url=url,
        events=events,
        secret=secret,
        allow_private=ctx.settings.webhook_allow_private_urls,
    )


async def update_webhook(
    ctx: Context,
    session: AsyncSession,
    actor: Actor,
    *,
    webhook_id: int,
    url: str | None = None,
    events: Sequence[ChangeType] | None = None,
    secret: str | None = None,
    active: bool | None = None,
) -> Webhook:
    return await manage.update_webhook(
        session,
        actor=actor,
        webhook_id=webhook_id,
        url=url,
        events=events,
        secret=secret,
        active=active,
        allow_private=ctx.settings.webhook_allow_private_urls,
    )


async def delete_webhook(ctx: Context, session: AsyncSession, actor: Actor, *, webhook_id: int) -> int:
    return await manage.delete_webhook(session, actor=actor, webhook_id=webhook_id)


async def redeliver_webhook(ctx: Context, session: AsyncSession, actor: Actor, *, delivery_id: int) -> WebhookDelivery:
    return await manage.redeliver(session, actor=actor, delivery_id=delivery_id)


async def school_webhooks(ctx: Context, school_id: int) -> list[Webhook] | None:
    """None unless the viewer may see the school's webhooks (an integration: its own)."""
    query = manage.school_webhooks_query(ctx.actor, school_id)
    if query is None:
        return None
    async with ctx.read_session_factory() as session:
        return list((await session.scalars(query)).all())


def may_view(ctx: Context, row: Webhook) -> bool:
    return manage.may_view(ctx.actor, row)


async def may_view_delivery(ctx: Context, row: WebhookDelivery) -> bool:
    hook = await ctx.loaders.by_id(Webhook).load(row.webhook_id)
    return hook is not None and may_view(ctx, hook)


async def deliveries(ctx: Context, webhook_id: int, *, paging: PageArgs, status: DeliveryStatus | None) -> Page[Any]:
    """A webhook's deliveries, newest first (the caller read the webhook, so may see it)."""
    async with ctx.read_session_factory() as session:
        return await paginate(
            session,
            manage.deliveries_query(webhook_id, status),
            key=[WebhookDelivery.id],
            key_of=lambda row: [row.id],
            args=paging,
            page_max=ctx.settings.page_max,
            descending=True,
            count_session=ctx.read_session_factory,
        )


async def webhook_of(ctx: Context, webhook_id: int) -> Webhook | None:
    row: Webhook | None = await ctx.loaders.by_id(Webhook).load(webhook_id)
    return row if row is not None and may_view(ctx, row) else None


async def delivery_of(ctx: Context, delivery_id: int) -> WebhookDelivery | None:
    row: WebhookDelivery | None = await ctx.loaders.by_id(WebhookDelivery).load(delivery_id)
    return row if row is not None and await may_view_delivery(ctx, row) else None


async def user_of(ctx: Context, user_id: int) -> User | None:
    row: User | None = await ctx.loaders.by_id(User).load(user_id)
    return row


async def integration_of(ctx: Context, integration_id: int) -> Integration | None:
    row: Integration | None = await ctx.loaders.by_id(Integration).load(integration_id)
    return row
