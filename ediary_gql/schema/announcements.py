"""Root fields of announcements."""

from __future__ import annotations

from collections.abc import AsyncGenerator
from typing import Annotated

import strawberry
from strawberry import relay

from ediary_gql.context import Context
from ediary_gql.resolvers import announcements
from ediary_gql.schema.connection import After, Before, Connection, First, Last, PageArgs, to_connection
from ediary_gql.schema.ids import optional_pk, pk
from ediary_gql.schema.mutations import mutation
from ediary_gql.schema.subscriptions import AFTER, each
from ediary_gql.schema.types.announcement import (
    Announcement,
    AnnouncementEvent,
    AnnouncementFilter,
    AnnouncementPayload,
    PublishAnnouncementInput,
    UpdateAnnouncementInput,
    WithdrawAnnouncementInput,
)

Info = strawberry.Info[Context, None]


@strawberry.type
class AnnouncementsQuery:
    @strawberry.field(
        description="Standing announcements addressed to the viewer, the latest start first; withdrawn ones hidden"
    )
    async def announcements(
        self,
        info: Info,
        filter: Annotated[
            AnnouncementFilter | None, strawberry.argument(description="Which announcements to list")
        ] = None,
        first: First = None,
        after: After = None,
        last: Last = None,
        before: Before = None,
    ) -> Connection[Announcement]:
        page = await announcements.announcements(
            info.context,
            kind=filter.kind if filter else None,
            from_date=filter.from_ if filter else None,
            to_date=filter.to if filter else None,
            class_id=optional_pk(filter.class_id, "SchoolClass", field="classId") if filter else None,
            school_id=optional_pk(filter.school_id, "School", field="schoolId") if filter else None,
            paging=PageArgs(first=first, after=after, last=last, before=before),
        )
        return to_connection(page, Announcement.from_row)


@strawberry.type
class AnnouncementsMutation:
    publish_announcement: AnnouncementPayload = mutation(
        announcements.publish_announcement,
        PublishAnnouncementInput,
        AnnouncementPayload,
        description="Publish an announcement (admins: any audience; teachers: their classes); notifies its addressees",
    )
    update_announcement: AnnouncementPayload = mutation(
        announcements.update_announcement,
        UpdateAnnouncementInput,
        AnnouncementPayload,
        description="Change an announcement: its author or the school's admins",
    )
    withdraw_announcement: AnnouncementPayload = mutation(
        announcements.withdraw_announcement,
        WithdrawAnnouncementInput,
        AnnouncementPayload,
        description="Take an announcement down: its author or the school's admins",
    )


@strawberry.type
class AnnouncementsSubscription:
    @strawberry.subscription(
        description="Announcements of a school published, updated or withdrawn: each only to those it addresses"
    )
    def announcement_events(
        self,
        info: Info,
        school_id: Annotated[
            relay.GlobalID, strawberry.argument(description="The school whose announcements to follow")
        ],
        after: Annotated[str | None, AFTER] = None,
    ) -> AsyncGenerator[AnnouncementEvent, None]:
        feed = announcements.events_feed(info.context, school_id=pk(school_id, "School", field="schoolId"))
        return each(info, feed, AnnouncementEvent.of, after=after)
