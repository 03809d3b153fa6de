"""Notifications: the inbox entry and its deliveries, written in the same
transaction as the change that caused them; announced after commit."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from ediary_gql.auth import policy
from ediary_gql.auth.actor import Actor
from ediary_gql.db import bulk
from ediary_gql.db.base import utcnow
from ediary_gql.db.models.enums import Channel, NotificationKind, StaffRole
from ediary_gql.db.models.notifications import Notification, NotificationDelivery
from ediary_gql.db.models.schools import StaffMembership
from ediary_gql.db.models.users import User
from ediary_gql.events.publish import queue_event
from ediary_gql.events.types import DeliveriesQueued, NotificationCreated
from ediary_gql.services import audit, public_ids

# Channels used when a user has not chosen any for a kind: what concerns the
# account or a decision about the person goes by email too; the daily flow of
# the diary (grades, attendance, homework, messages) by push only.
DEFAULT_CHANNELS: dict[NotificationKind, tuple[Channel, ...]] = {
    NotificationKind.VERIFICATION_CODE: (),  # codes go to the contact being confirmed
    NotificationKind.SECURITY: (Channel.EMAIL, Channel.PUSH),
    NotificationKind.APPLICATION_STATUS: (Channel.EMAIL, Channel.PUSH),
    NotificationKind.STAFF_BINDING: (Channel.EMAIL, Channel.PUSH),
    NotificationKind.SCHOOL_STATUS: (Channel.EMAIL, Channel.PUSH),
    NotificationKind.FEEDBACK: (Channel.EMAIL, Channel.PUSH),
    NotificationKind.REPORT: (Channel.EMAIL, Channel.PUSH),  # a requested report is ready (or not)
    NotificationKind.PERSONAL_DATA: (Channel.EMAIL, Channel.PUSH),  # an export ready, an erasure decided
}
FALLBACK_CHANNELS: tuple[Channel, ...] = (Channel.PUSH,)
# Kinds a user may not choose channels for: codes go only where they are asked to.
FIXED_KINDS: frozenset[NotificationKind] = frozenset({NotificationKind.VERIFICATION_CODE})


def default_channels(kind: NotificationKind) -> tuple[Channel, ...]:
    return DEFAULT_CHANNELS.get(kind, FALLBACK_CHANNELS)


def chosen_channels(user: User, kind: NotificationKind) -> tuple[Channel, ...] | None:
    """The channels the user chose for `kind` (User.notification_prefs), None if none were chosen."""
    if kind in FIXED_KINDS:
        return None
    chosen = (user.notification_prefs or {}).get(kind.value)
    if not isinstance(chosen, list):
        return None
    return tuple(dict.fromkeys(Channel(c) for c in chosen if c in Channel.__members__))


def channels_for(user: User, kind: NotificationKind) -> tuple[Channel, ...]:
    chosen = chosen_channels(user, kind)
    return default_channels(kind) if chosen is None else chosen


def _address(user: User, channel: Channel) -> str | None:
    if channel == Channel.EMAIL:
        return user.email
    if channel == Channel.SMS:
        return user.phone
    return f"user:{user.id}"


@dataclass(frozen=True)
class Notice:
    """One inbox entry to write: `notify_many` writes many in a few statements."""

    user: User
    kind: NotificationKind
    title: str
    body: str
    payload: dict[str, Any] | None = None
    # None: the channels the user chose for the kind (or its defaults).
    channels: Iterable[Channel] | None = None


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
    """Put a notification in the user's inbox and queue its deliveries. The payload names
    rows by their ids; clients get global IDs under camelCase keys (public_ids)."""
    (note,) = await notify_many(session, [Notice(user, kind, title, body, payload, channels)])
    return note


async def notify_many(session: AsyncSession, notices: Sequence[Notice]) -> list[Notification]:
    """Write every notice's inbox entry and deliveries: one INSERT for the entries and one
    for the deliveries however many there are. The entries come back as rows outside the
    session (their ids and columns set)."""
    if not notices:
        return []
    now = utcnow()
    rows: list[dict[str, Any]] = [
        {
            "user_id": n.user.id,
            "kind": n.kind,
            "title": n.title,
            "body": n.body,
            "payload": public_ids.public(n.payload) or {},
            "read_at": None,
            "created_at": now,
        }
        for n in notices
    ]
    ids = await bulk.insert_ids(session, Notification, rows, check="user_id")
    deliveries: list[dict[str, Any]] = []
    for notice, note_id in zip(notices, ids, strict=True):
        chosen = notice.channels if notice.channels is not None else channels_for(notice.user, notice.kind)
        for channel in dict.fromkeys(chosen):
            address = _address(notice.user, channel)
            if address:
                # the recipient too: the delivery's reference names the notification's partition
                deliveries.append(
                    {"user_id": notice.user.id, "notification_id": note_id, "channel": channel, "address": address}
                )
        queue_event(session, NotificationCreated(user_id=notice.user.id, notification_id=note_id))
    if deliveries:
        await session.execute(insert(NotificationDelivery), deliveries)
        queue_event(session, DeliveriesQueued())
    return [Notification(id=note_id, **row) for note_id, row in zip(ids, rows, strict=True)]


async def school_admins(session: AsyncSession, school_id: int) -> list[User]:
    """The active admins of a school, the ones its notices go to."""
    return list(
        (
            await session.scalars(
                select(User)
                .join(StaffMembership, StaffMembership.user_id == User.id)
                .where(
                    StaffMembership.school_id == school_id,
                    StaffMembership.role == StaffRole.SCHOOL_ADMIN,
                    StaffMembership.active.is_(True),
                )
                .order_by(User.id)
            )
        ).all()
    )


def inbox_query(actor: Actor, *, unread_only: bool) -> Select[Notification]:
    stmt = select(Notification).where(
        Notification.user_id == actor.user_id, Notification.kind.not_in(policy.HIDDEN_NOTIFICATION_KINDS)
    )
    if unread_only:
        stmt = stmt.where(Notification.read_at.is_(None))
    return stmt


async def mark_read(session: AsyncSession, *, actor: Actor, ids: Sequence[int] | None) -> int:
    """Mark the given notifications (or all) of the actor as read; returns the count."""
    stmt = update(Notification).where(Notification.user_id == actor.user_id, Notification.read_at.is_(None))
    if ids is not None:
        stmt = stmt.where(Notification.id.in_(list(ids)))
    result = await session.execute(stmt.values(read_at=utcnow()))
    marked = int(result.rowcount or 0)  # type: ignore[attr-defined]
    if marked:
        audit.record(
            session,
            actor=actor,
            action="markNotificationsRead",
            entity_type="Notification",
            entity_id=ids[0] if ids is not None and len(ids) == 1 else None,
            after={"ids": None if ids is None else list(ids), "marked": marked},
        )
    return marked
