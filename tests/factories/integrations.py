"""Integrations (service accounts), their secrets, webhooks and deliveries."""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from ediary_gql.db.models.enums import DeliveryStatus, IntegrationScope, IntegrationStatus, WebhookStatus
from ediary_gql.db.models.integrations import Integration, IntegrationSecret, Webhook, WebhookDelivery
from tests.factories._base import now, persist, seq, take_parents
from tests.factories.schools import make_school
from tests.factories.users import make_user


async def make_integration(session: AsyncSession, **overrides: Any) -> Integration:
    """An active integration of a school reading its roster, acting through a user of its own."""
    o = take_parents(overrides)
    if "school_id" not in o:
        o["school_id"] = (await make_school(session)).id
    if "user_id" not in o:
        o["user_id"] = (await make_user(session, phone=None, email=None)).id
    fields: dict[str, Any] = {
        "name": f"Система {seq()}",
        "client_id": f"client-{secrets.token_hex(8)}",
        "scopes": [IntegrationScope.ROSTER_READ.value],
        "status": IntegrationStatus.ACTIVE,
    }
    fields.update(o)
    return await persist(session, Integration(**fields))


async def make_integration_secret(session: AsyncSession, **overrides: Any) -> IntegrationSecret:
    o = take_parents(overrides)
    if "integration_id" not in o:
        o["integration_id"] = (await make_integration(session)).id
    fields: dict[str, Any] = {"secret_hash": hashlib.sha256(secrets.token_bytes(32)).hexdigest()}
    fields.update(o)
    return await persist(session, IntegrationSecret(**fields))


async def make_webhook(session: AsyncSession, **overrides: Any) -> Webhook:
    o = take_parents(overrides)
    if "school_id" not in o:
        o["school_id"] = (await make_school(session)).id
    fields: dict[str, Any] = {
        "url": f"https://hooks.example.org/{seq()}",
        "events": ["GRADE_CHANGED"],
        "secret": secrets.token_hex(16),
        "status": WebhookStatus.ACTIVE,
    }
    fields.update(o)
    return await persist(session, Webhook(**fields))


async def make_webhook_delivery(session: AsyncSession, **overrides: Any) -> WebhookDelivery:
    o = take_parents(overrides)
    if "webhook_id" not in o:
        o["webhook_id"] = (await make_webhook(session)).id
    fields: dict[str, Any] = {
        "event_id": f"evt_{seq()}",
        "event_type": "GRADE_CHANGED",
        "payload": {"grade": {"id": "R3JhZGU6MQ=="}},
        "status": DeliveryStatus.PENDING,
        "next_attempt_at": now() + dt.timedelta(seconds=1),
    }
    fields.update(o)
    return await persist(session, WebhookDelivery(**fields))
