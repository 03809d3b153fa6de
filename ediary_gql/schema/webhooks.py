"""Root fields of webhooks: createWebhook, updateWebhook, deleteWebhook, redeliverWebhook
(School.webhooks lists them, each with its delivery log)."""

from __future__ import annotations

import strawberry

from ediary_gql.resolvers import webhooks
from ediary_gql.schema.mutations import mutation
from ediary_gql.schema.types.webhook import (
    CreateWebhookInput,
    DeleteWebhookPayload,
    RedeliverWebhookInput,
    RedeliverWebhookPayload,
    UpdateWebhookInput,
    WebhookInput,
    WebhookPayload,
)

WHO = "; the school's admins, and its integration with events:read (the webhooks it registered)"


@strawberry.type
class WebhooksMutation:
    create_webhook: WebhookPayload = mutation(
        webhooks.create_webhook,
        CreateWebhookInput,
        WebhookPayload,
        description="Register a receiver of the school's changes of `events`: each is POSTed to `url` (http(s), a "
        "public address), signed with `secret`, retried with backoff; disabled after repeated failures" + WHO,
    )
    update_webhook: WebhookPayload = mutation(
        webhooks.update_webhook,
        UpdateWebhookInput,
        WebhookPayload,
        description="Change a webhook's URL, events or secret, or enable (`active: true`) or disable it" + WHO,
    )
    delete_webhook: DeleteWebhookPayload = mutation(
        webhooks.delete_webhook,
        WebhookInput,
        DeleteWebhookPayload,
        description="Delete a webhook and its delivery log" + WHO,
    )
    redeliver_webhook: RedeliverWebhookPayload = mutation(
        webhooks.redeliver_webhook,
        RedeliverWebhookInput,
        RedeliverWebhookPayload,
        description="Send a delivery's event again now (same event ID and body, signed afresh)" + WHO,
    )
