"""Root fields of the audit trail."""

from __future__ import annotations

from typing import Annotated

import strawberry

from ediary_gql.context import Context
from ediary_gql.resolvers import audit
from ediary_gql.schema.connection import After, Before, Connection, First, Last, to_connection
from ediary_gql.schema.ids import entity_filter_pk, optional_pk
from ediary_gql.schema.types.audit import AuditEntry, AuditLogFilter

Info = strawberry.Info[Context, None]


@strawberry.type
class AuditQuery:
    @strawberry.field(description="Every change, newest first: operators see all, a school's admins their school's")
    async def audit_log(
        self,
        info: Info,
        filter: Annotated[AuditLogFilter | None, strawberry.argument(description="Which entries to list")] = None,
        first: First = None,
        after: After = None,
        last: Last = None,
        before: Before = None,
    ) -> Connection[AuditEntry]:
        flt = filter or AuditLogFilter()
        entity = flt.entity_id
        page = await audit.audit_log(
            info.context,
            school_id=optional_pk(flt.school_id, "School", field="filter.schoolId"),
            actor_user_id=optional_pk(flt.actor_id, "User", field="filter.actorId"),
            entity_type=entity.type_name if entity else None,
            entity_id=entity_filter_pk(entity),
            action=flt.action,
            since=flt.since,
            until=flt.until,
            first=first,
            after=after,
            last=last,
            before=before,
        )
        return to_connection(page, AuditEntry.from_row)
