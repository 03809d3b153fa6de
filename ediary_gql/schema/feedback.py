"""Root fields of feedback tickets (обращения)."""

from __future__ import annotations

from collections.abc import AsyncGenerator
from typing import Annotated

import strawberry
from strawberry import relay

from ediary_gql.context import Context
from ediary_gql.db.models import enums
from ediary_gql.resolvers import feedback
from ediary_gql.schema.connection import After, Before, Connection, First, Last, PageArgs, to_connection
from ediary_gql.schema.ids import optional_pk, pk_or_none
from ediary_gql.schema.mutations import mutation
from ediary_gql.schema.subscriptions import AFTER, each, entity
from ediary_gql.schema.types.feedback import (
    AnswerFeedbackTicketInput,
    CloseFeedbackTicketInput,
    FeedbackTicket,
    FeedbackTicketEvent,
    FeedbackTicketFilter,
    FeedbackTicketPayload,
    ReopenFeedbackTicketInput,
    SubmitFeedbackInput,
    TakeFeedbackTicketInput,
)

Info = strawberry.Info[Context, None]


@strawberry.type
class FeedbackQuery:
    @strawberry.field(
        description="One ticket: its author, operators and (CONTENT_ERROR) the school's admins; else null"
    )
    async def feedback_ticket(
        self, info: Info, id: Annotated[relay.GlobalID, strawberry.argument(description="The ticket's global ID")]
    ) -> FeedbackTicket | None:
        row = await feedback.feedback_ticket(info.context, ticket_id=pk_or_none(id, "FeedbackTicket"))
        return FeedbackTicket.from_row(row) if row is not None else None

    @strawberry.field(description="The signed-in user's own tickets, newest first")
    async def my_feedback_tickets(
        self, info: Info, first: First = None, after: After = None, last: Last = None, before: Before = None
    ) -> Connection[FeedbackTicket]:
        page = await feedback.my_feedback_tickets(
            info.context, paging=PageArgs(first=first, after=after, last=last, before=before)
        )
        return to_connection(page, FeedbackTicket.from_row)

    @strawberry.field(
        description="The queue, oldest deadline first: every ticket for operators, the CONTENT_ERROR tickets about "
        "their schools for school admins; refused to anyone else"
    )
    async def feedback_tickets(
        self,
        info: Info,
        filter: Annotated[FeedbackTicketFilter | None, strawberry.argument(description="Which tickets to list")] = None,
        first: First = None,
        after: After = None,
        last: Last = None,
        before: Before = None,
    ) -> Connection[FeedbackTicket]:
        page = await feedback.feedback_tickets(
            info.context,
            status=enums.FeedbackStatus(filter.status) if filter and filter.status is not None else None,
            category=enums.FeedbackCategory(filter.category) if filter and filter.category is not None else None,
            overdue=filter.overdue if filter else None,
            paging=PageArgs(first=first, after=after, last=last, before=before),
        )
        return to_connection(page, FeedbackTicket.from_row)


@strawberry.type
class FeedbackMutation:
    submit_feedback: FeedbackTicketPayload = mutation(
        feedback.submit_feedback,
        SubmitFeedbackInput,
        FeedbackTicketPayload,
        description="File a feedback ticket: a number FB-<year>-<6 digits>, an answer within 24 hours, "
        "a confirmation notice",
    )
    take_feedback_ticket: FeedbackTicketPayload = mutation(
        feedback.take_feedback_ticket,
        TakeFeedbackTicketInput,
        FeedbackTicketPayload,
        description="Take an OPEN ticket into work (IN_PROGRESS): operators, or the school's admins for its data",
    )
    answer_feedback_ticket: FeedbackTicketPayload = mutation(
        feedback.answer_feedback_ticket,
        AnswerFeedbackTicketInput,
        FeedbackTicketPayload,
        description="Answer a waiting ticket (ANSWERED); the author is notified, at the contact email too",
    )
    reopen_feedback_ticket: FeedbackTicketPayload = mutation(
        feedback.reopen_feedback_ticket,
        ReopenFeedbackTicketInput,
        FeedbackTicketPayload,
        description="The author reopens an answered ticket within 7 days of the answer (OPEN, a new deadline)",
    )
    close_feedback_ticket: FeedbackTicketPayload = mutation(
        feedback.close_feedback_ticket,
        CloseFeedbackTicketInput,
        FeedbackTicketPayload,
        description="Close an answered ticket (CLOSED): its author, or those who answer it",
    )


@strawberry.type
class FeedbackSubscription:
    @strawberry.subscription(
        description="Changes of one ticket (submitted, taken, answered, reopened, closed) for those who may read it; "
        "with no ID, of every ticket in the queue the viewer works (operators, school admins)",
        deprecation_reason="Use feedbackEvents: its events carry a cursor to resume from",
    )
    def feedback_ticket_events(
        self,
        info: Info,
        ticket_id: Annotated[
            relay.GlobalID | None, strawberry.argument(description="Only this ticket's changes")
        ] = None,
        after: Annotated[str | None, AFTER] = None,
    ) -> AsyncGenerator[FeedbackTicket, None]:
        feed = feedback.ticket_feed(info.context, ticket_id=optional_pk(ticket_id, "FeedbackTicket", field="ticketId"))
        return each(info, feed, entity(FeedbackTicket.from_row), after=after)

    @strawberry.subscription(
        description="Changes of one ticket, each with its cursor; with no ID, of every ticket in the queue the "
        "viewer works (operators, school admins)"
    )
    def feedback_events(
        self,
        info: Info,
        ticket_id: Annotated[
            relay.GlobalID | None, strawberry.argument(description="Only this ticket's changes")
        ] = None,
        after: Annotated[str | None, AFTER] = None,
    ) -> AsyncGenerator[FeedbackTicketEvent, None]:
        feed = feedback.ticket_feed(info.context, ticket_id=optional_pk(ticket_id, "FeedbackTicket", field="ticketId"))
        return each(info, feed, FeedbackTicketEvent.of, after=after)
