"""Resolvers of notification preferences: the mutation and the User field."""

from __future__ import annotations

import strawberry

from ediary_gql.auth import policy
from ediary_gql.context import Context
from ediary_gql.db.models.enums import Channel, NotificationKind
from ediary_gql.db.models.users import User as UserRow
from ediary_gql.errors import DomainError
from ediary_gql.resolvers.transaction import transaction
from ediary_gql.schema.errors import user_errors
from ediary_gql.schema.types.delivery import (
    NotificationPreference,
    UpdateNotificationPreferencesInput,
    UpdateNotificationPreferencesPayload,
)
from ediary_gql.services import delivery

Info = strawberry.Info[Context, None]


async def update_notification_preferences(
    info: Info, input: UpdateNotificationPreferencesInput
) -> UpdateNotificationPreferencesPayload:
    ctx = info.context
    actor = policy.require_actor(ctx.actor)
    changes = [
        delivery.PreferenceChange(kind=NotificationKind(p.kind), channels=[Channel(c) for c in p.channels])
        for p in input.preferences
    ]
    try:
        async with transaction(ctx) as session:
            result = await delivery.update_preferences(session, actor=actor, user_id=actor.user_id, changes=changes)
    except DomainError as exc:
        return UpdateNotificationPreferencesPayload(user_errors=user_errors(exc))
    return UpdateNotificationPreferencesPayload(preferences=[NotificationPreference.from_preference(p) for p in result])


async def notification_preferences(context: Context, user_id: int) -> list[NotificationPreference] | None:
    """User.notificationPreferences: the user's own; null for anyone else."""
    if not policy.can_manage_notification_preferences(context.actor, user_id):
        return None
    row = await context.loaders.by_id(UserRow).load(user_id)
    if row is None:
        return None
    return [NotificationPreference.from_preference(p) for p in delivery.preferences_of(row)]
