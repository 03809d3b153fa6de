"""Resolver of the audit trail query."""

from __future__ import annotations

import strawberry
from strawberry import relay

from ediary_gql.context import Context
from ediary_gql.db.models.audit import AuditEntry as AuditRow
from ediary_gql.db.pagination import PageArgs, paginate
from ediary_gql.schema.connection import Connection, to_connection
from ediary_gql.schema.node import node_pk, pk_of
from ediary_gql.schema.types.audit import AuditEntry, AuditLogFilter
from ediary_gql.services.audit import AuditFilter, audit_log_query

Info = strawberry.Info[Context, None]


def _entity_pk(entity: relay.GlobalID | None) -> int | None:
    if entity is None or not entity.node_id.isdigit():
        return None  # the type alone
    pk = node_pk(entity, entity.type_name)
    return -1 if pk is None else pk  # beyond every id: matches nothing


def _filter(flt: AuditLogFilter | None) -> AuditFilter:
    if flt is None:
        return AuditFilter()
    entity = flt.entity_id
    return AuditFilter(
        school_id=pk_of(flt.school_id, "School", field="filter.schoolId") if flt.school_id else None,
        actor_user_id=pk_of(flt.actor_id, "User", field="filter.actorId") if flt.actor_id else None,
        entity_type=entity.type_name if entity else None,
        entity_id=_entity_pk(entity),
        action=flt.action,
        since=flt.since,
        until=flt.until,
    )


async def audit_log(
    info: Info,
    filter: AuditLogFilter | None = None,
    first: int | None = None,
    after: str | None = None,
    last: int | None = None,
    before: str | None = None,
) -> Connection[AuditEntry]:
    ctx = info.context
    stmt = audit_log_query(ctx.actor, _filter(filter))
    async with ctx.session_factory() as session:
        page = await paginate(
            session,
            stmt,
            key=[AuditRow.id],
            key_of=lambda row: [row.id],
            args=PageArgs(first=first, after=after, last=last, before=before),
            page_max=ctx.settings.page_max,
            descending=True,
            count_session=ctx.session_factory,
        )
    return to_connection(page, AuditEntry.from_row)
