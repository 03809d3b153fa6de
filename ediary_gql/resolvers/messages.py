"""Messages: startThread, sendMessage, markThreadRead, leaveThread, the thread lists and
the live feeds. Inputs come decoded; results are rows, pages and feeds, turned into types
by schema/messages.py."""

from __future__ import annotations

import dataclasses
import functools
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from ediary_gql.auth import policy
from ediary_gql.auth.actor import Actor
from ediary_gql.context import Context
from ediary_gql.db.models.messages import Message, Thread, ThreadParticipant
from ediary_gql.db.pagination import Page, PageArgs, check_args, decode_cursor, page_of
from ediary_gql.errors import DomainError, ErrorCode
from ediary_gql.events import channels
from ediary_gql.resolvers import pages
from ediary_gql.resolvers.loaders import LoaderKey
from ediary_gql.resolvers.streams import Feed, Heard
from ediary_gql.services import messaging as service
from ediary_gql.services.attachments import UploadedFile
from ediary_gql.storage import storage_for

NOT_YOURS = service.NOT_YOURS

FAMILY_SCHOOLS: LoaderKey[int, frozenset[int]] = LoaderKey("messages.family_schools")
UNREAD: LoaderKey[int, int] = LoaderKey("messages.unread")
MESSAGE_PAGES: LoaderKey[service.MessagePageKey, list[Message]] = LoaderKey("messages.pages")


@dataclasses.dataclass(frozen=True, slots=True)
class ThreadStarted:
    thread: Thread
    message: Message


@dataclasses.dataclass(frozen=True, slots=True)
class ThreadEvent:
    """Something that happened in a thread: `action` and, for a new message, the message."""

    thread: Thread
    action: str
    message: Message | None
    user_id: int | None


def _message(text: str, files: list[Any] | None) -> service.NewMessage:
    return service.NewMessage(text=text, files=[UploadedFile.of(f) for f in files or []])


async def start_thread(
    ctx: Context,
    session: AsyncSession,
    actor: Actor,
    *,
    subject: str,
    child_id: int | None,
    class_id: int | None,
    participant_ids: list[int],
    text: str,
    files: list[Any],
) -> ThreadStarted:
    thread, message = await service.start_thread(
        session,
        actor=actor,
        subject=subject,
        child_id=child_id,
        class_id=class_id,
        participant_ids=participant_ids,
        message=_message(text, files),
        storage=storage_for(ctx.settings.upload_dir),
        settings=ctx.settings,
    )
    return ThreadStarted(thread=thread, message=message)


async def send_message(
    ctx: Context, session: AsyncSession, actor: Actor, *, thread_id: int, text: str, files: list[Any]
) -> Message:
    return await service.send_message(
        session,
        actor=actor,
        thread_id=thread_id,
        message=_message(text, files),
        storage=storage_for(ctx.settings.upload_dir),
        settings=ctx.settings,
    )


async def mark_thread_read(ctx: Context, session: AsyncSession, actor: Actor, *, thread_id: int) -> Thread:
    return await service.mark_thread_read(session, actor=actor, thread_id=thread_id)


async def leave_thread(ctx: Context, session: AsyncSession, actor: Actor, *, thread_id: int) -> Thread:
    return await service.leave_thread(session, actor=actor, thread_id=thread_id)


# --- reading ------------------------------------------------------------------------------


async def family_schools(ctx: Context) -> frozenset[int]:
    """Schools of the viewer's wards (or own child), once per request."""
    actor = policy.require_actor(ctx.actor)

    async def batch(keys: list[int]) -> list[frozenset[int]]:
        async with ctx.session_factory() as session:
            found = await service.family_school_ids(session, actor)
        return [found for _ in keys]

    return await ctx.loaders.get(FAMILY_SCHOOLS, batch).load(actor.user_id)


async def member(ctx: Context, thread_id: int) -> ThreadParticipant | None:
    actor = policy.require_actor(ctx.actor)
    for p in await ctx.loaders.grouped(service.participants).load(thread_id):
        if p.user_id == actor.user_id:
            return p
    return None


async def may_view(ctx: Context, row: Thread) -> bool:
    if ctx.actor is None:
        return False
    me = await member(ctx, row.id)
    return policy.can_view_thread(
        ctx.actor,
        school_id=row.school_id,
        participant=me is not None,
        left=me is not None and me.left_at is not None,
        family_school_ids=await family_schools(ctx),
    )


async def thread(ctx: Context, *, thread_id: int | None) -> Thread | None:
    policy.require_actor(ctx.actor)
    if thread_id is None:
        return None
    row = await ctx.loaders.by_id(Thread).load(thread_id)
    return row if row is not None and await may_view(ctx, row) else None


