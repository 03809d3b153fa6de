"""The AuditEntry type: one change, who made it, before and after."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any, Self, cast

import strawberry
from strawberry import relay
from strawberry.scalars import JSON

from ediary_gql.auth import policy
from ediary_gql.db.models.audit import AuditEntry as AuditRow
from ediary_gql.db.models.users import User as UserRow
from ediary_gql.schema.node import EntityNode
from ediary_gql.schema.types.user import User

if TYPE_CHECKING:
    from ediary_gql.context import Context


@strawberry.type(name="AuditEntry", description="A change to the data: who, what, when, from where, before and after")
class AuditEntry(EntityNode):
    model = AuditRow

    id: relay.NodeID[int]
    action: str = strawberry.field(description="The mutation or workflow, e.g. signIn, reviewStaffBinding")
    entity_type: str = strawberry.field(description="Type of the changed record, as in its global ID")
    ip: str | None = strawberry.field(description="Address the request came from")
    request_id: str | None = strawberry.field(description="ID of the request that made the change, as in the logs")
    created_at: dt.datetime = strawberry.field(description="When the audit entry was created")
    _before: strawberry.Private[Any]
    _after: strawberry.Private[Any]
    _entity_id: strawberry.Private[int | None]
    _actor_user_id: strawberry.Private[int | None]
    _school_id: strawberry.Private[int | None]

    def _values(self, info: strawberry.Info[Context, None], values: Any) -> JSON | None:
        if values is None:
            return None
        if policy.can_read_audit_values(info.context.actor, action=self.action, school_id=self._school_id):
            return cast(JSON, values)
        return cast(JSON, _masked(values))

    @strawberry.field(description="The data before the change (diary values masked for operators)")
    def before(self, info: strawberry.Info[Context, None]) -> JSON | None:
        return self._values(info, self._before)

    @strawberry.field(description="The data after the change (diary values masked for operators)")
    def after(self, info: strawberry.Info[Context, None]) -> JSON | None:
        return self._values(info, self._after)

    @strawberry.field(description="Global ID of the changed entity")
    def entity_id(self) -> relay.GlobalID | None:
        return None if self._entity_id is None else relay.GlobalID(self.entity_type, str(self._entity_id))

    @strawberry.field(description="Global ID of the school the change belongs to")
    def school_id(self) -> relay.GlobalID | None:
        return None if self._school_id is None else relay.GlobalID("School", str(self._school_id))

    @strawberry.field(description="Who made the change; null for the system")
    async def actor(self, info: strawberry.Info[Context, None]) -> User | None:
        if self._actor_user_id is None:
            return None
        row = await info.context.loaders.by_id(UserRow).load(self._actor_user_id)
        return User.from_row(row) if row else None

    @classmethod
    def from_row(cls, row: Any) -> Self:
        return cls(
            id=row.id,
            action=row.action,
            entity_type=row.entity_type,
            _before=row.before,
            _after=row.after,
            ip=row.ip,
            request_id=row.request_id,
            created_at=row.created_at,
            _entity_id=row.entity_id,
            _actor_user_id=row.actor_user_id,
            _school_id=row.school_id,
        )

    @classmethod
    async def visible(cls, context: Context, row: Any) -> bool:
        return policy.can_view_audit_entry(context.actor, school_id=row.school_id)


MASK = "***"


def _masked(value: Any) -> Any:
    """The same shape with every value hidden: which fields changed shows, not to what."""
    if isinstance(value, dict):
        return {key: _masked(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_masked(item) for item in value]
    return None if value is None else MASK


@strawberry.input(description="Narrow the audit trail; all given conditions must hold")
class AuditLogFilter:
    school_id: relay.GlobalID | None = strawberry.field(default=None, description="Only those of this school")
    actor_id: relay.GlobalID | None = strawberry.field(default=None, description="Only changes made by this user")
    entity_id: relay.GlobalID | None = strawberry.field(default=None, description="Changes of one entity")
    action: str | None = strawberry.field(
        default=None, description="Only entries of this operation (the mutation's name)"
    )
    since: dt.datetime | None = strawberry.field(default=None, description="Only entries from this moment on")
    until: dt.datetime | None = strawberry.field(default=None, description="Only entries before this moment")
