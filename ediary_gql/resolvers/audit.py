"""The audit trail query: a page of entries the viewer may read, newest first."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

from ediary_gql.db.pagination import Page, PageArgs
from ediary_gql.resolvers import pages
from ediary_gql.services.audit import LOG_KEY, AuditFilter, audit_log_query

if TYPE_CHECKING:
    from ediary_gql.context import Context


async def audit_log(
    ctx: Context,
    *,
    school_id: int | None,
    actor_user_id: int | None,
    entity_type: str | None,
    entity_id: int | None,
    action: str | None,
    since: dt.datetime | None,
    until: dt.datetime | None,
    first: int | None,
    after: str | None,
    last: int | None,
    before: str | None,
) -> Page[Any]:
    stmt = audit_log_query(
        ctx.actor,
        AuditFilter(
            school_id=school_id,
            actor_user_id=actor_user_id,
            entity_type=entity_type,
            entity_id=entity_id,
            action=action,
            since=since,
            until=until,
        ),
    )
    return await pages.page(
        ctx,
        stmt,
        PageArgs(first=first, after=after, last=last, before=before),
        key=LOG_KEY,
        key_of=lambda row: [row.created_at, row.id],
        descending=True,
    )
