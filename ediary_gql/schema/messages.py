"""Root fields of messages: threads, thread, the four mutations, messageEvents and threadEvents."""

from __future__ import annotations

from collections.abc import AsyncGenerator
from typing import Annotated

import strawberry
from strawberry import relay

from ediary_gql.context import Context
from ediary_gql.resolvers import messages
from ediary_gql.schema.connection import After, Before, Connection, First, Last, PageArgs, to_connection
from ediary_gql.schema.ids import pk, pk_or_none
from ediary_gql.schema.mutations import mutation
from ediary_gql.schema.subscriptions import AFTER, each
from ediary_gql.schema.types.thread import (
    LeaveThreadInput,
    MarkThreadReadInput,
    SendMessageInput,
    SendMessagePayload,
    StartThreadInput,
    StartThreadPayload,
    Thread,
    ThreadEvent,
    ThreadFilter,
    ThreadPayload,
)

Info = strawberry.Info[Context, None]


def _filter_pk(value: relay.GlobalID | None, type_name: str) -> int | None:
    if value is None:
        return None
    found = pk_or_none(value, type_name)
    return -1 if found is None else found  # another type's ID matches nothing


@strawberry.type
class MessagesQuery:
    @strawberry.field(description="Your threads, newest activity first, each with its unread count")
    async def threads(
        self,
        info: Info,
        filter: Annotated[ThreadFilter | None, strawberry.argument(description="Which threads to list")] = None,
        first: First = None,
        after: After = None,
        last: Last = None,
        before: Before = None,
    ) -> Connection[Thread]:
        f = filter or ThreadFilter()
        page = await messages.threads(
            info.context,
            unread=f.unread,
            child_id=_filter_pk(f.child_id, "Child"),
            class_id=_filter_pk(f.class_id, "SchoolClass"),
            paging=PageArgs(first=first, after=after, last=last, before=before),
        )
        return to_connection(page, Thread.from_row)

    @strawberry.field(description="One of your threads; null if absent or not yours")
    async def thread(
        self, info: Info, id: Annotated[relay.GlobalID, strawberry.argument(description="The thread's global ID")]
    ) -> Thread | None:
        row = await messages.thread(info.context, thread_id=pk_or_none(id, "Thread"))
        return Thread.from_row(row) if row is not None else None


@strawberry.type
class MessagesMutation:
    start_thread: StartThreadPayload = mutation(
        messages.start_thread,
        StartThreadInput,
        StartThreadPayload,
        description="Start a thread (about a child, for a class, or with colleagues) with its first message",
    )
    send_message: SendMessagePayload = mutation(
        messages.send_message, SendMessageInput, SendMessagePayload, description="Write in a thread"
    )
    mark_thread_read: ThreadPayload = mutation(
        messages.mark_thread_read, MarkThreadReadInput, ThreadPayload, description="Mark a thread's messages read"
    )
    leave_thread: ThreadPayload = mutation(
        messages.leave_thread,
        LeaveThreadInput,
        ThreadPayload,
        description="Leave a thread: it is no longer shown to you",
    )


@strawberry.type
class MessagesSubscription:
    @strawberry.subscription(description="New messages in any of your threads")
    def message_events(
        self, info: Info, after: Annotated[str | None, AFTER] = None
    ) -> AsyncGenerator[ThreadEvent, None]:
        return each(info, messages.message_feed(info.context), ThreadEvent.of, after=after)

    @strawberry.subscription(description="New messages, read marks and departures in one thread")
    def thread_events(
        self,
        info: Info,
        thread_id: Annotated[relay.GlobalID, strawberry.argument(description="The thread to follow")],
        after: Annotated[str | None, AFTER] = None,
    ) -> AsyncGenerator[ThreadEvent, None]:
        feed = messages.thread_feed(thread_id=pk(thread_id, "Thread", field="threadId"))
        return each(info, feed, ThreadEvent.of, after=after)
