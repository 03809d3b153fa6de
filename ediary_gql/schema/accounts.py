"""Root fields of the accounts area."""

from __future__ import annotations

from collections.abc import AsyncGenerator
from typing import Annotated

import strawberry

from ediary_gql.context import Context
from ediary_gql.resolvers import accounts
from ediary_gql.schema.connection import After, Before, Connection, First, Last, to_connection
from ediary_gql.schema.mutations import mutation
from ediary_gql.schema.subscriptions import AFTER, each, entity
from ediary_gql.schema.types.auth import (
    AuthPayload,
    MarkNotificationsReadInput,
    MarkNotificationsReadPayload,
    RefreshTokenInput,
    SignInInput,
    SignOutInput,
    SignOutPayload,
)
from ediary_gql.schema.types.notification import Notification, NotificationEvent
from ediary_gql.schema.types.user import User

Info = strawberry.Info[Context, None]


@strawberry.type
class AccountsQuery:
    @strawberry.field(description="The signed-in user; null if anonymous")
    async def me(self, info: Info) -> User | None:
        row = await accounts.me(info.context)
        return User.from_row(row) if row is not None else None

    @strawberry.field(description="The signed-in user's inbox, newest first")
    async def notifications(
        self,
        info: Info,
        unread: Annotated[bool, strawberry.argument(description="Only the unread ones")] = False,
        first: First = None,
        after: After = None,
        last: Last = None,
        before: Before = None,
    ) -> Connection[Notification]:
        page = await accounts.notifications(
            info.context, unread=unread, first=first, after=after, last=last, before=before
        )
        return to_connection(page, Notification.from_row)


@strawberry.type
class AccountsMutation:
    # credential errors (a wrong password, a bad or reused refresh token) are the input's fault: data
    sign_in: AuthPayload = mutation(
        accounts.sign_in,
        SignInInput,
        AuthPayload,
        description="Sign in with a login (phone or email) and password, and a second-factor code when enabled: "
        "an access token and a refresh token",
        actor="optional",
        records_refusals=True,  # a failed attempt is counted (and audited) though the sign-in is refused
    )
    refresh_token: AuthPayload = mutation(
        accounts.refresh_token,
        RefreshTokenInput,
        AuthPayload,
        description="Exchange a refresh token for new tokens (rotates it)",
        actor="optional",
        records_refusals=True,  # a reused token's revocation stands
    )
    sign_out: SignOutPayload = mutation(
        accounts.sign_out,
        SignOutInput,
        SignOutPayload,
        description="Revoke this session, or every session of the user",
        optional_input=True,
    )
    mark_notifications_read: MarkNotificationsReadPayload = mutation(
        accounts.mark_notifications_read,
        MarkNotificationsReadInput,
        MarkNotificationsReadPayload,
        description="Mark notifications read: those of `input.ids`, or without them every unread one",
        optional_input=True,
    )


@strawberry.type
class AccountsSubscription:
    @strawberry.subscription(
        description="New notifications of the signed-in user",
        deprecation_reason="Use notificationEvents: its events carry a cursor to resume from",
    )
    def notification_received(
        self, info: Info, after: Annotated[str | None, AFTER] = None
    ) -> AsyncGenerator[Notification, None]:
        return each(info, accounts.notification_received(info.context), entity(Notification.from_row), after=after)

    @strawberry.subscription(description="New notifications of the signed-in user, each with its cursor")
    def notification_events(
        self, info: Info, after: Annotated[str | None, AFTER] = None
    ) -> AsyncGenerator[NotificationEvent, None]:
        return each(info, accounts.notification_received(info.context), NotificationEvent.of, after=after)
