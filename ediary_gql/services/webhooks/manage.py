"""Webhooks of a school: registering, changing, deleting one, sending a delivery again,
and what a viewer may list. Who: the school's admins (every webhook of the school) and
its integration with events:read (the webhooks it registered) — `policy.can_manage_webhook`."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import Select, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from ediary_gql.auth import policy
from ediary_gql.auth.actor import Actor
from ediary_gql.db.base import utcnow
from ediary_gql.db.models.enums import DeliveryStatus, WebhookStatus
from ediary_gql.db.models.integrations import Webhook, WebhookDelivery
from ediary_gql.db.models.schools import School
from ediary_gql.errors import DomainError, ErrorCode, ErrorCollector, not_found
from ediary_gql.events.publish import queue_event
from ediary_gql.events.types import ChangesCommitted
from ediary_gql.services import audit
from ediary_gql.services.changes import ChangeType
from ediary_gql.services.webhooks import urls

SECRET_MIN = 16
SECRET_MAX = 256
PER_SCHOOL_MAX = 20
REFUSED = "Вебхуки школы регистрируют её администраторы и её интеграции с разрешением events:read"


def _check_events(errors: ErrorCollector, events: Sequence[ChangeType]) -> list[str]:
    if not events:
        errors.add("events", ErrorCode.REQUIRED, "Укажите хотя бы один тип изменений")
    return sorted({ChangeType(e).value for e in events})


def _check_secret(errors: ErrorCollector, secret: str) -> None:
    if not SECRET_MIN <= len(secret) <= SECRET_MAX:
        errors.add("secret", ErrorCode.INVALID, f"Секрет — от {SECRET_MIN} до {SECRET_MAX} символов")
    elif secret != secret.strip():
        errors.add("secret", ErrorCode.INVALID, "Секрет не должен начинаться и кончаться пробелом")


async def _check_url(errors: ErrorCollector, url: str, *, allow_private: bool) -> str:
    try:
        return (await urls.check_for_webhook(url, allow_private=allow_private)).url
    except DomainError as exc:
        errors.errors.extend(exc.errors)
        return url


async def create_webhook(
    session: AsyncSession,
    *,
    actor: Actor,
    school_id: int | None,
    url: str,
    events: Sequence[ChangeType],
    secret: str,
    allow_private: bool,
) -> Webhook:
    """A receiver of the school's changes of `events`, ACTIVE; deliveries are signed with
    `secret`. No school named: the actor's own, as for the change feed (`policy.changes_school`)."""
    policy.require_confirmed(actor)
    if school_id is None:
        school_id = policy.changes_school(actor)
        if school_id is None:
            raise DomainError(ErrorCode.REQUIRED, "Укажите школу", field="schoolId")
    if await session.get(School, school_id) is None:
        raise not_found("schoolId", "Школа не найдена")
    policy.ensure(policy.can_manage_webhook(actor, school_id=school_id, integration_id=actor.integration_id), REFUSED)
    errors = ErrorCollector()
    clean_url = await _check_url(errors, url, allow_private=allow_private)
    wanted = _check_events(errors, events)
    _check_secret(errors, secret)
    await session.scalar(select(School.id).where(School.id == school_id).with_for_update())  # counted one at a time
    count = await session.scalar(select(func.count(Webhook.id)).where(Webhook.school_id == school_id))
    if (count or 0) >= PER_SCHOOL_MAX:
        errors.add("schoolId", ErrorCode.INVALID_STATE, f"У школы уже {PER_SCHOOL_MAX} вебхуков: удалите ненужные")
    errors.raise_if_any()
    row = Webhook(
        school_id=school_id,
        integration_id=actor.integration_id,
        url=clean_url,
        events=wanted,
        secret=secret,
        status=WebhookStatus.ACTIVE,
        created_by_id=actor.user_id,
    )
    session.add(row)
    await session.flush()
    audit.record(
        session,
        actor=actor,
        action="createWebhook",
        entity_type="Webhook",
        entity_id=row.id,
        school_id=school_id,
        after={"url": row.url, "events": wanted},  # never the secret
    )
    return row


async def webhook_to_manage(session: AsyncSession, actor: Actor, webhook_id: int, *, lock: bool = False) -> Webhook:
    """The webhook, if the actor may manage it; NOT_FOUND (as for none) if not."""
    policy.require_confirmed(actor)
    row = await session.get(Webhook, webhook_id, with_for_update=lock)
    if row is None or not policy.can_manage_webhook(actor, school_id=row.school_id, integration_id=row.integration_id):
        raise not_found("webhookId", "Вебхук не найден")
    return row


