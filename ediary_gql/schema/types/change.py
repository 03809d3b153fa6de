"""The change feed's types: Change (one create, update or delete of a school's record) and
ChangePage."""

from __future__ import annotations

import datetime as dt
from typing import Any, Self

import strawberry
from strawberry import relay

from ediary_gql.services import changes as service

ChangeType = strawberry.enum(service.ChangeType, name="ChangeType", description="The kinds of record the feed tells of")
ChangeAction = strawberry.enum(service.ChangeAction, name="ChangeAction", description="What happened to the record")


@strawberry.type(description="One create, update or delete of a school's record, in commit order")
class Change:
    event_id: str = strawberry.field(
        description="The change's stable ID: a webhook delivery of it carries the same in X-Ediary-Event-Id"
    )
    cursor: str = strawberry.field(description="Where this change is in the feed: pass it as `after` to read on")
    type: ChangeType = strawberry.field(description="What kind of record changed")  # type: ignore[valid-type]
    action: ChangeAction = strawberry.field(description="What happened to it")  # type: ignore[valid-type]
    event_type: str = strawberry.field(
        description="The type and action as webhooks name them (X-Ediary-Event-Type): `grade.created`, …"
    )
    occurred_at: dt.datetime = strawberry.field(description="When the change was committed")
    school_id: relay.GlobalID = strawberry.field(description="The school whose record it is")
    record_id: relay.GlobalID = strawberry.field(
        description="The global ID of the record: a Lesson, Grade, Attendance, Homework or Enrollment"
    )

    @strawberry.field(
        description="The record as it is now; null once deleted, or when it is not yours to read (an "
        "integration reads records with diary:read)"
    )
    async def record(self, info: strawberry.Info) -> relay.Node | None:
        found: relay.Node | None = await self.record_id.resolve_node(info)
        return found

    @classmethod
    def of(cls, change: service.Change) -> Self:
        return cls(
            event_id=change.event_id,
            cursor=change.cursor,
            type=change.type,
            action=change.action,
            event_type=change.event_type,
            occurred_at=change.occurred_at,
            school_id=relay.GlobalID("School", str(change.school_id)),
            record_id=relay.GlobalID(change.node_type, str(change.record_id)),
        )

    @classmethod
    def delivered(cls, change: service.Change, _cursor: str) -> Self:
        """As a subscription sends it (the change's own cursor is the stream's)."""
        return cls.of(change)


@strawberry.type(description="A page of a school's changes, oldest first")
class ChangePage:
    changes: list[Change] = strawberry.field(description="The changes of this page, oldest first")
    cursor: str = strawberry.field(
        description="Resume from here (pass it as `after`): the last change's cursor when more follow, else the "
        "feed's end when the page was read"
    )
    has_more: bool = strawberry.field(description="Whether more follow at once: ask again with `cursor`")

    @classmethod
    def of(cls, page: Any) -> Self:
        return cls(changes=[Change.of(c) for c in page.changes], cursor=page.cursor, has_more=page.has_more)
