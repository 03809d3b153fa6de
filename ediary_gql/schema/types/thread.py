"""Threads and messages; inputs and payloads of startThread, sendMessage, markThreadRead, leaveThread."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any, Self

import strawberry
from strawberry import relay
from strawberry.file_uploads import Upload

from ediary_gql.db.models.messages import Message as MessageRow
from ediary_gql.db.models.messages import Thread as ThreadRow
from ediary_gql.db.models.users import User as UserRow
from ediary_gql.resolvers import messages
from ediary_gql.schema.connection import After, Before, Connection, First, Last, PageArgs, to_connection
from ediary_gql.schema.errors import UserError
from ediary_gql.schema.ids import node_id
from ediary_gql.schema.mutations import Payload
from ediary_gql.schema.node import EntityNode
from ediary_gql.schema.types.attachments import Attachment
from ediary_gql.schema.types.stream import cursor_field
from ediary_gql.schema.types.user import User

if TYPE_CHECKING:
    from ediary_gql.context import Context

if TYPE_CHECKING:
    Info = strawberry.Info["Context", None]
else:  # a forward reference in the alias hid `info` from strawberry
    Info = strawberry.Info


async def _user(info: Info, user_id: int) -> User | None:
    row = await info.context.loaders.by_id(UserRow).load(user_id)
    return User.from_row(row) if row is not None else None


@strawberry.type(name="Message", description="A message in a thread")
class Message(EntityNode):
    model = MessageRow

    id: relay.NodeID[int]
    text: str = strawberry.field(description="The text as written")
    created_at: dt.datetime = strawberry.field(description="When the message was created")
    _thread_id: strawberry.Private[int]
    _author_id: strawberry.Private[int]

    @classmethod
    def from_row(cls, row: Any) -> Self:
        return cls(
            id=row.id, text=row.body, created_at=row.created_at, _thread_id=row.thread_id, _author_id=row.author_id
        )

    @classmethod
    async def visible(cls, context: Context, row: Any) -> bool:
        thread = await context.loaders.by_id(ThreadRow).load(row.thread_id)
        return thread is not None and await messages.may_view(context, thread)

    @strawberry.field(description="Who wrote it")
    async def author(self, info: Info) -> User | None:
        return await _user(info, self._author_id)

    @strawberry.field(description="The thread it is in")
    async def thread(self, info: Info) -> Thread | None:
        row = await info.context.loaders.by_id(ThreadRow).load(self._thread_id)
        return Thread.from_row(row) if row is not None else None

    @strawberry.field(description="Files sent with the message")
    async def attachments(self, info: Info) -> list[Attachment]:
        return [Attachment.from_row(a) for a in await messages.message_attachments(info.context, self.id)]


@strawberry.type(description="A member of a thread")
class ThreadParticipant:
    last_read_at: dt.datetime | None = strawberry.field(description="Up to when the participant has read the thread")
    _user_id: strawberry.Private[int]

    @strawberry.field(description="The participant")
    async def user(self, info: Info) -> User | None:
        return await _user(info, self._user_id)


@strawberry.type(name="Thread", description="A conversation between staff and families at one school")
class Thread(EntityNode):
    model = ThreadRow

    id: relay.NodeID[int]
    subject: str = strawberry.field(description="The thread's subject line")
    last_message_at: dt.datetime = strawberry.field(description="When its latest message was sent")
    created_at: dt.datetime = strawberry.field(description="When the thread was created")
    _child_id: strawberry.Private[int | None]
    _class_id: strawberry.Private[int | None]
    _created_by_id: strawberry.Private[int]

    @classmethod
    def from_row(cls, row: Any) -> Self:
        return cls(
            id=row.id,
            subject=row.subject,
            last_message_at=row.last_message_at,
            created_at=row.created_at,
            _child_id=row.child_id,
            _class_id=row.class_id,
            _created_by_id=row.created_by_id,
        )

    @classmethod
    async def visible(cls, context: Context, row: Any) -> bool:
        return await messages.may_view(context, row)

    @strawberry.field(description="The child the conversation is about, if any")
    def child_id(self) -> relay.GlobalID | None:
        return None if self._child_id is None else relay.GlobalID("Child", str(self._child_id))

    @strawberry.field(description="The class whose families it is with, if any")
    def class_id(self) -> relay.GlobalID | None:
        return None if self._class_id is None else relay.GlobalID("SchoolClass", str(self._class_id))

    @strawberry.field(description="Who started it")
    async def created_by(self, info: Info) -> User | None:
        return await _user(info, self._created_by_id)

    @strawberry.field(description="Messages by others you have not read")
    async def unread_count(self, info: Info) -> int:
        return await messages.unread_count(info.context, self.id)

    @strawberry.field(description="Its members who have not left")
    async def participants(self, info: Info) -> list[ThreadParticipant]:
        rows = await messages.participants(info.context, self.id)
        return [ThreadParticipant(last_read_at=p.last_read_at, _user_id=p.user_id) for p in rows]

    @strawberry.field(description="Its messages, newest first")
    async def messages(
        self, info: Info, first: First = None, after: After = None, last: Last = None, before: Before = None
    ) -> Connection[Message]:
        page = await messages.messages(
            info.context, self.id, paging=PageArgs(first=first, after=after, last=last, before=before)
        )
        return to_connection(page, Message.from_row)


@strawberry.type(description="An event of a thread: a new message, a read mark, a departure")
class ThreadEvent:
    action: str = strawberry.field(description='"message", "read" or "left"')
    thread: Thread = strawberry.field(description="The thread")
    message: Message | None = strawberry.field(description="The new message, for a message event")
    user_id: relay.GlobalID | None = strawberry.field(description="Who read or left, for read and left events")
    cursor: str = cursor_field()

    @classmethod
    def of(cls, event: messages.ThreadEvent, cursor: str) -> Self:
        return cls(
            cursor=cursor,
            action=event.action,
            thread=Thread.from_row(event.thread),
            message=Message.from_row(event.message) if event.message is not None else None,
            user_id=None if event.user_id is None else relay.GlobalID("User", str(event.user_id)),
        )


@strawberry.input(description="Filter of threads")
class ThreadFilter:
    unread: bool | None = strawberry.field(default=None, description="Only those with unread messages")
    child_id: relay.GlobalID | None = strawberry.field(default=None, description="Only those about this child")
    class_id: relay.GlobalID | None = strawberry.field(default=None, description="Only those of this class")


_FILES = "Files sent with the message as a multipart upload: PDF, JPG or PNG, at most 10"


@strawberry.input(description="A new thread and its first message")
class StartThreadInput:
    subject: str = strawberry.field(description="The thread's subject line")
    text: str = strawberry.field(description="The text as written")
    child_id: relay.GlobalID | None = node_id("Child", default=None, description="The child it is about")
    class_id: relay.GlobalID | None = node_id(
        "SchoolClass", default=None, description="A class: the guardians of its children enrolled now take part"
    )
    participant_ids: list[relay.GlobalID] = node_id("User", default_factory=list, description="Whom to write to")
    files: list[Upload] = strawberry.field(default_factory=list, description=_FILES)


@strawberry.input(description="A message in a thread")
class SendMessageInput:
    thread_id: relay.GlobalID = node_id("Thread")
    text: str = strawberry.field(description="The text as written")
    files: list[Upload] = strawberry.field(default_factory=list, description=_FILES)


@strawberry.input(description="Mark a thread's messages read, up to its newest")
class MarkThreadReadInput:
    thread_id: relay.GlobalID = node_id("Thread")


@strawberry.input(description="Leave a thread")
class LeaveThreadInput:
    thread_id: relay.GlobalID = node_id("Thread")


@strawberry.type(description="The new thread with its first message, or why it was refused")
class StartThreadPayload(Payload):
    thread: Thread | None = strawberry.field(
        default=None, description="The thread as it now is; null when the input was refused"
    )
    message: Message | None = strawberry.field(
        default=None, description="The message sent; null when the input was refused"
    )
    user_errors: list[UserError] = strawberry.field(
        default_factory=list, description="Why the input was refused: each problem with its field path and code"
    )

    @classmethod
    def of(cls, result: messages.ThreadStarted) -> Self:
        return cls(thread=Thread.from_row(result.thread), message=Message.from_row(result.message))


@strawberry.type(description="The message sent, or why it was refused")
class SendMessagePayload(Payload):
    message: Message | None = strawberry.field(
        default=None, description="The message sent; null when the input was refused"
    )
    user_errors: list[UserError] = strawberry.field(
        default_factory=list, description="Why the input was refused: each problem with its field path and code"
    )


@strawberry.type(description="The thread after the change, or why it was refused")
class ThreadPayload(Payload):
    thread: Thread | None = strawberry.field(
        default=None, description="The thread as it now is; null when the input was refused"
    )
    user_errors: list[UserError] = strawberry.field(
        default_factory=list, description="Why the input was refused: each problem with its field path and code"
    )
