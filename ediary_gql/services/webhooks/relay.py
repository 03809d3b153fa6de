"""The relay: committed changes of the change feed → webhook deliveries.

It reads the event log's RecordChanged events after its place, makes one delivery per
event per ACTIVE webhook of the event's school (an integration's only while the
integration is ACTIVE) that wants its type (and existed when it
happened), and moves its place on — in one transaction that holds its place locked. So
any number of server processes may relay: one at a time, each event once per webhook, and
a crash between reading and committing leaves the place where it was. The place is a row
of `event_log_head` of its own (`PLACE_ID`), so positions the relay has passed are never
read again; the first relay ever starts from the log's beginning (a webhook gets only what
happened since it was registered, so nothing older is sent).

A webhook disabled at the time gets no delivery of what happens meanwhile (the change feed
still has it, for the school to catch up by cursor). Events pruned before the relay read
them (a relay stopped longer than the retention) are skipped.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Select, insert, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from ediary_gql.db.engine import WRITE_TRANSACTION
from ediary_gql.db.models.enums import DeliveryStatus, IntegrationStatus, WebhookStatus
from ediary_gql.db.models.event_log import EventLogHead, EventRecord
from ediary_gql.db.models.integrations import Integration, Webhook, WebhookDelivery
from ediary_gql.events import log as event_log
from ediary_gql.events.log import LoggedEvent
from ediary_gql.events.types import RecordChanged
from ediary_gql.services import public_ids
from ediary_gql.services.changes import Change, change_of

# The relay's place in the event log: a row of event_log_head beside the log's own head
# (HEAD_ID 1), so it is kept, locked and never pruned like the head is.
PLACE_ID = 2
BATCH = 500


def payload_of(change: Change) -> dict[str, Any]:
    """The body of a delivery of `change` (what the receiver reads), with global IDs."""
    return {
        "id": change.event_id,
        "type": change.event_type,
        "occurredAt": change.occurred_at.astimezone(dt.UTC).isoformat().replace("+00:00", "Z"),
        "schoolId": public_ids.global_id("School", change.school_id),
        "data": {
            "recordType": change.node_type,
            "recordId": public_ids.global_id(change.node_type, change.record_id),
            "type": change.type.value,
            "action": change.action.value,
            "cursor": change.cursor,
        },
    }


async def relay_once(session_factory: async_sessionmaker[AsyncSession], *, batch: int = BATCH) -> int:
    """Relay what committed since the last round, up to `batch` events; the deliveries made."""
    end = await event_log.head(session_factory)  # places what waits: every position <= end is final
    async with session_factory() as peek:  # an idle round only reads: no write lock on SQLite
        known = await peek.scalar(select(EventLogHead.last_position).where(EventLogHead.id == PLACE_ID))
    if known is not None and known >= end:
        return 0
    async with session_factory() as session, session.begin():
        await session.connection(execution_options={WRITE_TRANSACTION: True})
        place = await _locked_place(session)
        if place >= end:
            return 0
        rows = (
            await session.scalars(
                select(EventRecord)
                .where(
                    EventRecord.position > place, EventRecord.position <= end, EventRecord.kind == RecordChanged.kind
                )
                .order_by(EventRecord.position)
                .limit(batch)
            )
        ).all()
        found = [
            c
            for r in rows
            if (c := change_of(LoggedEvent(r.position or 0, r.channel, r.kind, r.payload, r.created_at)))
        ]
        made = await _deliveries(session, found)
        reached = (rows[-1].position or end) if len(rows) == batch else end
        await session.execute(update(EventLogHead).where(EventLogHead.id == PLACE_ID).values(last_position=reached))
    return made


async def relay_all(session_factory: async_sessionmaker[AsyncSession]) -> int:
    """Rounds until the relay has caught up with the log; the deliveries made."""
    total = 0
    while True:
        end = await event_log.head(session_factory)
        total += await relay_once(session_factory)
        if await place_of(session_factory) >= end:
            return total


async def place_of(session_factory: async_sessionmaker[AsyncSession]) -> int:
    async with session_factory() as session:
        return int(await session.scalar(select(EventLogHead.last_position).where(EventLogHead.id == PLACE_ID)) or 0)


async def _locked_place(session: AsyncSession) -> int:
    locked = select(EventLogHead.last_position).where(EventLogHead.id == PLACE_ID).with_for_update()
    place = await session.scalar(locked)
    if place is None:  # the first relay ever: from the beginning
        dialect = (await session.connection()).dialect.name
        upsert = postgresql.insert if dialect == "postgresql" else sqlite.insert
        await session.execute(
            upsert(EventLogHead).values(id=PLACE_ID, last_position=0).on_conflict_do_nothing(index_elements=["id"])
        )
        place = await session.scalar(locked)
    return int(place or 0)


def deliverable(query: Select[Any]) -> Select[Any]:
    """`query` (over webhooks) kept to those that may be sent to: active, and an
    integration's only while the integration is active (a revoked one's are never relayed
    nor sent)."""
    return query.outerjoin(Integration, Integration.id == Webhook.integration_id).where(
        Webhook.status == WebhookStatus.ACTIVE,
        or_(Webhook.integration_id.is_(None), Integration.status == IntegrationStatus.ACTIVE),
    )


async def _deliveries(session: AsyncSession, found: Sequence[Change]) -> int:
    if not found:
        return 0
    schools = {c.school_id for c in found}
    hooks = (await session.scalars(deliverable(select(Webhook)).where(Webhook.school_id.in_(schools)))).all()
    rows: list[dict[str, Any]] = []
    for change in found:
        for hook in hooks:
            if (
                hook.school_id == change.school_id
                and change.type.value in hook.events
                and hook.created_at <= change.occurred_at
            ):
                rows.append(
                    {
                        "webhook_id": hook.id,
                        "event_id": change.event_id,
                        "event_type": change.event_type,
                        "payload": payload_of(change),
                        "status": DeliveryStatus.PENDING,
                        "next_attempt_at": change.occurred_at,
                    }
                )
    if rows:
        await session.execute(insert(WebhookDelivery), rows)
    return len(rows)
