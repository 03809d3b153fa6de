"""Root fields of the accounts area."""

from __future__ import annotations

from collections.abc import AsyncGenerator

import strawberry

from ediary_gql.resolvers import accounts
from ediary_gql.schema.connection import Connection
from ediary_gql.schema.types.auth import AuthPayload, MarkNotificationsReadPayload, SignOutPayload
from ediary_gql.schema.types.notification import Notification
from ediary_gql.schema.types.user import User


@strawberry.type
class AccountsQuery:
    me: User | None = strawberry.field(resolver=accounts.me, description="The signed-in user; null if anonymous")
    notifications: Connection[Notification] = strawberry.field(
        resolver=accounts.notifications, description="The signed-in user's inbox, newest first"
    )


@strawberry.type
class AccountsMutation:
    sign_in: AuthPayload = strawberry.mutation(resolver=accounts.sign_in)
    refresh_token: AuthPayload = strawberry.mutation(
        resolver=accounts.refresh_token, description="Exchange a refresh token for new tokens (rotates it)"
    )
    sign_out: SignOutPayload = strawberry.mutation(
        resolver=accounts.sign_out, description="Revoke this session, or every session of the user"
    )
    mark_notifications_read: MarkNotificationsReadPayload = strawberry.mutation(
        resolver=accounts.mark_notifications_read
    )


@strawberry.type
class AccountsSubscription:
    @strawberry.subscription(description="New notifications of the signed-in user")
    def notification_received(self, info: accounts.Info) -> AsyncGenerator[Notification, None]:
        return accounts.notification_received(info)
