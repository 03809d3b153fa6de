"""Notifications: the inbox entry and its deliveries, written in the same
transaction as the change that caused them; announced after commit."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import Select, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from ediary_gql.auth.actor import Actor
from ediary_gql.db.base import utcnow
from ediary_gql.db.models.enums import Channel, NotificationKind
from ediary_gql.db.models.notifications import Notification, NotificationDelivery
from ediary_gql.db.models.users import User
from ediary_gql.events.publish import queue_event
from ediary_gql.events.types import NotificationCreated

# Channels used when a user has not chosen any for a kind.
DEFAULT_CHANNELS: dict[NotificationKind, tuple[Channel, ...]] = {
    NotificationKind.VERIFICATION_CODE: (),  # codes go to the contact being confirmed
    NotificationKind.SECURITY: (Channel.EMAIL, Channel.PUSH),
}
FALLBACK_CHANNELS: tuple[Channel, ...] = (Channel.PUSH,)


def channels_for(user: User, kind: NotificationKind) -> tuple[Channel, ...]:
    chosen = (user.notification_prefs or {}).get(kind.value)
    if isinstance(chosen, list):
        return tuple(Channel(c) for c in chosen if c in Channel.__members__)
    return DEFAULT_CHANNELS.get(kind, FALLBACK_CHANNELS)


def _address(user: User, channel: Channel) -> str | None:
    if channel == Channel.EMAIL:
        return user.email
    if channel == Channel.SMS:
        return user.phone
    return f"user:{user.id}"


async def notify(
    session: AsyncSession,
    *,
    user: User,
    kind: NotificationKind,
    title: str,
    body: str,
    payload: dict[str, Any] | None = None,
    channels: Iterable[Channel] | None = None,
) -> Notification:
    """Put a notification in the user's inbox and queue its deliveries."""
    note = Notification(user_id=user.id, kind=kind, title=title, body=body, payload=payload or {})
    session.add(note)
    await session.flush()
    for channel in channels if channels is not None else channels_for(user, kind):
        address = _address(user, channel)
        if address:
            session.add(NotificationDelivery(notification_id=note.id, channel=channel, address=address))
    queue_event(session, NotificationCreated(user_id=user.id, notification_id=note.id))
    return note


def inbox_query(actor: Actor, *, unread_only: bool) -> Select[Notification]:
    stmt = select(Notification).where(Notification.user_id == actor.user_id)
    if unread_only:
        stmt = stmt.where(Notification.read_at.is_(None))
    return stmt


async def mark_read(session: AsyncSession, *, actor: Actor, ids: Sequence[int] | None) -> int:
    """Mark the given notifications (or all) of the actor as read; returns the count."""
    stmt = update(Notification).where(Notification.user_id == actor.user_id, Notification.read_at.is_(None))
    if ids is not None:
        stmt = stmt.where(Notification.id.in_(list(ids)))
    result = await session.execute(stmt.values(read_at=utcnow()))
    return int(result.rowcount or 0)  # type: ignore[attr-defined]
