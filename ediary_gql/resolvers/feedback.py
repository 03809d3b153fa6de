"""Feedback tickets: submitFeedback and the steps of working a ticket, the queue and the
author's own list, and the fields of a ticket that need rows (files, link summaries).
Inputs come decoded (schema/ids.py); results are rows and pages, turned into types by
schema/feedback.py."""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy.ext.asyncio import AsyncSession

from ediary_gql.auth import policy
from ediary_gql.auth.actor import Actor
from ediary_gql.db.models.attachments import Attachment
from ediary_gql.db.models.enums import FeedbackCategory, FeedbackStatus
from ediary_gql.db.models.feedback import FeedbackTicket
from ediary_gql.db.pagination import Page, PageArgs, paginate
from ediary_gql.events import channels
from ediary_gql.resolvers import pages
from ediary_gql.resolvers.loaders import LoaderKey
from ediary_gql.resolvers.streams import Feed, Heard
from ediary_gql.services import feedback as service
from ediary_gql.services import feedback_links
from ediary_gql.services.attachments import UploadedFile
from ediary_gql.storage import storage_for

if TYPE_CHECKING:
    from ediary_gql.context import Context


async def submit_feedback(
    ctx: Context,
    session: AsyncSession,
    actor: Actor,
    *,
    category: FeedbackCategory,
    subject: str,
    description: str,
    contact_email: str | None,
    link_ids: list[Any],  # global IDs of records of several types
    files: list[Any],
) -> FeedbackTicket:
    data = service.FeedbackData(
        category=FeedbackCategory(category),
        subject=subject,
        description=description,
        contact_email=contact_email,
        # the service decodes and checks each (its type, and that the author may see it)
        link_ids=[str(link) for link in link_ids],
        files=[UploadedFile.of(f) for f in files],
    )
    return await service.submit_feedback(
        session, actor=actor, data=data, storage=storage_for(ctx.settings.upload_dir), settings=ctx.settings
    )


async def take_feedback_ticket(ctx: Context, session: AsyncSession, actor: Actor, *, ticket_id: int) -> FeedbackTicket:
    return await service.take_feedback_ticket(session, actor=actor, ticket_id=ticket_id)


async def answer_feedback_ticket(
    ctx: Context, session: AsyncSession, actor: Actor, *, ticket_id: int, answer: str
) -> FeedbackTicket:
    return await service.answer_feedback_ticket(session, actor=actor, ticket_id=ticket_id, answer=answer)


async def reopen_feedback_ticket(
    ctx: Context, session: AsyncSession, actor: Actor, *, ticket_id: int
) -> FeedbackTicket:
    return await service.reopen_feedback_ticket(session, actor=actor, ticket_id=ticket_id)


async def close_feedback_ticket(ctx: Context, session: AsyncSession, actor: Actor, *, ticket_id: int) -> FeedbackTicket:
    return await service.close_feedback_ticket(session, actor=actor, ticket_id=ticket_id)


# --- reading ------------------------------------------------------------------------------


def may_view(actor: Actor | None, row: FeedbackTicket) -> bool:
    return service.may_view(actor, row)


async def feedback_ticket(ctx: Context, *, ticket_id: int | None) -> FeedbackTicket | None:
    """One ticket; None when absent (or no ticket's ID) or not the viewer's to see."""
    actor = policy.require_actor(ctx.actor)
    if ticket_id is None:
        return None
    row = await ctx.loaders.by_id(FeedbackTicket).load(ticket_id)
    return row if row is not None and may_view(actor, row) else None


async def my_feedback_tickets(ctx: Context, *, paging: PageArgs) -> Page[Any]:
    actor = policy.require_actor(ctx.actor)
    return await pages.page(ctx, service.own_tickets_query(actor), paging, descending=True)


