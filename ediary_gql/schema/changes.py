"""Root fields of the change feed: changes (a page after a cursor) and changeEvents (live)."""

from __future__ import annotations

from collections.abc import AsyncGenerator
from typing import Annotated

import strawberry
from strawberry import relay

from ediary_gql.context import Context
from ediary_gql.resolvers import changes
from ediary_gql.schema.ids import optional_pk
from ediary_gql.schema.subscriptions import AFTER, each
from ediary_gql.schema.types.change import Change, ChangePage, ChangeType
from ediary_gql.services.changes import DEFAULT_FIRST, MAX_FIRST

Info = strawberry.Info[Context, None]
WHO = (
    "; the school's admins and its integration with events:read. `schoolId` may be left out by an integration "
    "(its school) and by the admin of one school"
)
SCHOOL = strawberry.argument(description="The school (see above for when it may be left out)")
TYPES = strawberry.argument(description="Only these kinds of record (null: all)")


@strawberry.type
class ChangesQuery:
    @strawberry.field(
        description="Every create, update and delete of a school's lessons, grades, attendance marks, homework and "
        "enrolments after a cursor, in commit order: poll with the page's `cursor`. "
        f"`first`: 1…{MAX_FIRST} (null: {DEFAULT_FIRST}); no `after`: from the oldest change kept; a cursor the "
        "log no longer covers (EVENT_RETENTION_DAYS) is refused with CURSOR_EXPIRED" + WHO
    )
    async def changes(
        self,
        info: Info,
        school_id: Annotated[relay.GlobalID | None, SCHOOL] = None,
        after: Annotated[
            str | None,
            strawberry.argument(
                description="Cursor of the last change read; from the start of the log kept when absent"
            ),
        ] = None,
        types: Annotated[list[ChangeType] | None, TYPES] = None,  # type: ignore[valid-type]
        first: Annotated[int | None, strawberry.argument(description="At most this many changes")] = DEFAULT_FIRST,
    ) -> ChangePage:
        page = await changes.changes(
            info.context,
            school_id=optional_pk(school_id, "School", field="schoolId"),
            after=after,
            first=DEFAULT_FIRST if first is None else first,
            types=types,
        )
        return ChangePage.of(page)


@strawberry.type
class ChangesSubscription:
    @strawberry.subscription(description="A school's changes as they commit, as `changes` lists them" + WHO)
    def change_events(
        self,
        info: Info,
        school_id: Annotated[relay.GlobalID | None, SCHOOL] = None,
        types: Annotated[list[ChangeType] | None, TYPES] = None,  # type: ignore[valid-type]
        after: Annotated[str | None, AFTER] = None,
    ) -> AsyncGenerator[Change, None]:
        feed = changes.changes_feed(
            info.context, school_id=optional_pk(school_id, "School", field="schoolId"), types=types
        )
        return each(info, feed, Change.delivered, after=after)
