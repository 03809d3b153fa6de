"""Notification preferences: the type, the mutation's input and payload."""

from __future__ import annotations

from typing import Self

import strawberry

from ediary_gql.db.models.enums import Channel as ChannelEnum
from ediary_gql.db.models.enums import NotificationKind as KindEnum
from ediary_gql.schema.enums import Channel, NotificationKind
from ediary_gql.schema.errors import UserError
from ediary_gql.schema.mutations import Payload
from ediary_gql.services.delivery import Preference


@strawberry.type(description="How one kind of notification reaches the user, besides the inbox")
class NotificationPreference:
    kind: NotificationKind = strawberry.field(  # type: ignore[valid-type]
        description="What kind of notification preference it is"
    )
    channels: list[Channel] = strawberry.field(  # type: ignore[valid-type]
        description="Channels in force; empty: only the inbox"
    )
    is_default: bool = strawberry.field(description="True while the user has not chosen: the defaults apply")

    @classmethod
    def from_row(cls, preference: Preference) -> Self:
        return cls(
            kind=KindEnum(preference.kind),
            channels=[ChannelEnum(c) for c in preference.channels],
            is_default=preference.is_default,
        )


@strawberry.input(description="The channels for one kind of notification")
class NotificationPreferenceInput:
    kind: NotificationKind = strawberry.field(  # type: ignore[valid-type]
        description="What kind of notification preference it is"
    )
    channels: list[Channel] = strawberry.field(  # type: ignore[valid-type]
        description="Channels to use; an empty list turns deliveries of this kind off (the inbox still gets them)"
    )


@strawberry.input(description="By kind of notice, the channels (email, SMS, push) to deliver it by")
class UpdateNotificationPreferencesInput:
    preferences: list[NotificationPreferenceInput] = strawberry.field(
        description="Kinds to change; kinds not listed keep their channels"
    )


@strawberry.type(description="The notification preferences as stored, or why they were refused")
class UpdateNotificationPreferencesPayload(Payload):
    preferences: list[NotificationPreference] | None = strawberry.field(
        default=None, description="Every kind's channels after the change"
    )
    user_errors: list[UserError] = strawberry.field(
        default_factory=list, description="Why the input was refused: each problem with its field path and code"
    )