async def feedback_tickets(
    ctx: Context,
    *,
    status: FeedbackStatus | None,
    category: FeedbackCategory | None,
    overdue: bool | None,
    paging: PageArgs,
) -> Page[Any]:
    """The queue of the tickets the actor works, oldest deadline first (FORBIDDEN for
    anyone who works none: neither an operator nor a school's admin)."""
    actor = policy.require_actor(ctx.actor)
    stmt = service.queue_query(actor, service.QueueFilter(status=status, category=category, overdue=overdue))
    async with ctx.session_factory() as session:
        return await paginate(
            session,
            stmt,
            key=[FeedbackTicket.answer_due_at, FeedbackTicket.id],
            key_of=lambda row: [row.answer_due_at, row.id],
            args=paging,
            page_max=ctx.settings.page_max,
            count_session=ctx.session_factory,
        )


# --- live changes ---------------------------------------------------------------------------

NOT_YOURS = "Следить можно за своим обращением или за очередью, которую вы разбираете"


def ticket_feed(ctx: Context, *, ticket_id: int | None) -> Feed[FeedbackTicket]:
    """Each change of one ticket (whoever may read it: its author, operators, the school's
    admins for its data) or, with no ID, of every ticket in the queue the actor works
    (operators; school admins: CONTENT_ERROR about their schools). Rights are read anew at
    every event: an admin whose membership ended is refused, a ticket out of sight is skipped."""
    policy.require_actor(ctx.actor)
    if ticket_id is not None:
        return Feed(
            channels=[channels.feedback_tickets()],
            may_follow=functools.partial(_may_follow_one, ticket_id=ticket_id),
            read=functools.partial(_changed, ticket_id=ticket_id),
            refused=NOT_YOURS,
        )
    return Feed(
        channels=[channels.feedback_tickets()],
        may_follow=_may_follow_queue,
        read=functools.partial(_changed, ticket_id=None),
        refused=NOT_YOURS,
    )


async def _may_follow_one(ctx: Context, *, ticket_id: int) -> bool:
    row = await ctx.loaders.by_id(FeedbackTicket).load(ticket_id)
    return row is not None and may_view(ctx.actor, row)


async def _may_follow_queue(ctx: Context) -> bool:
    return service.works_a_queue(ctx.actor)


async def _changed(ctx: Context, heard: Heard, *, ticket_id: int | None) -> FeedbackTicket | None:
    """The ticket an event is about, as it is now, if this stream is to hear of it."""
    changed = heard.event.get("ticket_id")
    if not isinstance(changed, int) or (ticket_id is not None and changed != ticket_id):
        return None
    row = await ctx.loaders.by_id(FeedbackTicket).load(changed)
    if row is None or not may_view(ctx.actor, row):
        return None
    return row if ticket_id is not None or service.in_queue(ctx.actor, row) else None


# --- fields of a ticket -------------------------------------------------------------------


async def attachments(ctx: Context, ticket_id: int) -> list[Attachment]:
    return await ctx.loaders.grouped(service.attachments).load(ticket_id)


@dataclass(frozen=True, slots=True)
class Link:
    """A linked record as a ticket's readers see it."""

    type_name: str
    pk: int
    summary: str


_SUMMARIES: LoaderKey[feedback_links.LinkRef, str] = LoaderKey("feedback.link_summaries")


async def links(ctx: Context, row: FeedbackTicket) -> list[Link]:
    """The ticket's links with their summaries, for whoever may read the ticket (the type
    is only built for them); every ticket's links on a page are read in one batch."""

    async def batch(refs: list[feedback_links.LinkRef]) -> Sequence[str]:
        async with ctx.session_factory() as session:
            return await feedback_links.summaries(session, refs)

    refs = service.links_of(row)
    found = await ctx.loaders.get(_SUMMARIES, batch).load_many(refs)
    return [Link(type_name=r.type_name, pk=r.pk, summary=s) for r, s in zip(refs, found, strict=True)]


def available_actions(ctx: Context, row: FeedbackTicket) -> list[str]:
    return service.available_actions(ctx.actor, row)


def is_overdue(row: FeedbackTicket) -> bool:
    return service.is_overdue(row)