async def threads(
    ctx: Context,
    *,
    unread: bool | None,
    child_id: int | None,
    class_id: int | None,
    paging: PageArgs,
) -> Page[Any]:
    """The viewer's threads, newest activity first (keyset: last message time, id)."""
    actor = policy.require_actor(ctx.actor)
    stmt = service.threads_query(
        actor, family_schools=await family_schools(ctx), unread=unread, child_id=child_id, class_id=class_id
    )
    return await pages.page(
        ctx,
        stmt,
        paging,
        key=[Thread.last_message_at, Thread.id],
        key_of=lambda row: [row.last_message_at, row.id],
        descending=True,
    )


async def messages(ctx: Context, thread_id: int, *, paging: PageArgs) -> Page[Any]:
    """A thread's messages, newest first (keyset by id); the caller checked the thread.
    Pages of every thread on a list are read together (`service.message_pages`)."""
    size, backwards = check_args(paging, ctx.settings.page_max)
    after_id = _message_cursor(paging.after, "after")
    before_id = _message_cursor(paging.before, "before")
    key = service.MessagePageKey(
        thread_id=thread_id, size=size, after_id=after_id, before_id=before_id, backwards=backwards
    )

    async def batch(keys: list[service.MessagePageKey]) -> list[list[Message]]:
        async with ctx.session_factory() as session:
            found = await service.message_pages(session, keys)
        return [found[k] for k in keys]

    fetched = await ctx.loaders.get(MESSAGE_PAGES, batch).load(key)

    async def count() -> int:
        async with ctx.session_factory() as session:
            return await service.message_count(session, thread_id)

    return page_of(fetched, size=size, args=paging, key_of=lambda r: [r.id], count=count)


def _message_cursor(cursor: str | None, argument: str) -> int | None:
    value = None if cursor is None else decode_cursor(cursor, 1, argument)[0]
    if value is not None and (isinstance(value, bool) or not isinstance(value, int)):
        raise DomainError(ErrorCode.INVALID, "Некорректный курсор", field=argument)
    return value


async def unread_count(ctx: Context, thread_id: int) -> int:
    actor = policy.require_actor(ctx.actor)

    async def batch(ids: list[int]) -> list[int]:
        async with ctx.session_factory() as session:
            found = await service.unread_counts(session, actor.user_id, ids)
        return [found.get(i, 0) for i in ids]

    return await ctx.loaders.get(UNREAD, batch).load(thread_id)


async def unread_total(ctx: Context, user_id: int) -> int | None:
    """User.unreadMessageCount: the user's own only."""
    if ctx.actor is None or ctx.actor.user_id != user_id:
        return None
    async with ctx.session_factory() as session:
        return await service.unread_total(session, ctx.actor)


async def participants(ctx: Context, thread_id: int) -> list[ThreadParticipant]:
    return [p for p in await ctx.loaders.grouped(service.participants).load(thread_id) if p.left_at is None]


async def message_attachments(ctx: Context, message_id: int) -> list[Any]:
    return await ctx.loaders.grouped(service.attachments).load(message_id)


# --- live -----------------------------------------------------------------------------------


def thread_feed(*, thread_id: int) -> Feed[ThreadEvent]:
    """Everything in one thread: its participants who have not left, while still tied to its school."""
    return Feed(
        channels=[channels.thread_messages(thread_id)],
        may_follow=functools.partial(_may_follow_thread, thread_id=thread_id),
        read=_event,
        refused=NOT_YOURS,
    )


def message_feed(ctx: Context) -> Feed[ThreadEvent]:
    """New messages in any of the viewer's threads (each checked as it comes)."""
    actor = policy.require_actor(ctx.actor)
    return Feed(
        channels=[channels.user_messages(actor.user_id)],
        may_follow=_may_follow_any,
        read=_visible_event,
        refused=NOT_YOURS,
    )


async def _may_follow_thread(ctx: Context, *, thread_id: int) -> bool:
    row = await ctx.loaders.by_id(Thread).load(thread_id)
    return row is not None and await may_view(ctx, row)


async def _may_follow_any(ctx: Context) -> bool:
    actor = policy.require_actor(ctx.actor)
    return not (actor.is_operator and not actor.memberships)


async def _event(ctx: Context, heard: Heard) -> ThreadEvent | None:
    thread_id = heard.event.get("thread_id")
    if not isinstance(thread_id, int):
        return None
    row = await ctx.loaders.by_id(Thread).load(thread_id)
    if row is None:
        return None
    message_id = heard.event.get("message_id")
    message = await ctx.loaders.by_id(Message).load(message_id) if isinstance(message_id, int) else None
    user_id = heard.event.get("user_id")
    return ThreadEvent(
        thread=row,
        action=str(heard.event.get("action")),
        message=message,
        user_id=user_id if isinstance(user_id, int) else None,
    )


async def _visible_event(ctx: Context, heard: Heard) -> ThreadEvent | None:
    found = await _event(ctx, heard)
    if found is None or not await may_view(ctx, found.thread):
        return None
    return found
