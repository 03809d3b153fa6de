"""Announcements: publishAnnouncement, updateAnnouncement, withdrawAnnouncement, the list
and the live feed. Inputs come decoded (schema/ids.py); results are rows, pages and feeds,
turned into types by schema/announcements.py."""

from __future__ import annotations

import datetime as dt
import functools
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from ediary_gql.auth import policy
from ediary_gql.auth.actor import Actor
from ediary_gql.context import Context
from ediary_gql.db.models.enums import AnnouncementAudience, AnnouncementKind
from ediary_gql.db.models.messages import Announcement
from ediary_gql.db.pagination import Page, PageArgs, paginate
from ediary_gql.events import channels
from ediary_gql.resolvers.loaders import LoaderKey
from ediary_gql.resolvers.streams import Feed, Heard
from ediary_gql.services import announcement_audience as audience
from ediary_gql.services import announcements as service
from ediary_gql.services.attachments import UploadedFile
from ediary_gql.storage import storage_for

NOT_ADDRESSED = "Объявления школы видят её сотрудники и семьи её учеников"


def _enum(kind: type[Any], value: Any) -> Any:
    return None if value is None else kind(getattr(value, "value", value))


async def publish_announcement(
    ctx: Context,
    session: AsyncSession,
    actor: Actor,
    *,
    school_id: int,
    audience: Any,
    class_ids: list[int] | None,
    kind: Any,
    title: str,
    text: str,
    starts_on: dt.date | None,
    ends_on: dt.date | None,
    files: list[Any],
) -> Announcement:
    data = service.AnnouncementData(
        title=title,
        text=text,
        kind=_enum(AnnouncementKind, kind),
        audience=_enum(AnnouncementAudience, audience),
        class_ids=class_ids or [],
        starts_on=starts_on,
        ends_on=ends_on,
        files=[UploadedFile.of(f) for f in files],
    )
    return await service.publish_announcement(
        session,
        actor=actor,
        school_id=school_id,
        data=data,
        storage=storage_for(ctx.settings.upload_dir),
        settings=ctx.settings,
    )


async def update_announcement(
    ctx: Context,
    session: AsyncSession,
    actor: Actor,
    *,
    announcement_id: int,
    audience: Any = None,
    class_ids: list[int] | None = None,
    kind: Any = None,
    title: str | None = None,
    text: str | None = None,
    starts_on: dt.date | None = None,
    ends_on: dt.date | None = None,
    open_ended: bool = False,
) -> Announcement:
    data = service.AnnouncementData(
        title=title,
        text=text,
        kind=_enum(AnnouncementKind, kind),
        audience=_enum(AnnouncementAudience, audience),
        class_ids=class_ids,
        starts_on=starts_on,
        ends_on=ends_on,
        clear_ends_on=open_ended,
    )
    return await service.update_announcement(session, actor=actor, announcement_id=announcement_id, data=data)


async def withdraw_announcement(
    ctx: Context, session: AsyncSession, actor: Actor, *, announcement_id: int
) -> Announcement:
    return await service.withdraw_announcement(session, actor=actor, announcement_id=announcement_id)


# --- reading ------------------------------------------------------------------------------


# The viewer's reader facts, read once per request (or subscription event) however many
# announcements node(id:)/nodes(ids:) check.
_READER: LoaderKey[int, policy.AnnouncementReader] = LoaderKey("announcements.reader")


async def _reader(ctx: Context, actor: Actor) -> policy.AnnouncementReader:
    async def batch(keys: list[int]) -> list[policy.AnnouncementReader]:
        async with ctx.session_factory() as session:
            found = await audience.reader_facts(session, actor)
        return [found for _ in keys]

    return await ctx.loaders.get(_READER, batch).load(actor.user_id)


async def may_view(ctx: Context, row: Announcement) -> bool:
    """node(id:) and nodes(ids:): the policy's rule, its facts read through the request's
    loaders (the statements do not grow with the announcements asked for)."""
    if ctx.actor is None:
        return False
    class_ids = await ctx.loaders.grouped(audience.classes_of).load(row.id)
    return policy.can_view_announcement(ctx.actor, audience.facts(row, class_ids), await _reader(ctx, ctx.actor))


async def announcements(
    ctx: Context,
    *,
    kind: Any,
    from_date: dt.date | None,
    to_date: dt.date | None,
    class_id: int | None,
    school_id: int | None,
    paging: PageArgs,
) -> Page[Any]:
    """Standing announcements addressed to the viewer, the latest start first."""
    actor = policy.require_actor(ctx.actor)
    flt = service.Filter(
        kind=_enum(AnnouncementKind, kind), from_date=from_date, to_date=to_date, class_id=class_id, school_id=school_id
    )
    async with ctx.session_factory() as session:
        stmt = await service.visible_query(session, actor=actor, flt=flt)
        return await paginate(
            session,
            stmt,
            key=[Announcement.starts_on, Announcement.id],
            key_of=lambda row: [row.starts_on, row.id],
            args=paging,
            page_max=ctx.settings.page_max,
            descending=True,
            count_session=ctx.session_factory,
        )


# --- live ---------------------------------------------------------------------------------


def events_feed(ctx: Context, *, school_id: int) -> Feed[tuple[Announcement, str]]:
    """Published, updated and withdrawn announcements of a school, each sent only to
    those it is addressed to (a withdrawn one: to those it was addressed to)."""
    return Feed(
        channels=[channels.school_announcements(school_id)],
        may_follow=functools.partial(_may_follow, school_id=school_id),
        read=_changed,
        refused=NOT_ADDRESSED,
    )


async def _may_follow(ctx: Context, *, school_id: int) -> bool:
    actor = policy.require_actor(ctx.actor)
    async with ctx.session_factory() as session:
        reader = await audience.reader_facts(session, actor)
    return policy.may_follow_school_announcements(actor, school_id=school_id, reader=reader)


async def _changed(ctx: Context, heard: Heard) -> tuple[Announcement, str] | None:
    changed = heard.event.get("announcement_id")
    action = heard.event.get("action")
    if not isinstance(changed, int) or not isinstance(action, str):
        return None
    actor = policy.require_actor(ctx.actor)
    async with ctx.session_factory() as session:
        row = await session.get(Announcement, changed)
        if row is None:
            return None
        class_ids = [c for _, c in await audience.classes_of(session, [row.id])]
        reader = await audience.reader_facts(session, actor)
    if not policy.is_announcement_addressed(actor, audience.facts(row, class_ids), reader):
        return None
    return row, action
