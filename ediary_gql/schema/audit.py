"""Root fields of the audit trail."""

from __future__ import annotations

import strawberry

from ediary_gql.resolvers import audit
from ediary_gql.schema.connection import Connection
from ediary_gql.schema.types.audit import AuditEntry


@strawberry.type
class AuditQuery:
    audit_log: Connection[AuditEntry] = strawberry.field(
        resolver=audit.audit_log,
        description="Every change, newest first: operators see all, a school's admins their school's",
    )
