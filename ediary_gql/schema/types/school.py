"""The School type (minimal: identity, names, INN and status; the schools area extends it)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Self

import strawberry
from strawberry import relay

from ediary_gql.auth import policy
from ediary_gql.db.models import enums
from ediary_gql.db.models.schools import School as SchoolRow
from ediary_gql.schema.node import EntityNode

if TYPE_CHECKING:
    from ediary_gql.context import Context

SchoolStatus = strawberry.enum(enums.SchoolStatus, description="A school's registration status")


@strawberry.type(name="School", description="A school (educational organisation)")
class School(EntityNode):
    model = SchoolRow

    id: relay.NodeID[int]
    full_name: str
    short_name: str
    inn: str = strawberry.field(description="INN of the organisation (10 digits)")
    status: SchoolStatus  # type: ignore[valid-type]
    _registered_by_id: strawberry.Private[int | None]

    @classmethod
    def from_row(cls, row: Any) -> Self:
        return cls(
            id=row.id,
            full_name=row.full_name,
            short_name=row.short_name,
            inn=row.inn,
            status=enums.SchoolStatus(row.status),
            _registered_by_id=row.registered_by_id,
        )

    @classmethod
    async def visible(cls, context: Context, row: Any) -> bool:
        return policy.can_view_school(
            context.actor,
            row.id,
            is_active=row.status == enums.SchoolStatus.ACTIVE,
            registered_by_id=row.registered_by_id,
        )
