"""Announcements of a school; inputs and payloads of publishAnnouncement,
updateAnnouncement and withdrawAnnouncement."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any, Self

import strawberry
from strawberry import relay
from strawberry.file_uploads import Upload

from ediary_gql.db.models import enums
from ediary_gql.db.models.classes import SchoolClass as SchoolClassRow
from ediary_gql.db.models.messages import Announcement as AnnouncementRow
from ediary_gql.db.models.users import User as UserRow
from ediary_gql.resolvers import announcements as resolvers
from ediary_gql.schema.errors import UserError
from ediary_gql.schema.ids import node_id
from ediary_gql.schema.mutations import Payload
from ediary_gql.schema.node import EntityNode
from ediary_gql.schema.types.attachments import Attachment
from ediary_gql.schema.types.school_class import SchoolClass
from ediary_gql.schema.types.stream import cursor_field
from ediary_gql.schema.types.user import User
from ediary_gql.services import announcement_audience as audience
from ediary_gql.services import announcements as service

if TYPE_CHECKING:
    from ediary_gql.context import Context

if TYPE_CHECKING:
    Info = strawberry.Info["Context", None]
else:  # a forward reference in the alias hid `info` from strawberry (it became a GraphQL argument)
    Info = strawberry.Info

AnnouncementKind = strawberry.enum(enums.AnnouncementKind, description="What an announcement is about")
AnnouncementAudience = strawberry.enum(
    enums.AnnouncementAudience,
    description="SCHOOL: the school's staff, families and students; CLASSES: the families and students of "
    "the classes named, their teachers and the school's admins; STAFF: the school's staff only",
)


@strawberry.type(name="Announcement", description="An announcement of a school (объявление)")
class Announcement(EntityNode):
    model = AnnouncementRow

    id: relay.NodeID[int]
    audience: AnnouncementAudience = strawberry.field(description="Who is to read it")  # type: ignore[valid-type]
    kind: AnnouncementKind = strawberry.field(description="What kind of announcement it is")  # type: ignore[valid-type]
    title: str = strawberry.field(description="The heading")
    text: str = strawberry.field(description="The text as written")
    starts_on: dt.date = strawberry.field(description="Shown from this date")
    ends_on: dt.date | None = strawberry.field(description="Shown to this date; null: until withdrawn")
    withdrawn_at: dt.datetime | None = strawberry.field(description="When it was withdrawn; null while it stands")
    created_at: dt.datetime = strawberry.field(description="When the announcement was created")
    updated_at: dt.datetime = strawberry.field(description="When the announcement was last changed")
    _school_id: strawberry.Private[int]
    _author_id: strawberry.Private[int]

    @classmethod
    def from_row(cls, row: Any) -> Self:
        return cls(
            id=row.id,
            audience=enums.AnnouncementAudience(row.audience),
            kind=enums.AnnouncementKind(row.kind),
            title=row.title,
            text=row.body,
            starts_on=row.starts_on,
            ends_on=row.ends_on,
            withdrawn_at=row.withdrawn_at,
            created_at=row.created_at,
            updated_at=row.updated_at,
            _school_id=row.school_id,
            _author_id=row.author_id,
        )

    @classmethod
    async def visible(cls, context: Context, row: Any) -> bool:
        return await resolvers.may_view(context, row)

    @strawberry.field(description="The classes it is addressed to (audience CLASSES); empty otherwise")
    async def classes(self, info: Info) -> list[SchoolClass]:
        pairs = await info.context.loaders.grouped(audience.classes_of).load(self.id)
        rows = await info.context.loaders.by_id(SchoolClassRow).load_many(list(pairs))
        return [SchoolClass.from_row(r) for r in rows if r is not None]

    @strawberry.field(description="Who published it")
    async def author(self, info: Info) -> User | None:
        row = await info.context.loaders.by_id(UserRow).load(self._author_id)
        return User.from_row(row) if row is not None else None

    @strawberry.field(description="Files attached to it")
    async def attachments(self, info: Info) -> list[Attachment]:
        loader = info.context.loaders.grouped(service.attachments)
        return [Attachment.from_row(r) for r in await loader.load(self.id)]


@strawberry.type(description="An announcement published, updated or withdrawn")
class AnnouncementEvent:
    action: str = strawberry.field(description="published, updated or withdrawn")
    announcement: Announcement = strawberry.field(description="The announcement as it now is")
    cursor: str = cursor_field()

    @classmethod
    def of(cls, item: tuple[Any, str], cursor: str) -> Self:
        row, action = item
        return cls(action=action, announcement=Announcement.from_row(row), cursor=cursor)


@strawberry.input(description="Which announcements: all filters together")
class AnnouncementFilter:
    kind: AnnouncementKind | None = strawberry.field(  # type: ignore[valid-type]
        default=None, description="Only those of this kind"
    )
    from_: dt.date | None = strawberry.field(
        name="from", default=None, description="Shown on or after this date (overlapping [startsOn, endsOn])"
    )
    to: dt.date | None = strawberry.field(default=None, description="Shown on or before this date")
    class_id: relay.GlobalID | None = strawberry.field(
        default=None, description="What reaches this class: addressed to it, or to its whole school"
    )
    school_id: relay.GlobalID | None = strawberry.field(default=None, description="Only those of this school")


@strawberry.input(description="A new announcement: admins for any audience, teachers for their classes")
class PublishAnnouncementInput:
    school_id: relay.GlobalID = node_id("School")
    audience: AnnouncementAudience = strawberry.field(description="Who is to read it")  # type: ignore[valid-type]
    class_ids: list[relay.GlobalID] = node_id(
        "SchoolClass", default_factory=list, description="The classes (audience CLASSES only)"
    )
    kind: AnnouncementKind = strawberry.field(  # type: ignore[valid-type]
        default=enums.AnnouncementKind.GENERAL, description="What the announcement is about"
    )
    title: str = strawberry.field(description="At most 200 characters")
    text: str = strawberry.field(description="At most 10 000 characters")
    starts_on: dt.date | None = strawberry.field(default=None, description="Default: today at the school")
    ends_on: dt.date | None = strawberry.field(default=None, description="Last day, inclusive")
    files: list[Upload] = strawberry.field(
        default_factory=list, description="Files sent with this request as a multipart upload; at most 10"
    )


@strawberry.input(description="Change an announcement: what is given changes, what is null stays")
class UpdateAnnouncementInput:
    announcement_id: relay.GlobalID = node_id("Announcement")
    audience: AnnouncementAudience | None = strawberry.field(  # type: ignore[valid-type]
        default=None, description="Who is to read it"
    )
    class_ids: list[relay.GlobalID] | None = node_id("SchoolClass", default=None)
    kind: AnnouncementKind | None = strawberry.field(  # type: ignore[valid-type]
        default=None, description="What kind of update announcement it is"
    )
    title: str | None = strawberry.field(default=None, description="The heading")
    text: str | None = strawberry.field(default=None, description="The text as written")
    starts_on: dt.date | None = strawberry.field(default=None, description="First day, inclusive")
    ends_on: dt.date | None = strawberry.field(default=None, description="Last day, inclusive")
    open_ended: bool = strawberry.field(default=False, description="True: no end date any more")


@strawberry.input(description="Take an announcement down")
class WithdrawAnnouncementInput:
    announcement_id: relay.GlobalID = node_id("Announcement")


@strawberry.type(description="The announcement after the change, or why it was refused")
class AnnouncementPayload(Payload):
    announcement: Announcement | None = strawberry.field(
        default=None, description="The announcement as it now is; null when the input was refused"
    )
    user_errors: list[UserError] = strawberry.field(
        default_factory=list, description="Why the input was refused: each problem with its field path and code"
    )
