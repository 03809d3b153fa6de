"""FeedbackTicket (обращение): a question, a problem or an error in the data, sent to the
portal's operators; its links, files, inputs and payloads."""

from __future__ import annotations

import datetime as dt
import enum
from typing import TYPE_CHECKING, Any, Self

import strawberry
from strawberry import relay
from strawberry.file_uploads import Upload

from ediary_gql.db.models import enums
from ediary_gql.db.models.feedback import FeedbackTicket as FeedbackTicketRow
from ediary_gql.db.models.schools import School as SchoolRow
from ediary_gql.db.models.users import User as UserRow
from ediary_gql.resolvers import feedback as fields
from ediary_gql.schema.errors import UserError
from ediary_gql.schema.ids import node_id
from ediary_gql.schema.mutations import Payload
from ediary_gql.schema.node import EntityNode
from ediary_gql.schema.types.attachments import Attachment
from ediary_gql.schema.types.school import School
from ediary_gql.schema.types.stream import cursor_field
from ediary_gql.schema.types.user import User
from ediary_gql.services import feedback as service

if TYPE_CHECKING:
    from ediary_gql.context import Context

if TYPE_CHECKING:
    Info = strawberry.Info["Context", None]
else:  # a forward reference in the alias hid `info` from strawberry (it became a GraphQL argument)
    Info = strawberry.Info

FeedbackCategory = strawberry.enum(
    enums.FeedbackCategory,
    description="TECHNICAL (something does not work), CONTENT_ERROR (wrong data of a school: a grade, a lesson), "
    "SUGGESTION",
)
FeedbackStatus = strawberry.enum(
    enums.FeedbackStatus,
    description="OPEN → IN_PROGRESS → ANSWERED → CLOSED; the author may reopen within 7 days of the answer",
)


@strawberry.enum(description="What the viewer may do with a ticket now")
class FeedbackTicketAction(enum.Enum):
    TAKE = "TAKE"
    ANSWER = "ANSWER"
    REOPEN = "REOPEN"
    CLOSE = "CLOSE"


@strawberry.type(description="A diary record a ticket is about, as the ticket's readers see it")
class FeedbackLink:
    id: relay.GlobalID = strawberry.field(
        description="The record's global ID (node(id:) answers it only for those who may see the record itself)"
    )
    type_name: str = strawberry.field(description="Grade, Lesson, Homework, Attendance or Child")
    summary: str = strawberry.field(
        description="What the record is, in Russian, e.g. «Оценка 3 (контрольная), математика, 12.11.2026, "
        "Иванов Артём»: how operators see the diary content a ticket is about"
    )


async def _user(info: Info, user_id: int | None) -> User | None:
    if user_id is None:
        return None
    row = await info.context.loaders.by_id(UserRow).load(user_id)
    return User.from_row(row) if row is not None else None


@strawberry.type(name="FeedbackTicket", description="A feedback ticket (обращение), answered within 24 hours")
class FeedbackTicket(EntityNode):
    model = FeedbackTicketRow

    id: relay.NodeID[int]
    number: str = strawberry.field(description='"FB-2026-000042"')
    category: FeedbackCategory = strawberry.field(description="What the ticket is about")  # type: ignore[valid-type]
    status: FeedbackStatus = strawberry.field(  # type: ignore[valid-type]
        description="Where the feedback ticket is in its life cycle"
    )
    subject: str = strawberry.field(description="The ticket's subject line")
    description: str = strawberry.field(description="The author's text")
    contact_email: str | None = strawberry.field(description="Where the author also wants the answer, by email")
    answer_due_at: dt.datetime = strawberry.field(description="The answer is due by then (24 hours, anew on reopening)")
    taken_at: dt.datetime | None = strawberry.field(description="When an operator took it; null until then")
    answer: str | None = strawberry.field(description="The latest answer (kept while a reopened ticket waits)")
    answered_at: dt.datetime | None = strawberry.field(description="When an operator answered; null until then")
    closed_at: dt.datetime | None = strawberry.field(description="When it was closed; null while open")
    reopened_count: int = strawberry.field(description="How many times the author reopened it")
    created_at: dt.datetime = strawberry.field(description="When the feedback ticket was created")
    updated_at: dt.datetime = strawberry.field(description="When the feedback ticket was last changed")
    _row: strawberry.Private[Any]

    @classmethod
    def from_row(cls, row: Any) -> Self:
        return cls(
            id=row.id,
            number=row.number,
            category=enums.FeedbackCategory(row.category),
            status=enums.FeedbackStatus(row.status),
            subject=row.subject,
            description=row.text,
            contact_email=row.contact_email,
            answer_due_at=row.answer_due_at,
            taken_at=row.taken_at,
            answer=row.answer,
            answered_at=row.answered_at,
            closed_at=row.closed_at,
            reopened_count=row.reopened_count or 0,
            created_at=row.created_at,
            updated_at=row.updated_at,
            _row=row,
        )

    @classmethod
    async def visible(cls, context: Context, row: Any) -> bool:
        return fields.may_view(context.actor, row)

    @strawberry.field(description="Waiting for an answer past its deadline")
    def overdue(self) -> bool:
        return fields.is_overdue(self._row)

    @strawberry.field(description="Until when the author may reopen it (7 days after the answer); null while waiting")
    def reopenable_until(self) -> dt.datetime | None:
        return service.reopenable_until(self._row)

    @strawberry.field(description="Who filed it")
    async def author(self, info: Info) -> User | None:
        return await _user(info, self._row.author_id)

    @strawberry.field(description="Who took it into work")
    async def assignee(self, info: Info) -> User | None:
        return await _user(info, self._row.assignee_id)

    @strawberry.field(description="Who answered it")
    async def answered_by(self, info: Info) -> User | None:
        return await _user(info, self._row.answered_by_id)

    @strawberry.field(description="The school whose records a CONTENT_ERROR ticket is about (its admins see it too)")
    async def school(self, info: Info) -> School | None:
        if self._row.school_id is None:
            return None
        row = await info.context.loaders.by_id(SchoolRow).load(self._row.school_id)
        return School.from_row(row) if row is not None else None

    @strawberry.field(description="The diary records it is about, each with a summary")
    async def links(self, info: Info) -> list[FeedbackLink]:
        return [
            FeedbackLink(
                id=relay.GlobalID(link.type_name, str(link.pk)), type_name=link.type_name, summary=link.summary
            )
            for link in await fields.links(info.context, self._row)
        ]

    @strawberry.field(description="Files sent with it (screenshots)")
    async def attachments(self, info: Info) -> list[Attachment]:
        return [Attachment.from_row(r) for r in await fields.attachments(info.context, self._row.id)]

    @strawberry.field(description="What the viewer may do with it now")
    def available_actions(self, info: Info) -> list[FeedbackTicketAction]:
        return [FeedbackTicketAction(a) for a in fields.available_actions(info.context, self._row)]


