"""SchoolClass ("5А") and TeachingAssignment (teacher × class × subject)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any, Self

import strawberry
from strawberry import relay

from ediary_gql.auth import policy
from ediary_gql.db.models.calendar import AcademicYear as AcademicYearRow
from ediary_gql.db.models.classes import SchoolClass as SchoolClassRow
from ediary_gql.db.models.classes import Subject as SubjectRow
from ediary_gql.db.models.classes import TeachingAssignment as TeachingAssignmentRow
from ediary_gql.db.models.users import User as UserRow
from ediary_gql.resolvers import school_setup_fields as fields
from ediary_gql.schema.node import EntityNode
from ediary_gql.schema.types.academic_year import AcademicYear
from ediary_gql.schema.types.subject import Subject
from ediary_gql.schema.types.user import User

if TYPE_CHECKING:
    from ediary_gql.context import Context
    from ediary_gql.schema.types.child import Child


async def _visible_user(info: strawberry.Info[Context, None], user_id: int | None) -> User | None:
    if user_id is None:
        return None
    row = await info.context.loaders.by_id(UserRow).load(user_id)
    if row is None or not await User.visible(info.context, row):
        return None
    return User.from_row(row)


@strawberry.type(name="SchoolClass", description='A class of a school in an academic year, e.g. "5А"')
class SchoolClass(EntityNode):
    model = SchoolClassRow

    id: relay.NodeID[int]
    level: int = strawberry.field(description="Grade level, 1 to 11")
    letter: str = strawberry.field(description="One capital Cyrillic letter")
    sourced_id: str | None = strawberry.field(description="The school's external ID (roster imports)")
    _school_id: strawberry.Private[int]
    _academic_year_id: strawberry.Private[int]
    _homeroom_teacher_id: strawberry.Private[int | None]

    @classmethod
    def from_row(cls, row: Any) -> Self:
        return cls(
            id=row.id,
            level=row.level,
            letter=row.letter,
            sourced_id=row.external_id,
            _school_id=row.school_id,
            _academic_year_id=row.academic_year_id,
            _homeroom_teacher_id=row.homeroom_teacher_id,
        )

    @classmethod
    async def visible(cls, context: Context, row: Any) -> bool:
        return await fields.may_view_school_structure(context, row.school_id)

    @strawberry.field(description='Level and letter, e.g. "5А"')
    def name(self) -> str:
        return f"{self.level}{self.letter}"

    @strawberry.field(description="The academic year of the class")
    async def academic_year(self, info: strawberry.Info[Context, None]) -> AcademicYear:
        row = await info.context.loaders.by_id(AcademicYearRow).load(self._academic_year_id)
        assert row is not None  # noqa: S101 - a foreign key
        return AcademicYear.from_row(row)

    @strawberry.field(description="The homeroom teacher (классный руководитель); null if none or not yours to see")
    async def homeroom_teacher(self, info: strawberry.Info[Context, None]) -> User | None:
        return await _visible_user(info, self._homeroom_teacher_id)

    @strawberry.field(description="Children enrolled today, by name; school staff only (null for others)")
    async def children(
        self, info: strawberry.Info[Context, None]
    ) -> list[Annotated[Child, strawberry.lazy("ediary_gql.schema.types.child")]] | None:
        from ediary_gql.schema.types.child import Child

        if not policy.can_view_class_roster(info.context.actor, self._school_id):
            return None
        return [Child.from_row(r) for r in await fields.class_children(info.context, self.id)]

    @strawberry.field(description="Who teaches which subject in this class")
    async def teachers(self, info: strawberry.Info[Context, None]) -> list[TeachingAssignment]:
        return [TeachingAssignment.from_row(r) for r in await fields.class_assignments(info.context, self.id)]


@strawberry.type(name="TeachingAssignment", description="A teacher teaches a subject in a class")
class TeachingAssignment(EntityNode):
    model = TeachingAssignmentRow

    id: relay.NodeID[int]
    _teacher_id: strawberry.Private[int]
    _class_id: strawberry.Private[int]
    _subject_id: strawberry.Private[int]

    @classmethod
    def from_row(cls, row: Any) -> Self:
        return cls(id=row.id, _teacher_id=row.teacher_id, _class_id=row.class_id, _subject_id=row.subject_id)

    @classmethod
    async def visible(cls, context: Context, row: Any) -> bool:
        klass = await context.loaders.by_id(SchoolClassRow).load(row.class_id)
        return klass is not None and await fields.may_view_school_structure(context, klass.school_id)

    @strawberry.field(description="The teacher; null if not yours to see")
    async def teacher(self, info: strawberry.Info[Context, None]) -> User | None:
        return await _visible_user(info, self._teacher_id)

    @strawberry.field(description="The class")
    async def school_class(self, info: strawberry.Info[Context, None]) -> SchoolClass:
        row = await info.context.loaders.by_id(SchoolClassRow).load(self._class_id)
        assert row is not None  # noqa: S101 - a foreign key
        return SchoolClass.from_row(row)

    @strawberry.field(description="The subject")
    async def subject(self, info: strawberry.Info[Context, None]) -> Subject:
        row = await info.context.loaders.by_id(SubjectRow).load(self._subject_id)
        assert row is not None  # noqa: S101 - a foreign key
        return Subject.from_row(row)
