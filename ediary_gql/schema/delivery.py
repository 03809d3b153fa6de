"""Root fields of notification delivery: the user's channel preferences."""

from __future__ import annotations

import strawberry

from ediary_gql.resolvers import delivery
from ediary_gql.schema.mutations import mutation
from ediary_gql.schema.types.delivery import UpdateNotificationPreferencesInput, UpdateNotificationPreferencesPayload


@strawberry.type
class DeliveryMutation:
    update_notification_preferences: UpdateNotificationPreferencesPayload = mutation(
        delivery.update_notification_preferences,
        UpdateNotificationPreferencesInput,
        UpdateNotificationPreferencesPayload,
        description="Choose the channels (email, SMS, push) for kinds of notifications of the signed-in user",
    )