# --- inputs and payloads ------------------------------------------------------------------


@strawberry.input(description="A new feedback ticket; files go as a multipart request")
class SubmitFeedbackInput:
    category: FeedbackCategory = strawberry.field(description="What the ticket is about")  # type: ignore[valid-type]
    subject: str = strawberry.field(description="At most 200 characters")
    description: str = strawberry.field(description="What happened, or what you suggest")
    contact_email: str | None = strawberry.field(
        default=None, description="Where to send the answer by email too (besides your notification channels)"
    )
    link_ids: list[relay.GlobalID] = strawberry.field(
        default_factory=list,
        description="Diary records it is about (Grade, Lesson, Homework, Attendance, Child), each one you may see; "
        "a CONTENT_ERROR about one school's records is shown to that school's admins too",
    )
    files: list[Upload] = strawberry.field(
        default_factory=list, description="Screenshots or documents: PDF, JPG or PNG, at most 5"
    )


@strawberry.input(description="Take an OPEN ticket into work")
class TakeFeedbackTicketInput:
    ticket_id: relay.GlobalID = node_id("FeedbackTicket")


@strawberry.input(description="Reopen your answered ticket (within 7 days of the answer)")
class ReopenFeedbackTicketInput:
    ticket_id: relay.GlobalID = node_id("FeedbackTicket")


@strawberry.input(description="Close an answered ticket")
class CloseFeedbackTicketInput:
    ticket_id: relay.GlobalID = node_id("FeedbackTicket")


@strawberry.input(description="The answer to a feedback ticket")
class AnswerFeedbackTicketInput:
    ticket_id: relay.GlobalID = node_id("FeedbackTicket")
    answer: str = strawberry.field(description="The operator's answer")


@strawberry.input(description="Filters of the operators' queue")
class FeedbackTicketFilter:
    status: FeedbackStatus | None = strawberry.field(  # type: ignore[valid-type]
        default=None, description="Only those in this status"
    )
    category: FeedbackCategory | None = strawberry.field(  # type: ignore[valid-type]
        default=None, description="Only those of this category"
    )
    overdue: bool | None = strawberry.field(default=None, description="Waiting past the deadline (or not)")


@strawberry.type(description="The feedback ticket after the change, or why it was refused")
class FeedbackTicketPayload(Payload):
    ticket: FeedbackTicket | None = strawberry.field(
        default=None, description="The ticket as it now is; null when the input was refused"
    )
    user_errors: list[UserError] = strawberry.field(
        default_factory=list, description="Why the input was refused: each problem with its field path and code"
    )


@strawberry.type(description="A feedback ticket submitted, taken, answered, reopened or closed")
class FeedbackTicketEvent:
    ticket: FeedbackTicket = strawberry.field(description="The ticket as it now is")
    cursor: str = cursor_field()

    @classmethod
    def of(cls, row: Any, cursor: str) -> Self:
        return cls(ticket=FeedbackTicket.from_row(row), cursor=cursor)
