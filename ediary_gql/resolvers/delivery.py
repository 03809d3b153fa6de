"""Notification preferences: the mutation and the User field. Results are the service's
`Preference`s, turned into types by schema/types/delivery.py."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from ediary_gql.auth import policy
from ediary_gql.auth.actor import Actor
from ediary_gql.context import Context
from ediary_gql.db.models.enums import Channel, NotificationKind
from ediary_gql.db.models.users import User as UserRow
from ediary_gql.services import delivery


async def update_notification_preferences(
    ctx: Context, session: AsyncSession, actor: Actor, *, preferences: Sequence[Any]
) -> list[delivery.Preference]:
    changes = [
        delivery.PreferenceChange(kind=NotificationKind(p.kind), channels=[Channel(c) for c in p.channels])
        for p in preferences
    ]
    return await delivery.update_preferences(session, actor=actor, user_id=actor.user_id, changes=changes)


async def notification_preferences(context: Context, user_id: int) -> list[delivery.Preference] | None:
    """User.notificationPreferences: the user's own; null for anyone else."""
    if not policy.can_manage_notification_preferences(context.actor, user_id):
        return None
    row = await context.loaders.by_id(UserRow).load(user_id)
    if row is None:
        return None
    return list(delivery.preferences_of(row))
