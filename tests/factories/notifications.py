"""Inbox notifications, their deliveries, and the development outbox."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from ediary_gql.db.models.enums import Channel, DeliveryStatus, NotificationKind
from ediary_gql.db.models.notifications import (
    Notification,
    NotificationDelivery,
    OutboxMessage,
)
from tests.factories._base import fake, persist, phone, seq, take_parents
from tests.factories.users import make_user


async def make_notification(session: AsyncSession, **overrides: Any) -> Notification:
    o = take_parents(overrides)
    if "user_id" not in o:
        o["user_id"] = (await make_user(session)).id
    fields: dict[str, Any] = {
        "kind": NotificationKind.SYSTEM,
        "title": "Добро пожаловать в электронный дневник",
        "body": fake.sentence(nb_words=10),
        "payload": {},
    }
    fields.update(o)
    return await persist(session, Notification(**fields))


async def make_notification_delivery(session: AsyncSession, **overrides: Any) -> NotificationDelivery:
    o = take_parents(overrides)
    if "notification_id" not in o:
        note = await make_notification(session, **({"user_id": o["user_id"]} if "user_id" in o else {}))
        o["notification_id"] = note.id
        o["user_id"] = note.user_id
    elif "user_id" not in o:  # the notification's recipient, as the service writes it
        o["user_id"] = (await session.get_one(Notification, o["notification_id"])).user_id
    fields: dict[str, Any] = {
        "channel": Channel.SMS,
        "address": phone(seq()),
        "status": DeliveryStatus.PENDING,
    }
    fields.update(o)
    return await persist(session, NotificationDelivery(**fields))


async def make_outbox_message(session: AsyncSession, **overrides: Any) -> OutboxMessage:
    n = seq()
    fields: dict[str, Any] = {
        "channel": Channel.EMAIL,
        "address": f"user{n}@example.ru",
        "subject": "Код подтверждения",
        "body": f"Ваш код: {n % 1_000_000:06d}",
    }
    fields.update(take_parents(overrides))
    return await persist(session, OutboxMessage(**fields))
