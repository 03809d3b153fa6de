"""The change feed: a page of a school's changes (`changes`) and the same live
(`changeEvents`), for its admins and its integration with events:read."""

from __future__ import annotations

import functools
from collections.abc import Sequence
from typing import TYPE_CHECKING

from ediary_gql.auth import policy
from ediary_gql.db.base import utcnow
from ediary_gql.resolvers.streams import Feed, Heard
from ediary_gql.services import changes as service

if TYPE_CHECKING:
    from ediary_gql.context import Context


async def changes(
    ctx: Context, *, school_id: int | None, after: str | None, first: int, types: Sequence[service.ChangeType] | None
) -> service.ChangePage:
    actor = policy.require_actor(ctx.actor)
    return await service.read_changes(
        ctx.session_factory,
        ctx.read_session_factory,
        actor=actor,
        school_id=school_id,
        after=after,
        first=first,
        types=types,
    )


def changes_feed(
    ctx: Context, *, school_id: int | None, types: Sequence[service.ChangeType] | None
) -> Feed[service.Change]:
    """The school's changes as they commit (the one named, else the viewer's own)."""
    actor = policy.require_actor(ctx.actor)
    policy.require_confirmed(actor)
    school = service.feed_school(actor, school_id)
    return Feed(
        channels=service.channels_of(school, types),
        may_follow=functools.partial(_may_read, school_id=school),
        read=_change,
        refused=service.REFUSED,
    )


async def _may_read(ctx: Context, *, school_id: int) -> bool:
    return policy.can_read_changes(ctx.actor, school_id)


async def _change(ctx: Context, heard: Heard) -> service.Change | None:
    """The change itself is the whole item: nothing to read (the record is read, by its
    own rules, only if the client selects it)."""
    kind = heard.event.get("kind")
    return service.change_from(heard.position, str(kind), heard.event, heard.occurred_at or utcnow())