async def update_webhook(
    session: AsyncSession,
    *,
    actor: Actor,
    webhook_id: int,
    url: str | None = None,
    events: Sequence[ChangeType] | None = None,
    secret: str | None = None,
    active: bool | None = None,
    allow_private: bool,
) -> Webhook:
    """Change what is given; `active` true enables a disabled webhook again (its count of
    failures starts over), false disables it."""
    row = await webhook_to_manage(session, actor, webhook_id, lock=True)
    before = {"url": row.url, "events": list(row.events), "status": row.status.value}
    errors = ErrorCollector()
    clean_url = None if url is None else await _check_url(errors, url, allow_private=allow_private)
    wanted = None if events is None else _check_events(errors, events)
    if secret is not None:
        _check_secret(errors, secret)
    errors.raise_if_any()
    if clean_url is not None:
        row.url = clean_url
    if wanted is not None:
        row.events = wanted
    if secret is not None:
        row.secret = secret
    if active is True and row.status != WebhookStatus.ACTIVE:
        row.status, row.consecutive_failures, row.disabled_at = WebhookStatus.ACTIVE, 0, None
        queue_event(session, ChangesCommitted())  # its waiting deliveries go out at once
    elif active is False and row.status == WebhookStatus.ACTIVE:
        row.status, row.disabled_at = WebhookStatus.DISABLED, utcnow()
    await session.flush()
    after = {"url": row.url, "events": list(row.events), "status": row.status.value}
    audit.record(
        session,
        actor=actor,
        action="updateWebhook",
        entity_type="Webhook",
        entity_id=row.id,
        school_id=row.school_id,
        before=before,
        after={**after, "secretChanged": secret is not None},
    )
    return row


async def delete_webhook(session: AsyncSession, *, actor: Actor, webhook_id: int) -> int:
    """Delete the webhook and its delivery log; its id."""
    row = await webhook_to_manage(session, actor, webhook_id, lock=True)
    audit.record(
        session,
        actor=actor,
        action="deleteWebhook",
        entity_type="Webhook",
        entity_id=row.id,
        school_id=row.school_id,
        before={"url": row.url, "events": list(row.events)},
    )
    await session.delete(row)
    await session.flush()
    return webhook_id


async def redeliver(session: AsyncSession, *, actor: Actor, delivery_id: int) -> WebhookDelivery:
    """Send a delivery's event again, now: a new delivery of the same event (same ID and
    body, signed afresh), whatever became of the first."""
    original = await session.get(WebhookDelivery, delivery_id)
    if original is None:
        raise not_found("deliveryId", "Доставка не найдена")
    try:
        webhook = await webhook_to_manage(session, actor, original.webhook_id)
    except DomainError:
        raise not_found("deliveryId", "Доставка не найдена") from None
    if webhook.status != WebhookStatus.ACTIVE:
        raise DomainError(
            ErrorCode.INVALID_STATE,
            "Вебхук отключён: включите его (updateWebhook), затем повторите",
            field="deliveryId",
        )
    again = WebhookDelivery(
        webhook_id=webhook.id,
        event_id=original.event_id,
        event_type=original.event_type,
        payload=original.payload,
        status=DeliveryStatus.PENDING,
        next_attempt_at=utcnow(),
        redelivery_of_id=original.id,
    )
    session.add(again)
    await session.flush()
    audit.record(
        session,
        actor=actor,
        action="redeliverWebhook",
        entity_type="WebhookDelivery",
        entity_id=again.id,
        school_id=webhook.school_id,
        after={"webhookId": webhook.id, "eventId": original.event_id},
    )
    queue_event(session, ChangesCommitted())  # wakes the senders
    return again


def school_webhooks_query(actor: Actor | None, school_id: int) -> Select[Webhook] | None:
    """The school's webhooks the viewer may see, newest first; None if none at all."""
    if actor is None or not policy.can_read_changes(actor, school_id):
        return None
    query = select(Webhook).where(Webhook.school_id == school_id).order_by(Webhook.id.desc())
    if actor.is_integration:
        query = query.where(Webhook.integration_id == actor.integration_id)
    return query


def may_view(actor: Actor | None, row: Webhook) -> bool:
    return policy.can_manage_webhook(actor, school_id=row.school_id, integration_id=row.integration_id)


def deliveries_query(webhook_id: int, status: DeliveryStatus | None) -> Select[WebhookDelivery]:
    """A webhook's deliveries (the caller checked the webhook), for paging newest first."""
    query = select(WebhookDelivery).where(WebhookDelivery.webhook_id == webhook_id)
    return query if status is None else query.where(WebhookDelivery.status == status)
