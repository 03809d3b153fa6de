"""Subject and ControlType (контрольная, самостоятельная, … with a weight)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Self

import strawberry
from strawberry import relay

from ediary_gql.db.models.classes import Subject as SubjectRow
from ediary_gql.db.models.grades import ControlType as ControlTypeRow
from ediary_gql.resolvers import school_structure
from ediary_gql.schema.node import EntityNode
from ediary_gql.services.school_setup.subjects import DEFAULT_CONTROL_CODES

if TYPE_CHECKING:
    from ediary_gql.context import Context


@strawberry.type(name="Subject", description="A subject taught at a school")
class Subject(EntityNode):
    model = SubjectRow

    id: relay.NodeID[int]
    name: str = strawberry.field(description="The name people see")
    short_name: str | None = strawberry.field(description="Short name, as shown in lists")
    sourced_id: str | None = strawberry.field(description="The school's external ID (roster imports)")
    _school_id: strawberry.Private[int]

    @classmethod
    def from_row(cls, row: Any) -> Self:
        return cls(
            id=row.id,
            name=row.name,
            short_name=row.short_name,
            sourced_id=row.external_id,
            _school_id=row.school_id,
        )

    @classmethod
    async def visible(cls, context: Context, row: Any) -> bool:
        return await school_structure.may_view_school_structure(context, row.school_id)


@strawberry.type(name="ControlType", description="A kind of graded work, with its weight in weighted averages")
class ControlType(EntityNode):
    model = ControlTypeRow

    id: relay.NodeID[int]
    code: str = strawberry.field(description="Stable code of the kind of work")
    name: str = strawberry.field(description="The name people see")
    weight: float = strawberry.field(description="Weight of its grades in weighted averages")
    is_default: bool = strawberry.field(description="One of the defaults every school starts with")
    _school_id: strawberry.Private[int | None]

    @classmethod
    def from_row(cls, row: Any) -> Self:
        return cls(
            id=row.id,
            code=row.code,
            name=row.name,
            weight=float(row.weight),
            # a school holds its own rows of the defaults, made with it
            is_default=row.school_id is None or row.code in DEFAULT_CONTROL_CODES,
            _school_id=row.school_id,
        )

    @classmethod
    async def visible(cls, context: Context, row: Any) -> bool:
        if row.school_id is None:
            return context.actor is not None
        return await school_structure.may_view_school_structure(context, row.school_id)
