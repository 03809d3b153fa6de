"""The Webhook and WebhookDelivery types, and the inputs and payloads of createWebhook,
updateWebhook, deleteWebhook and redeliverWebhook."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Annotated, Any, Self, cast

import strawberry
from strawberry import relay
from strawberry.scalars import JSON

from ediary_gql.db.models import enums
from ediary_gql.db.models.integrations import Webhook as WebhookRow
from ediary_gql.db.models.integrations import WebhookDelivery as DeliveryRow
from ediary_gql.resolvers import webhooks
from ediary_gql.schema.connection import After, Before, Connection, First, Last, PageArgs, to_connection
from ediary_gql.schema.errors import UserError
from ediary_gql.schema.ids import node_id
from ediary_gql.schema.mutations import Payload
from ediary_gql.schema.node import EntityNode
from ediary_gql.schema.types.change import ChangeType
from ediary_gql.schema.types.integration import Integration
from ediary_gql.schema.types.user import User
from ediary_gql.services.changes import ChangeType as ChangeTypeEnum

if TYPE_CHECKING:
    from ediary_gql.context import Context

if TYPE_CHECKING:
    Info = strawberry.Info["Context", None]
else:  # a forward reference in the alias hid `info` from strawberry (as in types/attendance.py)
    Info = strawberry.Info

WebhookStatus = strawberry.enum(
    enums.WebhookStatus,
    description="ACTIVE: it receives deliveries; DISABLED: by its owner, or after repeated failures",
)
WebhookDeliveryStatus = strawberry.enum(
    enums.DeliveryStatus,
    name="WebhookDeliveryStatus",
    description="PENDING: to be sent (or sent again); SENT: the receiver answered 2xx; FAILED: given up",
)


@strawberry.type(
    name="WebhookDelivery",
    description="One event sent to a webhook (retries included), with what its last attempt got",
)
class WebhookDelivery(EntityNode):
    model = DeliveryRow

    id: relay.NodeID[int]
    event_id: str = strawberry.field(description="The event's ID (X-Ediary-Event-Id), the same for every redelivery")
    event_type: str = strawberry.field(description="X-Ediary-Event-Type: `grade.created`, …")
    status: WebhookDeliveryStatus = strawberry.field(  # type: ignore[valid-type]
        description="Where the webhook delivery is in its life cycle"
    )
    attempts: int = strawberry.field(description="Attempts made so far")
    next_attempt_at: dt.datetime | None = strawberry.field(description="When it is tried next, while PENDING")
    response_status: int | None = strawberry.field(description="The HTTP status of the last answer, if any came")
    error: str | None = strawberry.field(description="Why the last attempt failed")
    duration_ms: int | None = strawberry.field(description="How long the last attempt took")
    created_at: dt.datetime = strawberry.field(description="When the webhook delivery was created")
    sent_at: dt.datetime | None = strawberry.field(description="When the receiver accepted it")
    payload: JSON = strawberry.field(description="The body sent (as JSON; the bytes signed are its compact form)")
    _webhook_id: strawberry.Private[int]
    _redelivery_of_id: strawberry.Private[int | None]

    @classmethod
    def from_row(cls, row: Any) -> Self:
        pending = row.status == enums.DeliveryStatus.PENDING
        return cls(
            id=row.id,
            event_id=row.event_id,
            event_type=row.event_type,
            status=enums.DeliveryStatus(row.status),
            attempts=row.attempts,
            next_attempt_at=row.next_attempt_at if pending else None,
            response_status=row.response_status,
            error=row.last_error,
            duration_ms=row.duration_ms,
            created_at=row.created_at,
            sent_at=row.sent_at,
            payload=cast(JSON, row.payload),
            _webhook_id=row.webhook_id,
            _redelivery_of_id=row.redelivery_of_id,
        )

    @classmethod
    async def visible(cls, context: Context, row: Any) -> bool:
        return await webhooks.may_view_delivery(context, row)

    @strawberry.field(description="The webhook it went to")
    async def webhook(self, info: Info) -> Webhook | None:
        row = await webhooks.webhook_of(info.context, self._webhook_id)
        return None if row is None else Webhook.from_row(row)

    @strawberry.field(description="The delivery this one sends again (redeliverWebhook), if it is a redelivery")
    async def redelivery_of(self, info: Info) -> WebhookDelivery | None:
        if self._redelivery_of_id is None:
            return None
        row = await webhooks.delivery_of(info.context, self._redelivery_of_id)
        return None if row is None else WebhookDelivery.from_row(row)


@strawberry.type(
    name="Webhook",
    description="A receiver of a school's changes: each one it wants is POSTed to its URL, signed with its "
    'secret (X-Ediary-Signature: t=<unix>,sha256=<hex HMAC-SHA256 of "<t>.<raw body>">)',
)
class Webhook(EntityNode):
    model = WebhookRow

    id: relay.NodeID[int]
    url: str = strawberry.field(description="HTTPS address the events are POSTed to")
    events: list[ChangeType] = strawberry.field(description="The kinds of record whose changes it receives")  # type: ignore[valid-type]
    status: WebhookStatus = strawberry.field(  # type: ignore[valid-type]
        description="Where the webhook is in its life cycle"
    )
    consecutive_failures: int = strawberry.field(
        description="Deliveries failed for good since the last success; at WEBHOOK_DISABLE_AFTER_FAILURES it is "
        "disabled and the school's admins told"
    )
    disabled_at: dt.datetime | None = strawberry.field(description="When it was disabled; null while active")
    created_at: dt.datetime = strawberry.field(description="When the webhook was created")
    updated_at: dt.datetime = strawberry.field(description="When the webhook was last changed")
    _created_by_id: strawberry.Private[int | None]
    _integration_id: strawberry.Private[int | None]

    @classmethod
    def from_row(cls, row: Any) -> Self:
        return cls(
            id=row.id,
            url=row.url,
            events=[ChangeTypeEnum(e) for e in row.events if e in ChangeTypeEnum.__members__],
            status=enums.WebhookStatus(row.status),
            consecutive_failures=row.consecutive_failures,
            disabled_at=row.disabled_at,
            created_at=row.created_at,
            updated_at=row.updated_at,
            _created_by_id=row.created_by_id,
            _integration_id=row.integration_id,
        )

    @classmethod
    async def visible(cls, context: Context, row: Any) -> bool:
        return webhooks.may_view(context, row)

    @strawberry.field(description="Who registered it (a school admin, or an integration's own user)")
    async def created_by(self, info: Info) -> User | None:
        if self._created_by_id is None:
            return None
        row = await webhooks.user_of(info.context, self._created_by_id)
        return None if row is None else User.from_row(row)

    @strawberry.field(description="The integration that registered it; null for one a person registered")
    async def integration(self, info: Info) -> Integration | None:
        if self._integration_id is None:
            return None
        row = await webhooks.integration_of(info.context, self._integration_id)
        if row is None or not await Integration.visible(info.context, row):
            return None
        return Integration.from_row(row)

    @strawberry.field(description="Its delivery log, newest first")
    async def deliveries(
        self,
        info: Info,
        first: First = None,
        after: After = None,
        last: Last = None,
        before: Before = None,
        status: Annotated[
            WebhookDeliveryStatus | None,  # type: ignore[valid-type]
            strawberry.argument(description="Only the deliveries in this status"),
        ] = None,
    ) -> Connection[WebhookDelivery]:
        page = await webhooks.deliveries(
            info.context,
            self.id,
            paging=PageArgs(first=first, after=after, last=last, before=before),
            status=None if status is None else enums.DeliveryStatus(status),
        )
        return to_connection(page, WebhookDelivery.from_row)


@strawberry.input(description="A new webhook of a school")
class CreateWebhookInput:
    url: str = strawberry.field(description="http(s) URL of the receiver, on a public address")
    events: list[ChangeType] = strawberry.field(description="The kinds of record whose changes to send")  # type: ignore[valid-type]
    secret: str = strawberry.field(
        description="16 to 256 characters the deliveries are signed with (HMAC-SHA256); never shown again"
    )
    school_id: relay.GlobalID | None = node_id(
        "School",
        default=None,
        description="The school; may be left out by an integration (its school) and by the admin of one school",
    )


@strawberry.input(description="What to change of a webhook; what is left out (or null) stays")
class UpdateWebhookInput:
    webhook_id: relay.GlobalID = node_id("Webhook")
    url: str | None = strawberry.field(default=None, description="New HTTPS address; omit to keep")
    events: list[ChangeType] | None = strawberry.field(  # type: ignore[valid-type]
        default=None, description="New event types; omit to keep"
    )
    secret: str | None = strawberry.field(default=None, description="New signing secret; omit to keep")
    active: bool | None = strawberry.field(
        default=None, description="true: enable it again (its failures counted afresh); false: disable it"
    )


@strawberry.input(description="The webhook to act on")
class WebhookInput:
    webhook_id: relay.GlobalID = node_id("Webhook")


@strawberry.input(description="The delivery of a webhook to send again")
class RedeliverWebhookInput:
    delivery_id: relay.GlobalID = node_id("WebhookDelivery")


@strawberry.type(description="The webhook after the change, or why it was refused")
class WebhookPayload(Payload):
    webhook: Webhook | None = strawberry.field(
        default=None, description="The webhook as it now is; null when the input was refused"
    )
    user_errors: list[UserError] = strawberry.field(
        default_factory=list, description="Why the input was refused: each problem with its field path and code"
    )


@strawberry.type(description="The ID of the deleted webhook, or why it was refused")
class DeleteWebhookPayload(Payload):
    deleted_webhook_id: relay.GlobalID | None = strawberry.field(
        default=None, description="Global ID of the deleted webhook; null when the input was refused"
    )
    user_errors: list[UserError] = strawberry.field(
        default_factory=list, description="Why the input was refused: each problem with its field path and code"
    )

    @classmethod
    def of(cls, result: Any) -> Self:
        return cls(deleted_webhook_id=relay.GlobalID("Webhook", str(result)))


@strawberry.type(description="The new delivery of the event, or why it was refused")
class RedeliverWebhookPayload(Payload):
    delivery: WebhookDelivery | None = strawberry.field(
        default=None, description="The new delivery of the same event, PENDING: the sender sends it at once"
    )
    user_errors: list[UserError] = strawberry.field(
        default_factory=list, description="Why the input was refused: each problem with its field path and code"
    )
